-- A second copy of every object in another place (store.copies: 2, store.second). second_at is
-- when the second copy was written and verified (NULL: the object has one copy so far);
-- second_status is what the last check of the second copy found (ok, missing, corrupt,
-- unreadable). A clip whose object has fewer good copies than configured is counted by 'status'.

ALTER TABLE objects ADD COLUMN second_at TEXT;
ALTER TABLE objects ADD COLUMN second_status TEXT;
CREATE INDEX objects_one_copy ON objects(second_at) WHERE second_at IS NULL;
