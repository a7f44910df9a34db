-- Counters are maintained incrementally: each statement on tickets adds its
-- net change to event_tickets once per ticket type, and each statement on
-- event_tickets adds its net change to events once per event. The cost of a
-- change is O(rows changed), never a recount, so a sale costs the same with
-- 0 or 100,000 tickets sold. Statement-level triggers with transition tables
-- mean a 4-seat hold (or a batch of holds) touches each hot row once.
--
-- Their triggers are in 90_triggers.sql.

-- tickets -> event_tickets.sold_count / reserved_count
CREATE OR REPLACE FUNCTION update_event_ticket_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_types uuid[]; new_statuses text[];
  old_types uuid[]; old_statuses text[];
  type_ids uuid[]; reserved_deltas integer[]; sold_deltas integer[];
  sold_types uuid[]; sold_events uuid[]; sold_at timestamptz[]; unsold_types uuid[]; unsold_events uuid[]; unsold_at timestamptz[];
BEGIN
  -- A transition table exists only for the operations that have it.
  IF TG_OP <> 'DELETE' THEN
    SELECT array_agg(event_ticket_id), array_agg(status) INTO new_types, new_statuses FROM new_rows;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    SELECT array_agg(event_ticket_id), array_agg(status) INTO old_types, old_statuses FROM old_rows;
  END IF;

  SELECT array_agg(type_id ORDER BY type_id), array_agg(reserved ORDER BY type_id), array_agg(sold ORDER BY type_id)
    INTO type_ids, reserved_deltas, sold_deltas
  FROM (
    SELECT type_id,
           coalesce(sum(sign) FILTER (WHERE status = 'reserved'), 0)::integer AS reserved,
           coalesce(sum(sign) FILTER (WHERE status = 'sold'), 0)::integer AS sold
    FROM (
      SELECT t.type_id, t.status, 1 AS sign FROM unnest(new_types, new_statuses) AS t(type_id, status)
      UNION ALL
      SELECT t.type_id, t.status, -1 FROM unnest(old_types, old_statuses) AS t(type_id, status)
    ) AS changes
    GROUP BY type_id
  ) AS deltas
  WHERE reserved <> 0 OR sold <> 0;

  IF type_ids IS NOT NULL THEN
    -- Lock in id order, as the hold functions do, so multi-type statements cannot deadlock.
    -- FOR NO KEY UPDATE, as every lock on a type or an event is: it does not
    -- wait for the FOR KEY SHARE that a statement writing seats takes on their
    -- types (15_references.sql), so a batch that wrote its seats before it
    -- locked (50_group_commit.sql) can take its locks without a deadlock.
    IF cardinality(type_ids) > 1 THEN
      PERFORM 1 FROM event_tickets WHERE id = ANY (type_ids) ORDER BY id FOR NO KEY UPDATE;
    END IF;
    UPDATE event_tickets AS et
       SET reserved_count = et.reserved_count + d.reserved,
           sold_count     = et.sold_count + d.sold,
           version        = et.version + 1,
           updated_at     = now()
      FROM unnest(type_ids, reserved_deltas, sold_deltas) AS d(type_id, reserved, sold)
     WHERE et.id = d.type_id;
  END IF;

  -- Seats sold per type and minute of purchase (ticket_sales_per_minute):
  -- only statements that make or unmake sales (a confirm) get here (holds
  -- pay nothing more), and they add one row per type and minute, in key
  -- order, after the type's own row is locked above (the order every sale
  -- takes them in).
  IF 'sold' = ANY (new_statuses) OR 'sold' = ANY (old_statuses) THEN
    IF TG_OP <> 'DELETE' THEN
      SELECT array_agg(event_ticket_id), array_agg(event_id), array_agg(purchased_at) INTO sold_types, sold_events, sold_at
        FROM new_rows WHERE status = 'sold' AND purchased_at IS NOT NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      SELECT array_agg(event_ticket_id), array_agg(event_id), array_agg(purchased_at) INTO unsold_types, unsold_events, unsold_at
        FROM old_rows WHERE status = 'sold' AND purchased_at IS NOT NULL;
    END IF;
    INSERT INTO ticket_sales_per_minute AS s (event_ticket_id, minute, event_id, sold)
    SELECT c.type_id, date_trunc('minute', c.at), c.event_id, sum(c.sign)::integer
    FROM (
      SELECT n.type_id, n.event_id, n.at, 1 AS sign FROM unnest(sold_types, sold_events, sold_at) AS n(type_id, event_id, at)
      UNION ALL
      SELECT o.type_id, o.event_id, o.at, -1 FROM unnest(unsold_types, unsold_events, unsold_at) AS o(type_id, event_id, at)
    ) AS c
    GROUP BY c.type_id, date_trunc('minute', c.at), c.event_id
    HAVING sum(c.sign) <> 0
    ORDER BY c.type_id, date_trunc('minute', c.at)
    ON CONFLICT (event_ticket_id, minute) DO UPDATE SET sold = s.sold + EXCLUDED.sold;
  END IF;
  RETURN NULL;
END $$;

-- event_tickets -> events.sold_count / reserved_count / availability_version.
-- Any change to a ticket type (counts, capacity, status, price) changes what
-- buyers see, so every touched event gets a new availability_version.
CREATE OR REPLACE FUNCTION update_event_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_events uuid[]; new_sold integer[]; new_reserved integer[];
  old_events uuid[]; old_sold integer[]; old_reserved integer[];
  event_ids uuid[]; sold_deltas integer[]; reserved_deltas integer[];
  offer_types uuid[];
  watch_types uuid[];
BEGIN
  IF TG_OP <> 'DELETE' THEN
    -- offer_types: types with someone on their waiting list and seats free
    -- (75_waiting_list.sql); watch_types: the same for "notify me" watchers
    -- (80_push.sql). Read in the same pass, so a type nobody waits for or
    -- watches costs nothing more. Only the row's half of has_seats_to_hold()
    -- (no event here): a wider net, which both callees narrow with it.
    SELECT array_agg(event_id), array_agg(sold_count), array_agg(reserved_count),
           array_agg(id) FILTER (WHERE waitlist_waiting > 0 AND coalesce(available_count, 1) > 0),
           array_agg(id) FILTER (WHERE push_watchers > 0 AND coalesce(available_count, 1) > 0)
      INTO new_events, new_sold, new_reserved, offer_types, watch_types FROM new_rows;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    SELECT array_agg(event_id), array_agg(sold_count), array_agg(reserved_count)
      INTO old_events, old_sold, old_reserved FROM old_rows;
  END IF;

  SELECT array_agg(event_id ORDER BY event_id), array_agg(sold ORDER BY event_id), array_agg(reserved ORDER BY event_id)
    INTO event_ids, sold_deltas, reserved_deltas
  FROM (
    SELECT event_id, sum(sold)::integer AS sold, sum(reserved)::integer AS reserved
    FROM (
      SELECT * FROM unnest(new_events, new_sold, new_reserved) AS n(event_id, sold, reserved)
      UNION ALL
      SELECT o.event_id, -o.sold, -o.reserved FROM unnest(old_events, old_sold, old_reserved) AS o(event_id, sold, reserved)
    ) AS changes
    GROUP BY event_id
  ) AS deltas;

  IF event_ids IS NULL THEN
    RETURN NULL;
  END IF;
  IF cardinality(event_ids) > 1 THEN
    PERFORM 1 FROM events WHERE id = ANY (event_ids) ORDER BY id FOR NO KEY UPDATE;
  END IF;
  UPDATE events AS e
     SET sold_count              = e.sold_count + d.sold,
         reserved_count          = e.reserved_count + d.reserved,
         availability_version    = e.availability_version + 1,
         availability_changed_at = clock_timestamp(),
         updated_at              = now()
    FROM unnest(event_ids, sold_deltas, reserved_deltas) AS d(event_id, sold, reserved)
   WHERE e.id = d.event_id;
  -- Seats freed (a release, an expiry, more capacity, a type back on sale)
  -- go to the waiting list in this same statement, before anyone can hold them.
  IF offer_types IS NOT NULL THEN
    PERFORM waitlist_offer(offer_types);
  END IF;
  -- Then whoever asked to be told that seats are back, if any still are.
  IF watch_types IS NOT NULL THEN
    PERFORM push_fire_watches(watch_types);
  END IF;
  RETURN NULL;
END $$;

-- Opening, pausing or closing an event, or changing its visibility or
-- precision, changes what viewers see, so it is an availability change too.
CREATE OR REPLACE FUNCTION bump_availability_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.availability_version := OLD.availability_version + 1;
  NEW.availability_changed_at := clock_timestamp();
  RETURN NEW;
END $$;

-- Taking back a user's access changes what that viewer may see: a new
-- version makes the gateway check its subscribers again.
CREATE OR REPLACE FUNCTION bump_version_on_revoke() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE events SET availability_version = availability_version + 1, availability_changed_at = clock_timestamp()
   WHERE id = OLD.event_id;
  RETURN NULL;
END $$;

-- Recounts from tickets (and each type's waiting count from its waiting
-- list, its watcher count from its push watches, its seats sold per minute
-- from its sold seats' purchase times) and returns every counter that disagrees. Empty when
-- healthy. It reads everyone's tickets, so it runs as its owner, for the
-- roles granted EXECUTE only (see 30_reservations.sql on SECURITY DEFINER).
CREATE OR REPLACE FUNCTION verify_ticket_counts()
RETURNS TABLE (scope text, id uuid, counter text, stored integer, actual integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  WITH per_type AS (
    SELECT et.id, et.event_id, et.sold_count, et.reserved_count,
           count(t.id) FILTER (WHERE t.status = 'sold')::integer AS sold,
           count(t.id) FILTER (WHERE t.status = 'reserved')::integer AS reserved,
           et.waitlist_waiting,
           (SELECT count(*) FROM waitlist_entries w WHERE w.event_ticket_id = et.id AND w.status = 'waiting')::integer AS waiting,
           et.push_watchers,
           (SELECT count(*) FROM push_watches pw WHERE pw.event_ticket_id = et.id)::integer AS watchers,
           count(t.id) FILTER (WHERE t.status = 'sold' AND t.purchased_at IS NOT NULL)::integer AS sold_with_time,
           (SELECT coalesce(sum(s.sold), 0) FROM ticket_sales_per_minute s WHERE s.event_ticket_id = et.id)::integer AS sold_per_minute
    FROM event_tickets et LEFT JOIN tickets t ON t.event_ticket_id = et.id
    GROUP BY et.id
  ), per_event AS (
    SELECT e.id, e.sold_count, e.reserved_count,
           coalesce(sum(p.sold), 0)::integer AS sold,
           coalesce(sum(p.reserved), 0)::integer AS reserved
    FROM events e LEFT JOIN per_type p ON p.event_id = e.id
    GROUP BY e.id
  ), per_event_orders AS (
    SELECT e.id, e.orders_count, e.ordered_seats,
           count(DISTINCT r.id)::integer AS orders, count(t.id)::integer AS seats
    FROM events e
    LEFT JOIN reservations r ON r.event_id = e.id AND r.status = 'confirmed'
    LEFT JOIN tickets t ON t.reservation_id = r.id AND t.status = 'sold'
    GROUP BY e.id
  )
  SELECT 'event_ticket', p.id, 'sold_count', p.sold_count, p.sold FROM per_type p WHERE p.sold_count <> p.sold
  UNION ALL
  SELECT 'event_ticket', p.id, 'reserved_count', p.reserved_count, p.reserved FROM per_type p WHERE p.reserved_count <> p.reserved
  UNION ALL
  SELECT 'event_ticket', p.id, 'waitlist_waiting', p.waitlist_waiting, p.waiting FROM per_type p WHERE p.waitlist_waiting <> p.waiting
  UNION ALL
  SELECT 'event_ticket', p.id, 'push_watchers', p.push_watchers, p.watchers FROM per_type p WHERE p.push_watchers <> p.watchers
  UNION ALL
  SELECT 'event_ticket', p.id, 'sales_per_minute', p.sold_per_minute, p.sold_with_time FROM per_type p WHERE p.sold_per_minute <> p.sold_with_time
  UNION ALL
  SELECT 'event', e.id, 'sold_count', e.sold_count, e.sold FROM per_event e WHERE e.sold_count <> e.sold
  UNION ALL
  SELECT 'event', e.id, 'reserved_count', e.reserved_count, e.reserved FROM per_event e WHERE e.reserved_count <> e.reserved
  UNION ALL
  SELECT 'event', o.id, 'orders_count', o.orders_count, o.orders FROM per_event_orders o WHERE o.orders_count <> o.orders
  UNION ALL
  SELECT 'event', o.id, 'ordered_seats', o.ordered_seats, o.seats FROM per_event_orders o WHERE o.ordered_seats <> o.seats
$$;
REVOKE EXECUTE ON FUNCTION verify_ticket_counts() FROM PUBLIC;
