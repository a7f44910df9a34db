-- Expiry in bounded chunks. expire_due_holds() released every due hold in
-- one statement: when an on-sale's first wave of holds runs out together
-- (100,000 of them), that is one transaction of seconds whose size grows
-- with the wave (temp files for its sorts, a transition table of every row
-- for the counter trigger), and viewers see none of the seats until all of
-- it commits. The sweeper now asks for at most p_limit holds at a time,
-- earliest deadline first, one transaction per chunk, and loops until none
-- are due (inventory/expiry-sweeper.ts): seats come back chunk by chunk.
--
-- Without p_limit it releases everything due at once, as before, so
-- expire_ticket_reservations() keeps the design's contract.

DROP FUNCTION expire_due_holds(uuid);

-- enable_seqscan off: a chunk touches a few thousand rows by key. On a
-- table of some hundred thousand rows the planner prefers scanning all of
-- it to that many index lookups, and would pay that scan on every chunk.
CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_due uuid[];
BEGIN
  -- SKIP LOCKED: a hold that someone is confirming or extending right now
  -- is left for the next chunk or sweep. Candidates are read in deadline
  -- order from tickets_hold_deadline, so a chunk stops after p_limit seats
  -- instead of collecting every due hold first (LIMIT NULL is no limit).
  SELECT array_agg(d.id) INTO v_due FROM (
    SELECT r.id FROM reservations r
    WHERE r.status = 'active'
      AND r.id IN (SELECT t.reservation_id FROM tickets t
                   WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
                     AND (p_event_ticket_id IS NULL OR t.event_ticket_id = p_event_ticket_id)
                   ORDER BY t.reservation_expires_at
                   LIMIT p_limit)
    ORDER BY r.id
    FOR UPDATE SKIP LOCKED
  ) AS d;
  IF v_due IS NULL THEN
    RETURN;
  END IF;
  UPDATE reservations r SET status = 'expired', updated_at = now() WHERE r.id = ANY (v_due);
  -- Seats released per event, so the gateway knows whose viewers to tell.
  RETURN QUERY
  WITH freed AS (
    UPDATE tickets t SET status = 'expired', updated_at = now()
    WHERE t.reservation_id = ANY (v_due) AND t.status = 'reserved'
    RETURNING t.event_id
  )
  SELECT f.event_id, count(*)::integer FROM freed f GROUP BY f.event_id;
END $$;
