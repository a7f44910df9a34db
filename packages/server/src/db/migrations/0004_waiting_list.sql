-- The waiting list of sold-out ticket types, with automatic offers
-- (docs/waiting-list.md). Functions: repeatable/75_waiting_list.sql; the
-- one hook that makes offers is in update_event_counts() (10_counters.sql).

-- Per event: the organizer's switch and how long an offer is held for.
ALTER TABLE events
  ADD COLUMN waitlist_enabled       boolean NOT NULL DEFAULT true,
  ADD COLUMN waitlist_offer_seconds integer NOT NULL DEFAULT 900 CHECK (waitlist_offer_seconds BETWEEN 1 AND 86400);

-- Per ticket type: the organizer's switch, and how many entries wait, kept
-- by the waiting-list functions and checked by verify_ticket_counts(). The
-- count is what makes the hot paths free of waiting lists: the counter
-- trigger already reads each changed type's row, and only a type with
-- someone waiting (and seats free) costs anything more.
ALTER TABLE event_tickets
  ADD COLUMN waitlist_enabled boolean NOT NULL DEFAULT true,
  ADD COLUMN waitlist_waiting integer NOT NULL DEFAULT 0 CHECK (waitlist_waiting >= 0);

-- Offers are numbered in the order they are made (the line's order per ticket type).
CREATE SEQUENCE waitlist_offer_numbers;

CREATE TABLE waitlist_entries (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Join order. Joins of one ticket type take its row lock, so per type this is the line's order.
  seq                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  event_id             uuid NOT NULL,
  event_ticket_id      uuid NOT NULL,
  -- The token's sub: the offer is a hold in this holder's name.
  holder_id            text NOT NULL,
  quantity             integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  -- waiting -> offered (what became of the offer is its reservation's status) | left | closed (the list was switched off).
  status               text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'left', 'closed')),
  joined_at            timestamptz NOT NULL DEFAULT now(),
  ended_at             timestamptz,
  offer_reservation_id uuid UNIQUE REFERENCES reservations (id),
  offer_number         bigint UNIQUE,
  offered_at           timestamptz,
  -- Seats offered: the entry's quantity, or fewer when fewer were free (docs/waiting-list.md, Partial offers).
  offered_quantity     integer CHECK (offered_quantity BETWEEN 1 AND quantity),
  CONSTRAINT waitlist_entries_offer CHECK ((status = 'offered') = (offer_reservation_id IS NOT NULL AND offer_number IS NOT NULL
                                                                   AND offered_quantity IS NOT NULL)),
  CONSTRAINT waitlist_entries_ticket_type FOREIGN KEY (event_ticket_id, event_id) REFERENCES event_tickets (id, event_id) ON DELETE CASCADE
);
-- The line of one ticket type, in order: offers read it from the front.
CREATE INDEX waitlist_entries_line ON waitlist_entries (event_ticket_id, seq) WHERE status = 'waiting';
-- One place in one line per holder.
CREATE UNIQUE INDEX waitlist_entries_one_waiting ON waitlist_entries (event_ticket_id, holder_id) WHERE status = 'waiting';
CREATE INDEX waitlist_entries_by_holder ON waitlist_entries (holder_id, seq);
CREATE INDEX waitlist_entries_by_type ON waitlist_entries (event_ticket_id);

-- Only the functions in 75_waiting_list.sql (SECURITY DEFINER) read it.
ALTER TABLE waitlist_entries ENABLE ROW LEVEL SECURITY;
