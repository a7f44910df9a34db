-- Cost-growth baseline: counters kept by recounting, as the original design's
-- update_event_ticket_counts / update_event_counts triggers do. Every ticket
-- row written recounts its ticket type's and its event's tickets with
-- COUNT(*), so a hold costs more the more tickets are already sold.
--
-- Applied to a migrated throw-away schema after its past sales are seeded
-- (seeding through these triggers would take hours at 1,000,000 rows). It
-- replaces TicketPulse's incremental triggers (repeatable/90_triggers.sql); the
-- tables and verify_ticket_counts() stay as they are.

DROP TRIGGER tickets_counts_insert ON tickets;
DROP TRIGGER tickets_counts_update ON tickets;
DROP TRIGGER tickets_counts_delete ON tickets;
DROP TRIGGER event_tickets_counts_insert ON event_tickets;
DROP TRIGGER event_tickets_counts_update ON event_tickets;
DROP TRIGGER event_tickets_counts_delete ON event_tickets;

-- Indexes the recounts can answer from, so the baseline pays for counting,
-- not for scanning the whole table.
CREATE INDEX tickets_by_type_status ON tickets (event_ticket_id, status);
CREATE INDEX tickets_by_event_status ON tickets (event_id, status);

CREATE FUNCTION recount_ticket_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- NEW is NULL on DELETE and OLD on INSERT.
  v_type uuid := coalesce(NEW.event_ticket_id, OLD.event_ticket_id);
  v_event uuid := coalesce(NEW.event_id, OLD.event_id);
BEGIN
  UPDATE event_tickets
     SET sold_count     = (SELECT count(*) FROM tickets WHERE event_ticket_id = v_type AND status = 'sold'),
         reserved_count = (SELECT count(*) FROM tickets WHERE event_ticket_id = v_type AND status = 'reserved'),
         version        = version + 1,
         updated_at     = now()
   WHERE id = v_type;
  UPDATE events
     SET sold_count              = (SELECT count(*) FROM tickets WHERE event_id = v_event AND status = 'sold'),
         reserved_count          = (SELECT count(*) FROM tickets WHERE event_id = v_event AND status = 'reserved'),
         availability_version    = availability_version + 1,
         availability_changed_at = clock_timestamp(),
         updated_at              = now()
   WHERE id = v_event;
  RETURN NULL;
END $$;

CREATE TRIGGER tickets_recount AFTER INSERT OR UPDATE OR DELETE ON tickets
  FOR EACH ROW EXECUTE FUNCTION recount_ticket_counts();
