-- Proposed decisions on cases and their legal review (Annex 2). A decision that needs review
-- (a penalty at or over the threshold for its party, every compulsion) opens one review and
-- places one 'legal-review' hold on the case's footage; closing the review releases that hold.
-- Rows are only ever added to or, for a review, completed once.

CREATE TABLE case_decisions (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases(id),
    kind            TEXT NOT NULL CHECK (kind IN ('penalty', 'compulsion', 'licensing', 'other')),
    amount          TEXT,                   -- yuan, exact, two decimals ('10000.00'); NULL: none
    party           TEXT CHECK (party IN ('citizen', 'organisation')),
    note            TEXT NOT NULL DEFAULT '',
    review_required INTEGER NOT NULL CHECK (review_required IN (0, 1)),
    review_reason   TEXT NOT NULL,          -- why it does or does not need review, one sentence
    rules           TEXT NOT NULL,          -- JSON: the thresholds in force when recorded
    decided_at      TEXT NOT NULL,
    decided_by      TEXT NOT NULL,          -- ledger actor label
    decided_badge   TEXT NOT NULL           -- the author, who may not review it
);
CREATE INDEX case_decisions_case ON case_decisions(case_id);

CREATE TABLE legal_reviews (
    id             INTEGER PRIMARY KEY,
    decision_id    INTEGER NOT NULL UNIQUE REFERENCES case_decisions(id),
    hold_id        INTEGER NOT NULL UNIQUE REFERENCES holds(id),
    flagged_at     TEXT NOT NULL,
    outcome        TEXT CHECK (outcome IN ('approved', 'returned')),  -- NULL while open
    reviewed_at    TEXT,
    reviewed_by    TEXT,                    -- ledger actor label
    reviewer_badge TEXT,
    note           TEXT,
    CHECK ((outcome IS NULL) = (reviewed_at IS NULL)),
    CHECK ((outcome IS NULL) = (reviewed_by IS NULL))
);
CREATE INDEX legal_reviews_open ON legal_reviews(flagged_at) WHERE outcome IS NULL;
