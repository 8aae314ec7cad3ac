-- Gap records (rule B, Art. 12): recording stopped during a checkout for a stated reason; the
-- officer's written record is approved by a leader who is neither its author nor the officer.

CREATE TABLE gaps (
    id              INTEGER PRIMARY KEY,
    checkout_id     INTEGER NOT NULL REFERENCES checkouts(id),
    from_at         TEXT NOT NULL,            -- recording stopped (UTC)
    to_at           TEXT NOT NULL,            -- recording resumed (UTC)
    reason          TEXT NOT NULL CHECK (reason IN ('device-fault', 'battery', 'storage',
                        'weather', 'obstruction', 'force-majeure', 'other')),
    note            TEXT NOT NULL,            -- the officer's account
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,            -- actor label of the author
    author_badge    TEXT,
    approved_at     TEXT,
    approved_by     TEXT,                     -- actor label of the approving leader
    approver_badge  TEXT,
    approval_note   TEXT,
    CHECK (to_at > from_at)
);
CREATE INDEX gaps_checkout ON gaps(checkout_id);
CREATE INDEX gaps_pending ON gaps(approved_at) WHERE approved_at IS NULL;
