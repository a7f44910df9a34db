-- Expiry: releasing holds past their deadline (docs/inventory.md, Expiry).
--
-- expire_due_holds() releases holds whose deadline has passed (or only
-- holds with seats of one ticket type), at most p_limit seats' worth a call,
-- earliest deadline first, and reports how many seats it released per event,
-- so the gateway knows whose viewers to tell. The sweeper asks for a chunk at
-- a time, one transaction per chunk, and loops until none are due
-- (inventory/expiry-sweeper.ts): when an on-sale's first wave of holds runs
-- out together (100,000 of them), one statement for all of it would be a
-- transaction of seconds whose size grows with the wave, and viewers would
-- see none of the seats until all of it committed. Without p_limit it
-- releases everything due at once. It runs as its owner (the sweeper expires
-- everyone's holds; see 30_reservations.sql on SECURITY DEFINER).
--
-- Its plans must hold up before the planner knows the tables. Right after a
-- wave of holds is written, before autovacuum has analyzed it, the planner
-- guesses `status = 'reserved'` matches 0.5% of tickets. Then a cached
-- generic plan found each chunk's tickets by ANDing tickets_hold_deadline
-- (every live hold) with tickets_by_reservation, once per hold: seconds per
-- chunk; and a custom plan joined reservations to the candidate holds in a
-- nested loop that re-read the candidates per row: minutes. Measured on
-- 100,000 due holds in a fresh schema. So each step works on an array of
-- keys (no join for the planner to get wrong), every call is planned for its
-- own chunk (force_custom_plan, well under a millisecond a statement, against
-- ~100 ms of work a chunk), and enable_seqscan is off: a chunk touches a few
-- thousand rows by key, and on a table of some hundred thousand rows the
-- planner would prefer scanning all of it, on every chunk.

CREATE OR REPLACE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET enable_seqscan = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_candidates uuid[];
  v_due uuid[];
BEGIN
  -- Read in deadline order from tickets_hold_deadline: a chunk stops after
  -- p_limit seats instead of collecting every due hold (LIMIT NULL: all).
  SELECT array_agg(c.reservation_id) INTO v_candidates FROM (
    SELECT t.reservation_id FROM tickets t
    WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
      AND (p_event_ticket_id IS NULL OR t.event_ticket_id = p_event_ticket_id)
    ORDER BY t.reservation_expires_at
    LIMIT p_limit
  ) AS c;
  IF v_candidates IS NULL THEN
    RETURN;
  END IF;
  -- SKIP LOCKED: a hold that someone is confirming or extending right now
  -- is left for the next chunk or sweep.
  SELECT array_agg(d.id) INTO v_due FROM (
    SELECT r.id FROM reservations r
    WHERE r.id = ANY (v_candidates) AND r.status = 'active'
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
REVOKE EXECUTE ON FUNCTION expire_due_holds(uuid, integer) FROM PUBLIC;

-- The design's name and contract: releases due holds, returns how many seats.
--
-- A hold that finds its ticket type sold out first releases that type's due
-- holds itself ("an expired hold must never block a sale": reserve_holds),
-- in its own transaction, while it holds every ticket type of its event.
-- When a wave of 100,000 holds ran out together, that one call released all
-- of them in one statement, and every buyer of the event waited for it: 2.5 s
-- (bench mass-expiry, buyers on the expiring type). So, called for one
-- ticket type, it releases at most 2,000 holds, earliest deadline first: at
-- least 2,000 seats, tens of milliseconds. The sweeper releases the rest
-- within its interval. Called without a type (the design's form) it still
-- releases everything due.
CREATE OR REPLACE FUNCTION expire_ticket_reservations(p_event_ticket_id uuid DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
  SELECT coalesce(sum(released), 0)::integer
  FROM expire_due_holds(p_event_ticket_id, CASE WHEN p_event_ticket_id IS NULL THEN NULL ELSE 2000 END)
$$;
