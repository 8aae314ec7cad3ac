-- Clock settings written to recorders (rule B, Art. 7: the clock set right before use).
-- A setting written as a file takes effect when the recorder is next connected: it stays
-- 'pending' until the first clock reading after the recorder has taken the file up, which
-- settles it as 'applied' (within tolerance; that reading is the 'sync' measurement drift is
-- interpolated from) or 'not-applied'. A newer setting written meanwhile supersedes it.

CREATE TABLE clock_syncs (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    written_at  TEXT NOT NULL,            -- host time the setting was written (UTC)
    set_to      TEXT NOT NULL,            -- the time written to the recorder (UTC)
    method      TEXT NOT NULL,            -- file | command
    target      TEXT NOT NULL,            -- the file written, or the program run
    origin      TEXT NOT NULL,            -- desk | checkout | dock
    before_id   INTEGER REFERENCES clock_measurements(id),
    after_id    INTEGER REFERENCES clock_measurements(id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'not-applied',
                                               'superseded')),
    settled_at  TEXT
);
CREATE INDEX clock_syncs_device ON clock_syncs(device_id, written_at);
CREATE INDEX clock_syncs_pending ON clock_syncs(device_id) WHERE state = 'pending';
