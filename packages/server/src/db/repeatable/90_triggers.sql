-- Every trigger, created again whenever this file changes (DROP and CREATE
-- in the migration transaction; PostgreSQL 13 has no CREATE OR REPLACE
-- TRIGGER). They are kept apart from their functions so that editing a
-- function's body replaces only the function: dropping a trigger locks its
-- table against every reader until the migration commits.

-- The counters (10_counters.sql): statement-level, with transition tables,
-- so each statement adds its net change once.
DROP TRIGGER IF EXISTS tickets_counts_insert ON tickets;
CREATE TRIGGER tickets_counts_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_ticket_counts();
DROP TRIGGER IF EXISTS tickets_counts_update ON tickets;
CREATE TRIGGER tickets_counts_update AFTER UPDATE ON tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_ticket_counts();
DROP TRIGGER IF EXISTS tickets_counts_delete ON tickets;
CREATE TRIGGER tickets_counts_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_ticket_counts();
DROP TRIGGER IF EXISTS event_tickets_counts_insert ON event_tickets;
CREATE TRIGGER event_tickets_counts_insert AFTER INSERT ON event_tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_counts();
DROP TRIGGER IF EXISTS event_tickets_counts_update ON event_tickets;
CREATE TRIGGER event_tickets_counts_update AFTER UPDATE ON event_tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_counts();
DROP TRIGGER IF EXISTS event_tickets_counts_delete ON event_tickets;
CREATE TRIGGER event_tickets_counts_delete AFTER DELETE ON event_tickets
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION update_event_counts();
DROP TRIGGER IF EXISTS events_availability_version ON events;
CREATE TRIGGER events_availability_version BEFORE UPDATE OF status, is_public, display_precision ON events
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.is_public IS DISTINCT FROM NEW.is_public
        OR OLD.display_precision IS DISTINCT FROM NEW.display_precision)
  EXECUTE FUNCTION bump_availability_version();
DROP TRIGGER IF EXISTS event_access_revoked ON event_access;
CREATE TRIGGER event_access_revoked AFTER DELETE ON event_access
  FOR EACH ROW EXECUTE FUNCTION bump_version_on_revoke();

-- Change capture (60_realtime_capture.sql). The counter triggers reference the
-- same transition tables, so PostgreSQL builds them once per statement for both.
DROP TRIGGER IF EXISTS tickets_capture_insert ON tickets;
CREATE TRIGGER tickets_capture_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
DROP TRIGGER IF EXISTS tickets_capture_update ON tickets;
CREATE TRIGGER tickets_capture_update AFTER UPDATE ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
DROP TRIGGER IF EXISTS tickets_capture_delete ON tickets;
CREATE TRIGGER tickets_capture_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
DROP TRIGGER IF EXISTS event_queues_entries_gone ON event_queues;
CREATE TRIGGER event_queues_entries_gone AFTER DELETE ON event_queues
  REFERENCING OLD TABLE AS gone_queues
  FOR EACH STATEMENT EXECUTE FUNCTION queue_entries_gone();

-- References (15_references.sql): what the foreign keys from tickets and
-- reservations did, once per statement. Statement triggers fire in name
-- order: tickets_check_* before tickets_counts_*, so a seat of a missing
-- type is refused as such, and the row locks come first, as a foreign key's did.
DROP TRIGGER IF EXISTS tickets_check_references_insert ON tickets;
CREATE TRIGGER tickets_check_references_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION check_references();
DROP TRIGGER IF EXISTS tickets_check_references_update ON tickets;
CREATE TRIGGER tickets_check_references_update AFTER UPDATE OF event_ticket_id, event_id, reservation_id ON tickets
  FOR EACH ROW
  WHEN (OLD.event_ticket_id IS DISTINCT FROM NEW.event_ticket_id OR OLD.event_id IS DISTINCT FROM NEW.event_id
        OR OLD.reservation_id IS DISTINCT FROM NEW.reservation_id)
  EXECUTE FUNCTION check_references();
DROP TRIGGER IF EXISTS reservations_check_references_insert ON reservations;
CREATE TRIGGER reservations_check_references_insert AFTER INSERT ON reservations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION check_references();
DROP TRIGGER IF EXISTS reservations_check_references_update ON reservations;
CREATE TRIGGER reservations_check_references_update AFTER UPDATE OF event_id ON reservations
  FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id)
  EXECUTE FUNCTION check_references();
DROP TRIGGER IF EXISTS events_references_delete ON events;
CREATE TRIGGER events_references_delete AFTER DELETE ON events
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS events_references_update ON events;
CREATE TRIGGER events_references_update AFTER UPDATE OF id ON events
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS events_references_truncate ON events;
CREATE TRIGGER events_references_truncate AFTER TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS event_tickets_references_delete ON event_tickets;
CREATE TRIGGER event_tickets_references_delete AFTER DELETE ON event_tickets
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS event_tickets_references_update ON event_tickets;
CREATE TRIGGER event_tickets_references_update AFTER UPDATE OF id, event_id ON event_tickets
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.event_id IS DISTINCT FROM NEW.event_id)
  EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS event_tickets_references_truncate ON event_tickets;
CREATE TRIGGER event_tickets_references_truncate AFTER TRUNCATE ON event_tickets
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS reservations_references_delete ON reservations;
CREATE TRIGGER reservations_references_delete AFTER DELETE ON reservations
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS reservations_references_update ON reservations;
CREATE TRIGGER reservations_references_update AFTER UPDATE OF id ON reservations
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION references_gone();
DROP TRIGGER IF EXISTS reservations_references_truncate ON reservations;
CREATE TRIGGER reservations_references_truncate AFTER TRUNCATE ON reservations
  FOR EACH STATEMENT EXECUTE FUNCTION references_gone();
