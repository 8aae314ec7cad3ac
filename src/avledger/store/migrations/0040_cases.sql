-- Cases (行政执法案件): enforcement type, handlers, confidentiality, and the clips linked to
-- them. Footage linked to a case is kept as long as the case file (rule B, Annex 1).

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,      -- the bureau's case number, as written
    name             TEXT NOT NULL,
    enforcement_type TEXT NOT NULL
                     CHECK (enforcement_type IN ('inspection', 'penalty', 'compulsion', 'licensing')),
    confidentiality  TEXT NOT NULL DEFAULT 'none'
                     CHECK (confidentiality IN ('none', 'personal-privacy', 'commercial-secret',
                                                'state-secret')),
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at        TEXT NOT NULL,
    opened_by        TEXT NOT NULL,
    closed_at        TEXT,
    closed_by        TEXT,
    close_note       TEXT
);
CREATE INDEX cases_status ON cases(status);

-- Case handlers (案件承办人), by badge number: they may view the case's footage directly.
CREATE TABLE case_handlers (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    badge   TEXT NOT NULL,
    PRIMARY KEY (case_id, badge)
) WITHOUT ROWID;
CREATE INDEX case_handlers_badge ON case_handlers(badge);

CREATE TABLE clip_cases (
    clip_id   INTEGER NOT NULL REFERENCES clips(id),
    case_id   INTEGER NOT NULL REFERENCES cases(id),
    linked_at TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    PRIMARY KEY (clip_id, case_id)
) WITHOUT ROWID;
CREATE INDEX clip_cases_case ON clip_cases(case_id);
