-- A hold that finds its ticket type sold out first releases that type's due
-- holds itself ("an expired hold must never block a sale": reserve_tickets,
-- reserve_holds), in its own transaction, while it holds every ticket type
-- of its event. When a wave of 100,000 holds ran out together, that one call
-- released all of them in one statement, and every buyer of the event waited
-- for it: 2.5 s (bench mass-expiry, buyers on the expiring type).
--
-- Called for one ticket type, expire_ticket_reservations() now releases at
-- most 2,000 holds, earliest deadline first: at least 2,000 seats, tens of
-- milliseconds. The sweeper releases the rest within its interval. Called
-- without a type (the design's form) it still releases everything due.

CREATE OR REPLACE FUNCTION expire_ticket_reservations(p_event_ticket_id uuid DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
  SELECT coalesce(sum(released), 0)::integer
  FROM expire_due_holds(p_event_ticket_id, CASE WHEN p_event_ticket_id IS NULL THEN NULL ELSE 2000 END)
$$;
