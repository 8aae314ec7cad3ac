-- A drift figure is a pair — what the recorder said, and the true time at which it said it —
-- with an uncertainty (rule B, Art. 7). said_at is that reference (the docking's udev event, a
-- bracketed live read, or a docking time given by hand); reference says which; NULL for
-- readings from before this column, and for readings with no reference (drift unknown).

ALTER TABLE clock_measurements ADD COLUMN said_at TEXT;
ALTER TABLE clock_measurements ADD COLUMN uncertainty_seconds REAL;
ALTER TABLE clock_measurements ADD COLUMN reference TEXT;
