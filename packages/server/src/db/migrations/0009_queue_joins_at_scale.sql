-- Joins at scale (docs/waiting-room.md, "At scale"): queue_join_batch()
-- writes a batch's new entries with one INSERT under the event's queue row
-- lock, and a foreign key checked every new entry against events again, one
-- lookup and one row lock per row: 40% of the INSERT's time, and the whole
-- batch waits for it under that lock. The batch has already read the event
-- and locked its queue row, which references the event; nothing else adds
-- entries. An event's entries still go with it: deleting its queue (itself
-- deleted with the event) deletes them (queue_entries_gone(),
-- repeatable/70_waiting_room.sql, and its trigger in 90_triggers.sql).
ALTER TABLE queue_entries DROP CONSTRAINT queue_entries_event_id_fkey;

-- Replaced in repeatable/70_waiting_room.sql by queue_join_batch(text, text[],
-- text[], boolean[]): the requests as arrays, not one JSON document.
DROP FUNCTION IF EXISTS queue_join_batch(text, jsonb);
