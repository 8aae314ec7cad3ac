-- Redactions (rule A, Art. 10; rule B, Art. 14): a copy of a clip with parts hidden, rendered
-- by ffmpeg from a spec, kept as derived evidence beside its original, which is never touched.
-- A redaction lives and dies with its original: held while it is held, purged when it is.
-- The redacted object has its row in 'objects' while stored (store verify checks it).

CREATE TABLE redactions (
    id              INTEGER PRIMARY KEY,
    clip_id         INTEGER NOT NULL REFERENCES clips(id),
    original_digest TEXT NOT NULL,          -- BLAKE3 of the original (the clip's object)
    digest          TEXT NOT NULL,          -- BLAKE3 of the redacted object
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    spec_digest     TEXT NOT NULL,          -- BLAKE3 of the spec's canonical JSON
    spec            TEXT NOT NULL,          -- the canonical JSON itself
    filter_graph    TEXT NOT NULL,          -- the -filter_complex text, exactly as run
    command         TEXT NOT NULL,          -- JSON argv (ORIGINAL/REDACTED placeholders)
    ffmpeg_version  TEXT NOT NULL,
    reason          TEXT NOT NULL,          -- why it was made (a request, a purpose)
    request_id      INTEGER REFERENCES access_requests(id),
    made_at         TEXT NOT NULL,
    made_by         TEXT NOT NULL,          -- ledger actor label
    status          TEXT NOT NULL DEFAULT 'stored' CHECK (status IN ('stored', 'purged')),
    purged_at       TEXT
);
CREATE INDEX redactions_clip ON redactions(clip_id);
CREATE UNIQUE INDEX redactions_one_per_spec ON redactions(clip_id, spec_digest)
    WHERE status = 'stored';
CREATE INDEX redactions_digest ON redactions(digest);

-- A spec attached to an access request for one of its clips: that clip is then disclosed only
-- redacted. Approved together with the request (who approves: access.redaction.approval).
CREATE TABLE access_redactions (
    request_id   INTEGER NOT NULL REFERENCES access_requests(id),
    clip_id      INTEGER NOT NULL REFERENCES clips(id),
    spec_digest  TEXT NOT NULL,
    spec         TEXT NOT NULL,             -- canonical JSON
    attached_at  TEXT NOT NULL,
    attached_by  TEXT NOT NULL,
    redaction_id INTEGER REFERENCES redactions(id),  -- set when rendered for fulfilment
    PRIMARY KEY (request_id, clip_id)
);
