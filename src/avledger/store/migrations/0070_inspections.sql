-- Random inspections (Annex 3, "double random"): each draw, the inspections it chose, the
-- inspectors drawn for each, and the register of declared conflicts of interest.
-- A draw keeps everything needed to recompute it (the seed inputs and the canonical population,
-- roster and conflicts); 'avledger inspect verify' recomputes it and compares.

CREATE TABLE inspection_draws (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,
    round       INTEGER NOT NULL,            -- 1 = first draw of the period; n = after n-1 voids
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'void')),
    drawn_at    TEXT NOT NULL,
    drawn_by    TEXT NOT NULL,               -- ledger actor label
    inputs      TEXT NOT NULL,               -- canonical JSON the seed is derived from
    seed        TEXT NOT NULL,               -- SHA-256 of the inputs (hex)
    population  TEXT NOT NULL,               -- canonical population CSV (id,name; sorted by id)
    roster      TEXT NOT NULL,               -- canonical JSON [{badge, name}] of eligible inspectors
    conflicts   TEXT NOT NULL,               -- canonical JSON [[enterprise_id, badge]]
    source      TEXT,                        -- the population file as given (for information)
    source_sha256 TEXT,                      -- SHA-256 of that file's bytes (for information)
    event_seq   INTEGER NOT NULL,            -- the 'inspection.drawn' ledger event
    voided_at   TEXT,
    voided_by   TEXT,
    void_reason TEXT,
    void_seq    INTEGER,                     -- the 'inspection.voided' ledger event
    UNIQUE (period, round)
);
-- One live draw per period: a second one is refused unless the first was voided.
CREATE UNIQUE INDEX inspection_draws_one_active ON inspection_draws(period)
    WHERE status = 'active';

CREATE TABLE inspections (
    id              INTEGER PRIMARY KEY,
    draw_id         INTEGER NOT NULL REFERENCES inspection_draws(id),
    position        INTEGER NOT NULL,        -- draw order, from 1
    task_id         TEXT NOT NULL UNIQUE,    -- what a checkout names: 2026Q4-007
    enterprise_id   TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    UNIQUE (draw_id, position)
);

CREATE TABLE inspection_inspectors (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    slot          INTEGER NOT NULL,          -- draw order, from 1
    badge         TEXT NOT NULL,
    name          TEXT NOT NULL,
    PRIMARY KEY (inspection_id, slot)
);
CREATE INDEX inspection_inspectors_badge ON inspection_inspectors(badge);

-- Declared conflicts of interest: this inspector must not inspect that enterprise.
CREATE TABLE inspection_conflicts (
    id            INTEGER PRIMARY KEY,
    badge         TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    note          TEXT NOT NULL,
    added_at      TEXT NOT NULL,
    added_by      TEXT NOT NULL,
    removed_at    TEXT,
    removed_by    TEXT,
    removal_note  TEXT
);
CREATE UNIQUE INDEX inspection_conflicts_active ON inspection_conflicts(badge, enterprise_id)
    WHERE removed_at IS NULL;

-- 'inspect status' finds the footage of a task through the checkouts that name it.
CREATE INDEX IF NOT EXISTS inspections_checkouts_task ON checkouts(task_id);
CREATE INDEX IF NOT EXISTS inspections_clips_checkout ON clips(checkout_id);
