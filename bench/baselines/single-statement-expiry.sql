-- Mass-expiry baseline: the original design's expire_ticket_reservations(),
-- one statement releasing every due hold at once, as TicketPulse did before
-- 0007_expiry_chunks.sql. Applied to a migrated throw-away schema: the
-- sweeper's chunk size is ignored, so its first call releases everything
-- due in one transaction and its second finds nothing.

ALTER FUNCTION expire_due_holds(uuid, integer) RENAME TO expire_due_holds_bounded;
-- The plan the planner picks for one big statement, as before 0007.
ALTER FUNCTION expire_due_holds_bounded(uuid, integer) RESET enable_seqscan;

CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE sql AS $$
  SELECT * FROM expire_due_holds_bounded(p_event_ticket_id, NULL)
$$;
