-- Holds (rule B, Art. 16): footage under any active hold is never purged. A hold covers named
-- clips, every clip linked to a case (also those linked later), or one recorder's footage in a
-- time range. Releasing a hold deletes nothing; it only ends the protection.

CREATE TABLE holds (
    id           INTEGER PRIMARY KEY,
    scope        TEXT NOT NULL CHECK (scope IN ('clips', 'case', 'device')),
    case_id      INTEGER REFERENCES cases(id),
    device_id    INTEGER REFERENCES devices(id),
    from_ts      TEXT,                      -- device scope: recordings overlapping [from, to]
    to_ts        TEXT,
    reason       TEXT NOT NULL CHECK (reason IN ('complaint', 'obstruction', 'major-sensitive',
                                                 'litigation', 'other')),
    note         TEXT NOT NULL,
    placed_at    TEXT NOT NULL,
    placed_by    TEXT NOT NULL,
    released_at  TEXT,
    released_by  TEXT,
    release_note TEXT,
    CHECK (scope != 'case' OR case_id IS NOT NULL),
    CHECK (scope != 'device' OR (device_id IS NOT NULL AND from_ts IS NOT NULL
                                 AND to_ts IS NOT NULL AND from_ts <= to_ts))
);
CREATE INDEX holds_active ON holds(released_at, scope);

CREATE TABLE hold_clips (
    hold_id INTEGER NOT NULL REFERENCES holds(id),
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    PRIMARY KEY (hold_id, clip_id)
) WITHOUT ROWID;
CREATE INDEX hold_clips_clip ON hold_clips(clip_id);
