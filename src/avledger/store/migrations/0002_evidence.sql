-- Evidence domain shared by ingest, the dock daemon and the equipment desk:
-- devices, checkouts (the usage ledger), clock measurements, docks and clips.
-- Numbering: each capability adds its own migrations in its own range
-- (ingest 0010-0019, desk 0020-0029, daemon 0030-0039, retention 0040-0049,
--  access 0050-0059, reports 0060-0069, decisions/inspections 0070-0079).

CREATE TABLE devices (
    id             INTEGER PRIMARY KEY,
    serial         TEXT NOT NULL UNIQUE,
    profile        TEXT,                  -- device profile name that recognised/registered it
    model          TEXT,
    kind           TEXT NOT NULL DEFAULT 'body_recorder',
    unit           TEXT,
    registration   TEXT NOT NULL DEFAULT 'unregistered',  -- registered | unregistered
    status         TEXT NOT NULL DEFAULT 'in_service',    -- in_service | retired | lost
    badge_hint     TEXT,                  -- badge number written in the device-info file
    notes          TEXT,
    first_seen_at  TEXT NOT NULL,
    registered_at  TEXT,
    last_docked_at TEXT,
    last_synced_at TEXT                   -- last successful clock sync (host UTC)
);

-- The usage ledger (台账): who had which recorder, when, for what.
CREATE TABLE checkouts (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    badge       TEXT NOT NULL,
    task        TEXT,
    task_id     TEXT,
    remote      INTEGER NOT NULL DEFAULT 0,
    out_at      TEXT NOT NULL,
    in_at       TEXT,
    out_by      TEXT NOT NULL,
    in_by       TEXT,
    precheck    TEXT NOT NULL DEFAULT '{}',   -- JSON: battery, storage, clock, forced reason
    notes       TEXT
);
-- At most one open checkout per device: concurrent desks race on this index.
CREATE UNIQUE INDEX checkouts_one_open ON checkouts(device_id) WHERE in_at IS NULL;
CREATE INDEX checkouts_badge ON checkouts(badge);
CREATE INDEX checkouts_device_time ON checkouts(device_id, out_at);

CREATE TABLE clock_measurements (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES devices(id),
    kind          TEXT NOT NULL,          -- check | sync
    measured_at   TEXT NOT NULL,          -- host time (UTC)
    device_time   TEXT,                   -- what the device clock said (UTC), if readable
    drift_seconds REAL,                   -- device minus host; NULL when unknown
    status        TEXT NOT NULL,          -- ok | drifted | reset | unknown
    host_synced   INTEGER,                -- host clock NTP-synchronised? NULL = could not tell
    host_sync     TEXT,                   -- how the host state was read
    source        TEXT NOT NULL,          -- dock | desk | sync-before | sync-after
    detail        TEXT
);
CREATE INDEX clock_device_time ON clock_measurements(device_id, measured_at);

-- One docking (or drop-folder batch / manual ingest) of one recorder.
CREATE TABLE docks (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER REFERENCES devices(id),
    station      TEXT NOT NULL,
    source       TEXT NOT NULL,           -- /dev/… node, mount point or folder
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT,
    state        TEXT NOT NULL,           -- detected | mounting | ingesting | done | failed | removed
    files_total  INTEGER NOT NULL DEFAULT 0,
    files_done   INTEGER NOT NULL DEFAULT 0,
    bytes_total  INTEGER NOT NULL DEFAULT 0,
    bytes_done   INTEGER NOT NULL DEFAULT 0,
    result       TEXT NOT NULL DEFAULT '{}'   -- JSON summary
);
CREATE INDEX docks_state ON docks(state);

CREATE TABLE clips (
    id               INTEGER PRIMARY KEY,
    device_id        INTEGER NOT NULL REFERENCES devices(id),
    digest           TEXT NOT NULL REFERENCES objects(digest),
    size             INTEGER NOT NULL,
    source_path      TEXT NOT NULL,       -- path on the recorder volume, relative to its root
    source_mtime     TEXT NOT NULL,       -- file mtime on the volume (UTC)
    device_start     TEXT,                -- start per the device clock (UTC)
    device_end       TEXT,
    duration_seconds REAL,
    duration_source  TEXT NOT NULL DEFAULT 'unknown',  -- container | file-times | unknown
    drift_seconds    REAL,                -- drift estimated at recording time
    corrected_start  TEXT,                -- device time minus drift (UTC)
    corrected_end    TEXT,
    ingested_at      TEXT NOT NULL,
    deadline         TEXT,                -- hand-in deadline (24-hour window)
    on_time          INTEGER,             -- 1 on time, 0 late, NULL unknown start time
    late_reason      TEXT,
    checkout_id      INTEGER REFERENCES checkouts(id),
    badge            TEXT,                -- officer the clip is attributed to
    attribution      TEXT NOT NULL DEFAULT 'unattributed', -- checkout | device-info | unattributed | between-checkouts
    flags            TEXT NOT NULL DEFAULT '[]',           -- JSON list, e.g. ["unparsed-name"]
    dock_id          INTEGER REFERENCES docks(id),
    status           TEXT NOT NULL DEFAULT 'stored',       -- stored | pending_purge | purged
    UNIQUE (device_id, source_path, size, source_mtime)
);
CREATE INDEX clips_digest ON clips(digest);
CREATE INDEX clips_device_start ON clips(device_id, corrected_start);
CREATE INDEX clips_badge ON clips(badge);
CREATE INDEX clips_start ON clips(corrected_start);
