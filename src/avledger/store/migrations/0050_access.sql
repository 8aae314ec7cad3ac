-- The access register (查阅登记簿, rule A, Art. 3): every request to view or copy footage,
-- the policy's decision and the article behind it, the leader's approval or denial, and how it
-- was fulfilled — a read-only viewing with its start and end, or a verifiable copy package.

CREATE TABLE access_requests (
    id              INTEGER PRIMARY KEY,
    requested_at    TEXT NOT NULL,
    registered_by   TEXT NOT NULL,          -- actor label of whoever entered the request
    requester       TEXT NOT NULL,          -- name of the person asking
    requester_badge TEXT,                   -- staff requesters: their badge
    requester_unit  TEXT,                   -- the unit or body they ask for
    category        TEXT NOT NULL,          -- case_handler | internal_staff | judicial | …
    kind            TEXT,                   -- judicial: police, court, … (policy 'kinds')
    action          TEXT NOT NULL CHECK (action IN ('view', 'copy')),
    purpose         TEXT NOT NULL,
    documents       TEXT NOT NULL,          -- JSON list of the documents seen and checked
    case_id         INTEGER REFERENCES cases(id),
    clips           TEXT NOT NULL,          -- JSON list of clip ids, fixed when registered
    confidentiality TEXT NOT NULL,          -- the strictest level among the footage's cases
    article         TEXT NOT NULL,          -- the article(s) that decided
    needs_approval  INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied',
                                                    'fulfilled')),
    decided_at      TEXT,
    decided_by      TEXT,                   -- actor label, or 'policy'
    decision_note   TEXT,                   -- approval note, or why it was denied
    fulfilled_at    TEXT,
    fulfilled_by    TEXT,
    package_id      TEXT
);
CREATE INDEX access_requests_time ON access_requests(requested_at);
CREATE INDEX access_requests_status ON access_requests(status);

-- One read-only viewing: the player, its start and end, and what each clip's player returned.
CREATE TABLE access_viewings (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL UNIQUE REFERENCES access_requests(id),
    started_at TEXT NOT NULL,
    started_by TEXT NOT NULL,
    player     TEXT,                        -- the command line, or NULL when only listed
    ended_at   TEXT,
    result     TEXT                         -- JSON: per clip exit status, or 'interrupted'
);
CREATE INDEX access_viewings_time ON access_viewings(started_at);

-- One copy package handed out (rule A, Arts. 4, 6, 8).
CREATE TABLE access_packages (
    id              TEXT PRIMARY KEY,       -- ACC0007: the package of request 7
    request_id      INTEGER NOT NULL UNIQUE REFERENCES access_requests(id),
    made_at         TEXT NOT NULL,
    made_by         TEXT NOT NULL,
    directory       TEXT NOT NULL,
    zip_path        TEXT,
    manifest_sha256 TEXT NOT NULL,
    clips           INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,
    checkpoint_size INTEGER NOT NULL
);
CREATE INDEX access_packages_time ON access_packages(made_at);
