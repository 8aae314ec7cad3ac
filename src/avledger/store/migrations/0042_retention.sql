-- Retention (rule B, Art. 15): pending-purge bookkeeping, records-manager restores, and the
-- tombstone every purge leaves behind (hash, size, metadata, who, when, why).

CREATE TABLE retention_pending (
    clip_id    INTEGER PRIMARY KEY REFERENCES clips(id),
    since      TEXT NOT NULL,               -- when it was moved to pending purge
    expired_at TEXT NOT NULL,               -- when its retention ran out
    basis      TEXT NOT NULL,               -- what set the expiry: default | case:<id> | ingested
    marked_by  TEXT NOT NULL
);

-- A restored clip is kept at least until 'until', then the sweep judges it again.
CREATE TABLE retention_keep (
    clip_id INTEGER PRIMARY KEY REFERENCES clips(id),
    until   TEXT NOT NULL,
    note    TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    kept_by TEXT NOT NULL
);

CREATE TABLE tombstones (
    id              INTEGER PRIMARY KEY,
    clip_id         INTEGER NOT NULL UNIQUE REFERENCES clips(id),
    digest          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    metadata        TEXT NOT NULL,          -- JSON: the clip row, its device, its cases
    purged_at       TEXT NOT NULL,
    purged_by       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    how             TEXT NOT NULL CHECK (how IN ('sweep', 'manual')),
    content_deleted INTEGER NOT NULL        -- 0 when another clip still shares the object
);
CREATE INDEX tombstones_digest ON tombstones(digest);

CREATE TRIGGER tombstones_no_update BEFORE UPDATE ON tombstones
BEGIN SELECT RAISE(ABORT, 'tombstones are permanent'); END;
CREATE TRIGGER tombstones_no_delete BEFORE DELETE ON tombstones
BEGIN SELECT RAISE(ABORT, 'tombstones are permanent'); END;

-- The sweep plan reads stored clips by recording time straight from this index (it covers
-- every column the plan needs), and counts clips by status.
CREATE INDEX clips_sweep ON clips(status, corrected_start, attribution, size);
