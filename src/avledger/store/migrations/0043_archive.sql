-- Archive discs (rule B, Art. 16): sets of clips burned to optical media in (at least) two
-- copies; every disc of every copy is tracked: where it is kept and when it was last verified.

CREATE TABLE archive_sets (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,          -- activity or case name and number (label)
    scope           TEXT NOT NULL,          -- JSON: {"case": N} | {"hold": N} | {"clips": [...]}
    case_id         INTEGER REFERENCES cases(id),
    hold_id         INTEGER REFERENCES holds(id),
    media           TEXT NOT NULL,
    capacity        INTEGER NOT NULL,       -- bytes per disc
    copies          INTEGER NOT NULL,
    discs           INTEGER NOT NULL,       -- discs per copy
    clips           INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,
    manifest_sha256 TEXT,
    out_dir         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'complete')),
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL
);

CREATE TABLE archive_discs (
    id                 INTEGER PRIMARY KEY,
    set_id             INTEGER NOT NULL REFERENCES archive_sets(id),
    copy_no            INTEGER NOT NULL,
    disc_no            INTEGER NOT NULL,
    volume_id          TEXT NOT NULL,
    image_path         TEXT,
    image_size         INTEGER,
    image_sha256       TEXT,
    label_path         TEXT,
    location           TEXT,
    located_at         TEXT,
    burned_device      TEXT,
    burned_at          TEXT,
    last_verified_at   TEXT,
    last_verify_ok     INTEGER,
    last_verify_detail TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (set_id, copy_no, disc_no)
);

CREATE TABLE archive_items (
    set_id  INTEGER NOT NULL REFERENCES archive_sets(id),
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    disc_no INTEGER NOT NULL,
    path    TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    PRIMARY KEY (set_id, clip_id)
) WITHOUT ROWID;
CREATE INDEX archive_items_clip ON archive_items(clip_id);
