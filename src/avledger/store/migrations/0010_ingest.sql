-- Ingest: which clock measurement corrected a clip; which process runs a dock (so a dock left
-- 'ingesting' by a killed process can be recognised as interrupted) and with which profile.

ALTER TABLE clips ADD COLUMN clock_measurement_id INTEGER REFERENCES clock_measurements(id);
ALTER TABLE docks ADD COLUMN pid INTEGER;
ALTER TABLE docks ADD COLUMN profile TEXT;
CREATE INDEX clips_dock ON clips(dock_id);
CREATE INDEX clips_late ON clips(on_time) WHERE on_time = 0;
CREATE INDEX clips_device_path ON clips(device_id, source_path);
