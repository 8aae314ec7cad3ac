-- migration: rebuilds tables
-- Holds gain the reason 'legal-review' (Annex 2): the hold a major decision places on its
-- case's footage until the legal review ends. SQLite cannot change a CHECK constraint in place,
-- so the table is rebuilt with the same columns, rows and ids; references to holds(id) from
-- other tables keep pointing at the same rows.

CREATE TABLE holds_rebuilt (
    id           INTEGER PRIMARY KEY,
    scope        TEXT NOT NULL CHECK (scope IN ('clips', 'case', 'device')),
    case_id      INTEGER REFERENCES cases(id),
    device_id    INTEGER REFERENCES devices(id),
    from_ts      TEXT,                      -- device scope: recordings overlapping [from, to]
    to_ts        TEXT,
    reason       TEXT NOT NULL CHECK (reason IN ('complaint', 'obstruction', 'major-sensitive',
                                                 'litigation', 'other', 'legal-review')),
    note         TEXT NOT NULL,
    placed_at    TEXT NOT NULL,
    placed_by    TEXT NOT NULL,
    released_at  TEXT,
    released_by  TEXT,
    release_note TEXT,
    CHECK (scope != 'case' OR case_id IS NOT NULL),
    CHECK (scope != 'device' OR (device_id IS NOT NULL AND from_ts IS NOT NULL
                                 AND to_ts IS NOT NULL AND from_ts <= to_ts)),
    CHECK (reason != 'legal-review' OR scope = 'case')
);
INSERT INTO holds_rebuilt (id, scope, case_id, device_id, from_ts, to_ts, reason, note,
                           placed_at, placed_by, released_at, released_by, release_note)
    SELECT id, scope, case_id, device_id, from_ts, to_ts, reason, note,
           placed_at, placed_by, released_at, released_by, release_note FROM holds;
DROP TABLE holds;
ALTER TABLE holds_rebuilt RENAME TO holds;
CREATE INDEX holds_active ON holds(released_at, scope);
