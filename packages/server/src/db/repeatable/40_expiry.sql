-- Expiry: releasing holds past their deadline (docs/inventory.md, Expiry).
--
-- expire_due_holds() releases holds whose deadline has passed (or only
-- holds with seats of one ticket type), at most p_limit seats' worth a call,
-- earliest deadline first (for one type, latest first: see below), and
-- reports how many seats it released per event,
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
-- 100,000 due holds in a fresh schema. So every call is planned for its own
-- chunk (force_custom_plan, well under a millisecond a statement, against
-- ~100 ms of work a chunk), and the planner is left one shape per step, the
-- one that touches only the chunk's rows, by key: no sequential or bitmap
-- scans (a bitmap reads every due hold, then sorts them by deadline), no
-- hash or merge joins (each reads a whole table), so each join is a nested
-- loop from the chunk's own rows into an index. Checked with EXPLAIN on
-- 100,000 due holds, analyzed and not.

CREATE OR REPLACE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_due uuid[];
BEGIN
  -- Due seats in deadline order from tickets_hold_deadline, each hold locked
  -- as it is reached. SKIP LOCKED: a hold that someone is confirming or
  -- extending right now, or that a concurrent call is releasing, is left
  -- for later, and the LIMIT counts only seats whose hold this call locked.
  -- A hold with several due seats is reached once per seat.
  --
  -- The sweeper takes the earliest deadlines first. A call for one ticket
  -- type (a buyer's release of the few seats its batch wants, holding every
  -- ticket type of the event) takes the latest due ones: from the earliest
  -- it would first skip the sweeper's chunk, hold by hold (5,000 of them in
  -- a wave), while the event's buyers wait.
  EXECUTE format(
    $q$SELECT array_agg(DISTINCT d.id) FROM (
         SELECT r.id FROM tickets t JOIN reservations r ON r.id = t.reservation_id
         WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
           AND ($1::uuid IS NULL OR t.event_ticket_id = $1) AND r.status = 'active'
         ORDER BY t.reservation_expires_at %s
         LIMIT $2
         FOR UPDATE OF r SKIP LOCKED
       ) AS d$q$,
    CASE WHEN p_event_ticket_id IS NULL THEN 'ASC' ELSE 'DESC' END)
  INTO v_due USING p_event_ticket_id, p_limit;
  IF v_due IS NULL THEN
    RETURN;
  END IF;
  UPDATE reservations r SET status = 'expired', updated_at = now() WHERE r.id = ANY (v_due);
  -- Seats released per event, so the gateway knows whose viewers to tell.
  -- A live hold's seats are all 'reserved'; the status test is spelled as
  -- what it excludes so that it does not match tickets_hold_deadline's
  -- predicate, leaving tickets_by_reservation the one way in. Otherwise the
  -- planner read every live hold's entry in tickets_hold_deadline, once per
  -- chunk (100,000 rows for the wave's first chunk, 95,000 for its second),
  -- or, before ANALYZE, ANDed all of it with each hold's entries.
  RETURN QUERY
  WITH freed AS (
    UPDATE tickets t SET status = 'expired', updated_at = now()
    FROM unnest(v_due) AS d(id)
    WHERE t.reservation_id = d.id AND t.status NOT IN ('sold', 'cancelled', 'expired')
    RETURNING t.event_id
  )
  SELECT f.event_id, count(*)::integer FROM freed f GROUP BY f.event_id;
END $$;
REVOKE EXECUTE ON FUNCTION expire_due_holds(uuid, integer) FROM PUBLIC;

-- The design's name and contract: releases due holds, returns how many seats.
-- Called without arguments (the design's form) it releases everything due;
-- for one ticket type, every due hold with seats of it; with p_seats, due
-- holds of that type, until at least p_seats of its seats are free again
-- (fewer if fewer are due and not being ended by someone else).
--
-- A hold that finds its ticket type sold out first releases that type's due
-- holds itself ("an expired hold must never block a sale": reserve_holds),
-- in its own transaction, while it holds every ticket type of its event, so
-- every buyer of the event waits for that release. When a wave of 100,000
-- holds ran out together, releasing all of them there took 2.5 s; at most
-- 2,000 of them still put 240 ms on the event's buyers (bench mass-expiry,
-- buyers on the expiring type). So the hold path asks for the seats its
-- batch still wants (p_seats) and leaves the rest to the sweeper.
DROP FUNCTION IF EXISTS expire_ticket_reservations(uuid);
CREATE OR REPLACE FUNCTION expire_ticket_reservations(p_event_ticket_id uuid DEFAULT NULL, p_seats integer DEFAULT NULL)
RETURNS integer
LANGUAGE sql AS $$
  SELECT coalesce(sum(released), 0)::integer FROM expire_due_holds(p_event_ticket_id, p_seats)
$$;
