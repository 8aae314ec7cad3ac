-- Annual footage review (rule B, Arts. 9-11 and 17): reproducible review samples, the clips
-- each sample chose, and the findings reviewers record. Plus indexes the period reports read.

CREATE TABLE review_samples (
    id                INTEGER PRIMARY KEY,
    year              INTEGER NOT NULL,
    unit              TEXT,                    -- NULL: the whole site
    rate              TEXT NOT NULL,           -- exact fraction, e.g. '1/20'
    seed              TEXT NOT NULL,           -- as given (or generated and printed)
    scheme            TEXT NOT NULL,           -- algorithm name, e.g. 'avledger-review-v1'
    population_size   INTEGER NOT NULL,
    population_sha256 TEXT NOT NULL,           -- SHA-256 of the sorted clip ids, one per line
    drawn_at          TEXT NOT NULL,
    drawn_by          TEXT NOT NULL,
    event_seq         INTEGER NOT NULL         -- the 'review.sampled' ledger event
);
CREATE INDEX review_samples_year ON review_samples(year, id);

CREATE TABLE review_items (
    sample_id INTEGER NOT NULL REFERENCES review_samples(id),
    position  INTEGER NOT NULL,                -- draw order, from 1
    clip_id   INTEGER NOT NULL REFERENCES clips(id),
    PRIMARY KEY (sample_id, position),
    UNIQUE (sample_id, clip_id)
);
CREATE INDEX review_items_clip ON review_items(clip_id);

CREATE TABLE review_findings (
    id            INTEGER PRIMARY KEY,
    clip_id       INTEGER NOT NULL REFERENCES clips(id),
    sample_id     INTEGER REFERENCES review_samples(id),  -- NULL: reviewed outside a sample
    finding       TEXT NOT NULL CHECK (finding IN ('ok', 'unclear', 'incomplete',
                                                   'no-announcement', 'other')),
    note          TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,               -- actor label of the reviewer
    event_seq     INTEGER NOT NULL             -- the 'review.recorded' ledger event
);
CREATE INDEX review_findings_clip ON review_findings(clip_id, id);

-- Period reports read the clips table twice, each time from a covering index and without
-- sorting: by who (recorder, officer, attribution, timeliness, status) and by when (recording
-- time). Also checkouts, measurements, gaps and purges by time, and the first docking after a
-- checkout began (overdue recorders).
CREATE INDEX IF NOT EXISTS reports_clips_who ON clips(device_id, badge, attribution, on_time,
    status, corrected_start, ingested_at, duration_seconds, size, late_reason);
CREATE INDEX IF NOT EXISTS reports_clips_when ON clips(corrected_start, on_time, attribution,
    duration_seconds, badge, device_id);
CREATE INDEX IF NOT EXISTS reports_checkouts_out ON checkouts(out_at, badge, device_id);
CREATE INDEX IF NOT EXISTS reports_clock_time ON clock_measurements(measured_at, kind, status,
    host_synced, drift_seconds, device_id);
CREATE INDEX IF NOT EXISTS reports_docks_device ON docks(device_id, started_at);
CREATE INDEX IF NOT EXISTS reports_tombstones_time ON tombstones(purged_at, how,
    content_deleted, size);
CREATE INDEX IF NOT EXISTS reports_gaps_time ON gaps(from_at);
