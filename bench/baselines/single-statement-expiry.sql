-- Mass-expiry baseline: the original design's expire_ticket_reservations(),
-- one statement releasing every due hold at once, as TicketPulse did before
-- 0007, 0010 and 0011 (chunks, bounded inline expiry). Applied to a
-- migrated throw-away schema: every limit is ignored, so the sweeper's first
-- call releases everything due in one transaction (its second finds
-- nothing), and so does a hold that finds its ticket type sold out.

ALTER FUNCTION expire_due_holds(uuid, integer) RENAME TO expire_due_holds_bounded;
-- Plans as the planner picks them for one big statement, as before 0007.
ALTER FUNCTION expire_due_holds_bounded(uuid, integer) RESET ALL;

CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE sql AS $$
  SELECT * FROM expire_due_holds_bounded(p_event_ticket_id, NULL)
$$;
