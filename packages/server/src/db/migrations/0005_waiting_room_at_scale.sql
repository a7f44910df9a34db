-- The waiting room at scale (docs/waiting-room.md, "At scale").
--
-- An entry's key is its event and holder: that pair becomes the primary
-- key. The entry id stays (a random public identifier, gen_random_uuid(),
-- the pass's jti) without an index of its own: nothing looks an entry up by
-- it, and every write of an entry paid for one more unique index. The
-- opening shuffle rewrites every pre-queued entry (a new row version, an
-- entry in every index): the id's index was a quarter of its work.
ALTER TABLE queue_entries DROP CONSTRAINT queue_entries_pkey;
ALTER TABLE queue_entries DROP CONSTRAINT queue_entries_one_per_holder;
ALTER TABLE queue_entries ADD CONSTRAINT queue_entries_pkey PRIMARY KEY (event_id, holder_id);

-- Replaced in repeatable/70_waiting_room.sql (applied again after this,
-- its checksum having changed): joins are decided in batches
-- (queue_join_batch), and entries are built with the measured rate read once
-- per call. Absent on a new database, where that file has not run yet.
DROP FUNCTION IF EXISTS queue_join(text, text, text, boolean);
DROP FUNCTION IF EXISTS queue_entry_json(queue_entries, event_queues, timestamptz);
