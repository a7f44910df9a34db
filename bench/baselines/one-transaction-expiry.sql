-- Mass-expiry baseline: the original design's expire_ticket_reservations(),
-- one statement releasing every due hold in one transaction, as TicketPulse
-- did before expiry came in chunks, with bounded inline expiry and plans that
-- hold up on fresh tables (packages/server/src/db/repeatable/40_expiry.sql).
-- This is the statement of the first expire_due_holds() (migration 0003,
-- before the migrations were squashed), under the current signature,
-- ignoring every limit: the sweeper's first call releases everything due (its
-- second finds nothing), and so does a hold that finds its ticket type sold
-- out. Applied to a migrated throw-away schema (bench/scenarios/mass-expiry.ts).

CREATE OR REPLACE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT r.id FROM reservations r
    WHERE r.status = 'active'
      AND r.id IN (SELECT t.reservation_id FROM tickets t
                   WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
                     AND (p_event_ticket_id IS NULL OR t.event_ticket_id = p_event_ticket_id))
    ORDER BY r.id
    FOR UPDATE SKIP LOCKED
  ), closed AS (
    UPDATE reservations r SET status = 'expired', updated_at = now() FROM due WHERE r.id = due.id
  ), freed AS (
    UPDATE tickets t SET status = 'expired', updated_at = now()
    FROM due WHERE t.reservation_id = due.id AND t.status = 'reserved'
    RETURNING t.event_id
  )
  SELECT f.event_id, count(*)::integer FROM freed f GROUP BY f.event_id;
END $$;
-- CREATE OR REPLACE takes its settings from the statement; the original had none.
ALTER FUNCTION expire_due_holds(uuid, integer) RESET ALL;
