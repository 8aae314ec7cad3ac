-- Media kinds and device marks (rule B, Art. 11: photographs of key evidence beside the video).
-- A clip is a video, a photo or an audio recording, as its device profile's clips.kinds says;
-- a photo has no duration and counts in no footage hours. mark says how the recorder marked the
-- clip important (name, flag, sidecar; NULL: not marked). A marked clip gets a hold proposal that
-- a records manager confirms (a hold is placed) or dismisses; the proposal keeps both outcomes.

ALTER TABLE clips ADD COLUMN kind TEXT NOT NULL DEFAULT 'video'
    CHECK (kind IN ('video', 'photo', 'audio'));
ALTER TABLE clips ADD COLUMN mark TEXT;

CREATE TABLE hold_proposals (
    id           INTEGER PRIMARY KEY,
    clip_id      INTEGER NOT NULL UNIQUE REFERENCES clips(id),
    mark         TEXT NOT NULL,           -- name | flag | sidecar
    proposed_at  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'confirmed', 'dismissed')),
    decided_at   TEXT,
    decided_by   TEXT,
    note         TEXT,                    -- the confirmation's note or the dismissal's reason
    hold_id      INTEGER REFERENCES holds(id)
);
CREATE INDEX hold_proposals_state ON hold_proposals(state, id);
