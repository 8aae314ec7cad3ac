-- Device registry: when and why a device last changed status (retired, lost, found).
-- The full history is in the custody ledger; these columns serve listings.

ALTER TABLE devices ADD COLUMN status_changed_at TEXT;
ALTER TABLE devices ADD COLUMN status_reason TEXT;
