-- Mass-expiry baseline: the original design's expire_ticket_reservations(),
-- one call releasing every due hold in one transaction, as TicketPulse did
-- before 0007 and 0010 (chunks, bounded inline expiry). Applied to a
-- migrated throw-away schema: every limit is ignored, so the sweeper's first
-- call releases everything due in one transaction (its second finds
-- nothing), and so does a hold that finds its ticket type sold out. The
-- statements and their planner settings are TicketPulse's: only the chunking
-- differs.

ALTER FUNCTION expire_due_holds(uuid, integer) RENAME TO expire_due_holds_bounded;

CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE sql AS $$
  SELECT * FROM expire_due_holds_bounded(p_event_ticket_id, NULL)
$$;
