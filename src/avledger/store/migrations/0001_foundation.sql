-- Foundation: custody ledger, Merkle state, signed checkpoints, object registry, verify runs.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Append-only custody ledger. hash = BLAKE3(prev_hash || canonical event JSON).
CREATE TABLE ledger (
    seq       INTEGER PRIMARY KEY,
    ts        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    type      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_subject ON ledger(subject);
CREATE INDEX ledger_type ON ledger(type);
CREATE INDEX ledger_ts ON ledger(ts);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'custody ledger rows are append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'custody ledger rows are append-only'); END;

-- Size, head hash and Merkle frontier (perfect-subtree peaks) after the last event.
CREATE TABLE ledger_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    size     INTEGER NOT NULL,
    head     TEXT NOT NULL,
    frontier TEXT NOT NULL
);
INSERT INTO ledger_state (id, size, head, frontier)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', '[]');

CREATE TABLE checkpoints (
    size  INTEGER PRIMARY KEY,
    root  TEXT NOT NULL,
    head  TEXT NOT NULL,
    ts    TEXT NOT NULL,
    note  TEXT NOT NULL
);

-- Every stored object; clips and other records point here.
CREATE TABLE objects (
    digest           TEXT PRIMARY KEY,
    size             INTEGER NOT NULL,
    stored_at        TEXT NOT NULL,
    last_verified_at TEXT,
    verify_status    TEXT,
    quarantined_at   TEXT
);
CREATE INDEX objects_verified ON objects(last_verified_at);

CREATE TABLE verify_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,           -- 'store' | 'ledger'
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    checked     INTEGER NOT NULL,
    problems    INTEGER NOT NULL,
    summary     TEXT NOT NULL            -- JSON
);
