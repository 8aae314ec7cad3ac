-- What footage is about (rule B, Art. 6; Annex 1): a clip's enforcement category, matter and
-- step (a row of the checklist, footage.checklist, by its code), free tags and a note. Every
-- change is a 'clip.tagged' ledger event holding the old and the new values.

ALTER TABLE clips ADD COLUMN category TEXT;        -- 行政检查 / 行政处罚 / 行政强制
ALTER TABLE clips ADD COLUMN matter TEXT;          -- 执法事项, as written
ALTER TABLE clips ADD COLUMN step TEXT;            -- checklist code: seizure, hearing, ...
ALTER TABLE clips ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX clips_category ON clips(category);
CREATE INDEX clips_step ON clips(step);

-- What a checkout's footage will be about, when the task says so at checkout ('checkout
-- --step …'): JSON {category, matter, step, tags}; applied to its clips at check-in.
ALTER TABLE checkouts ADD COLUMN footage TEXT;

CREATE TABLE clip_tags (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    tag     TEXT NOT NULL,
    PRIMARY KEY (clip_id, tag)
);
CREATE INDEX clip_tags_tag ON clip_tags(tag);

-- Steps a case went through that call for a recording under the checklist (a sealing or
-- seizure, a hearing, an on-site investigation record): recorded with a decision
-- ('case decide --step') or on their own ('case step'). 'case check' and the reports compare
-- them with the steps of the clips linked to the case.
CREATE TABLE case_steps (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    step        TEXT NOT NULL,                 -- checklist code
    decision_id INTEGER REFERENCES case_decisions(id),
    note        TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX case_steps_case ON case_steps(case_id);

-- Full text over notes and tags ('clips list --text'). The trigram tokenizer finds any
-- substring of three characters or more, which is what Chinese text without spaces needs;
-- the triggers keep it in step with clips.note and clip_tags (rowid = clip id), also when
-- rows are copied in ('avledger migrate').
CREATE VIRTUAL TABLE clip_text USING fts5(note, tags, tokenize = 'trigram');

CREATE TRIGGER clip_text_new_clip AFTER INSERT ON clips WHEN new.note != ''
BEGIN
    INSERT INTO clip_text (rowid, note, tags) VALUES (new.id, new.note, '');
END;

CREATE TRIGGER clip_text_note AFTER UPDATE OF note ON clips
BEGIN
    DELETE FROM clip_text WHERE rowid = new.id;
    INSERT INTO clip_text (rowid, note, tags) VALUES (new.id, new.note,
        (SELECT coalesce(group_concat(tag, ' '), '') FROM clip_tags WHERE clip_id = new.id));
END;

CREATE TRIGGER clip_text_tag_added AFTER INSERT ON clip_tags
BEGIN
    DELETE FROM clip_text WHERE rowid = new.clip_id;
    INSERT INTO clip_text (rowid, note, tags) VALUES (new.clip_id,
        (SELECT note FROM clips WHERE id = new.clip_id),
        (SELECT group_concat(tag, ' ') FROM clip_tags WHERE clip_id = new.clip_id));
END;

CREATE TRIGGER clip_text_tag_removed AFTER DELETE ON clip_tags
BEGIN
    DELETE FROM clip_text WHERE rowid = old.clip_id;
    INSERT INTO clip_text (rowid, note, tags) VALUES (old.clip_id,
        (SELECT note FROM clips WHERE id = old.clip_id),
        (SELECT coalesce(group_concat(tag, ' '), '') FROM clip_tags WHERE clip_id = old.clip_id));
END;
