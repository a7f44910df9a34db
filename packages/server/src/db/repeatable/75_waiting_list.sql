-- The waiting list of sold-out ticket types (docs/waiting-list.md). Tables:
-- migrations/0004_waiting_list.sql.
--
-- Offers: whenever a statement changes ticket types, update_event_counts()
-- (10_counters.sql) calls waitlist_offer() for the changed types that have
-- someone waiting and seats free, in the same statement, so the seats a
-- release, an expiry, a capacity increase or a resumed sale frees are
-- offered before anyone else can hold them. Each offer is an ordinary hold
-- (a reservations row and its reserved tickets) in the waiting holder's
-- name, so counters, expiry, confirm, extend and release treat it as any
-- other hold.
--
-- Lock order: reservations, then event_tickets (by id), then events, then
-- waitlist entries. Every change to a line takes its ticket type's row lock
-- first, so the type's lock serializes its line: entries need no locks of
-- their own.
--
-- Every function here runs as its owner (waitlist_entries has row-level
-- security and no policy) and checks the holder itself, from the id the
-- service took from a verified token.

-- Offers the free seats of these ticket types to their lines, in order:
-- the first in line gets min(its quantity, seats free), then the next, until
-- no seat is free or nobody waits (docs/waiting-list.md, Partial offers).
-- Only for a type on sale in an event on sale, with both switches on.
-- The caller's statement holds the types' row locks (the counter trigger
-- updated them) or takes them here.
CREATE OR REPLACE FUNCTION waitlist_offer(p_type_ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type record;
  v_entry record;
  v_left integer;
  v_seats integer;
  v_expires timestamptz;
  v_entries uuid[];
  v_holders text[];
  v_quantities integer[];
  v_reservations uuid[];
  v_numbers bigint[];
BEGIN
  -- The offer's own writes change the same types again (their tickets, the
  -- waiting count): those nested calls have nothing to add.
  IF current_setting('ticketpulse.waitlist_offering', true) = 'on' THEN
    RETURN;
  END IF;
  PERFORM set_config('ticketpulse.waitlist_offering', 'on', true);
  FOR v_type IN
    SELECT et.id, et.event_id, et.available_count, e.waitlist_offer_seconds
    FROM event_tickets et JOIN events e ON e.id = et.event_id
    WHERE et.id = ANY (p_type_ids) AND et.waitlist_waiting > 0 AND et.waitlist_enabled AND e.waitlist_enabled
      AND has_seats_to_hold(e, et)
    ORDER BY et.id
    FOR NO KEY UPDATE OF et
  LOOP
    v_left := v_type.available_count;  -- null: unlimited, everyone gets their quantity
    v_entries := '{}'; v_holders := '{}'; v_quantities := '{}'; v_reservations := '{}'; v_numbers := '{}';
    -- From the front of the line; the cursor reads only as far as the seats go.
    FOR v_entry IN
      SELECT w.id, w.holder_id, w.quantity FROM waitlist_entries w
      WHERE w.event_ticket_id = v_type.id AND w.status = 'waiting' ORDER BY w.seq
    LOOP
      EXIT WHEN v_left IS NOT NULL AND v_left <= 0;
      v_seats := CASE WHEN v_left IS NULL THEN v_entry.quantity ELSE least(v_entry.quantity, v_left) END;
      v_left := v_left - v_seats;
      v_entries := v_entries || v_entry.id;
      v_holders := v_holders || v_entry.holder_id;
      v_quantities := v_quantities || v_seats;
      v_reservations := v_reservations || uuid_v7();
      v_numbers := v_numbers || nextval('waitlist_offer_numbers');
    END LOOP;
    CONTINUE WHEN cardinality(v_entries) = 0;

    v_expires := now() + make_interval(secs => v_type.waitlist_offer_seconds);
    INSERT INTO reservations (id, event_id, holder_id, expires_at)
    SELECT r, v_type.event_id, h, v_expires FROM unnest(v_reservations, v_holders) AS o(r, h);
    UPDATE waitlist_entries w SET status = 'offered', offer_reservation_id = o.r, offer_number = o.n,
                                  offered_quantity = o.q, offered_at = now()
      FROM unnest(v_entries, v_reservations, v_numbers, v_quantities) AS o(id, r, n, q)
     WHERE w.id = o.id;
    INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
    SELECT v_type.event_id, v_type.id, o.r, 'reserved', o.h, v_expires
    FROM unnest(v_reservations, v_holders, v_quantities) AS o(r, h, q)
    CROSS JOIN LATERAL generate_series(1, o.q);
    UPDATE event_tickets SET waitlist_waiting = waitlist_waiting - cardinality(v_entries) WHERE id = v_type.id;
    -- Each offered holder's browsers are told in this transaction's outbox (80_push.sql).
    PERFORM push_queue_offers(v_type.id, v_holders, v_reservations, v_quantities, v_expires);
  END LOOP;
  PERFORM set_config('ticketpulse.waitlist_offering', '', true);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_offer(uuid[]) FROM PUBLIC;

-- What became of an offer, from its hold: offered (still running),
-- purchased, declined (released) or expired (its deadline passed, swept or not).
CREATE OR REPLACE FUNCTION waitlist_offer_outcome(p_hold reservations) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_hold.status = 'confirmed' THEN 'purchased'
              WHEN p_hold.status = 'released' THEN 'declined'
              WHEN p_hold.status = 'active' AND p_hold.expires_at > now() THEN 'offered'
              ELSE 'expired' END
$$;

-- An entry as its holder sees it, but for its place in line. What became
-- of an offer is its hold's status: offered (live), purchased, declined
-- (released), expired. The personal feed (80_personal_feed.sql) sends this:
-- a place moves as others leave, which is no change of the holder's own.
CREATE OR REPLACE FUNCTION waitlist_entry_fields(p_entry waitlist_entries) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT jsonb_build_object(
    'id', p_entry.id,
    'eventId', p_entry.event_id,
    'ticketTypeId', p_entry.event_ticket_id,
    'ticketTypeName', et.name,
    'quantity', p_entry.quantity,
    'status', CASE WHEN p_entry.status = 'offered' THEN waitlist_offer_outcome(r) ELSE p_entry.status END,
    'joinedAt', p_entry.joined_at,
    'offer', CASE WHEN p_entry.status = 'offered' THEN
               jsonb_build_object('reservationId', r.id, 'quantity', p_entry.offered_quantity,
                                  'offeredAt', p_entry.offered_at, 'expiresAt', r.expires_at) END)
  FROM event_tickets et
  LEFT JOIN reservations r ON r.id = p_entry.offer_reservation_id
  WHERE et.id = p_entry.event_ticket_id
$$;
REVOKE EXECUTE ON FUNCTION waitlist_entry_fields(waitlist_entries) FROM PUBLIC;

-- An entry as its holder sees it: waitlist_entry_fields() and `place`
-- (1 = next in line, while waiting).
CREATE OR REPLACE FUNCTION waitlist_entry_json(p_entry waitlist_entries) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT waitlist_entry_fields(p_entry) || jsonb_build_object(
    'place', CASE WHEN p_entry.status = 'waiting' THEN
               (SELECT count(*) FROM waitlist_entries a
                 WHERE a.event_ticket_id = p_entry.event_ticket_id AND a.status = 'waiting' AND a.seq <= p_entry.seq) END)
$$;
REVOKE EXECUTE ON FUNCTION waitlist_entry_json(waitlist_entries) FROM PUBLIC;

-- The holder's entry in this type's line that is still live (waiting, or
-- offered with the hold still running), if any.
CREATE OR REPLACE FUNCTION waitlist_live_entry(p_type_id uuid, p_holder text) RETURNS waitlist_entries
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT w.* FROM waitlist_entries w LEFT JOIN reservations r ON r.id = w.offer_reservation_id
  WHERE w.event_ticket_id = p_type_id AND w.holder_id = p_holder
    AND (w.status = 'waiting' OR (w.status = 'offered' AND waitlist_offer_outcome(r) = 'offered'))
  ORDER BY w.seq DESC LIMIT 1
$$;
REVOKE EXECUTE ON FUNCTION waitlist_live_entry(uuid, text) FROM PUBLIC;

-- Joins a sold-out type's line, or returns the holder's live entry there
-- unchanged: {entry, created}. Only when no seat of the type can be held
-- now; expired holds are released first (their seats go to those already
-- waiting, then to sale), as a hold would.
CREATE OR REPLACE FUNCTION waitlist_join(p_type_id uuid, p_holder text, p_user_id text, p_privileged boolean, p_quantity integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type event_tickets;
  v_event events;
  v_entry waitlist_entries;
BEGIN
  v_type := visible_ticket_type(p_type_id, p_user_id, p_privileged);
  SELECT * INTO v_event FROM events WHERE id = v_type.event_id;
  IF v_event.status <> 'on_sale' THEN
    PERFORM raise_refusal(event_not_on_sale_refusal(v_event.status));
  END IF;
  IF v_type.status <> 'on_sale' THEN
    PERFORM raise_refusal(ticket_type_not_on_sale_refusal(v_type.id::text, v_type.name));
  END IF;
  IF NOT (v_event.waitlist_enabled AND v_type.waitlist_enabled) THEN
    PERFORM raise_inventory_error(format('%s has no waiting list', v_type.name),
      jsonb_build_object('code', 'waitlist_closed', 'ticketTypeId', v_type.id));
  END IF;
  IF p_quantity > v_type.max_per_order THEN
    PERFORM raise_refusal(above_max_per_order_refusal(v_type.id::text, v_type.name, v_type.max_per_order));
  END IF;

  -- As many as the joiner wants: whether any seat is free is all the join asks.
  PERFORM expire_ticket_reservations(p_type_id, p_quantity);
  SELECT * INTO v_type FROM event_tickets WHERE id = p_type_id FOR NO KEY UPDATE;
  v_entry := waitlist_live_entry(p_type_id, p_holder);
  IF v_entry.id IS NOT NULL THEN
    RETURN jsonb_build_object('entry', waitlist_entry_json(v_entry), 'created', false);
  END IF;
  IF has_seats_to_hold(v_event, v_type) THEN
    PERFORM raise_inventory_error(format('%s has seats to buy now', v_type.name),
      jsonb_build_object('code', 'waitlist_seats_available', 'ticketTypeId', v_type.id, 'available', v_type.available_count));
  END IF;
  INSERT INTO waitlist_entries (event_id, event_ticket_id, holder_id, quantity)
  VALUES (v_type.event_id, v_type.id, p_holder, p_quantity) RETURNING * INTO v_entry;
  UPDATE event_tickets SET waitlist_waiting = waitlist_waiting + 1 WHERE id = v_type.id;
  RETURN jsonb_build_object('entry', waitlist_entry_json(v_entry), 'created', true);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_join(uuid, text, text, boolean, integer) FROM PUBLIC;

-- The holder's entries, newest first.
CREATE OR REPLACE FUNCTION waitlist_entries_of(p_holder text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT coalesce(jsonb_agg(waitlist_entry_json(w) ORDER BY w.seq DESC), '[]'::jsonb)
  FROM waitlist_entries w WHERE w.holder_id = p_holder
$$;
REVOKE EXECUTE ON FUNCTION waitlist_entries_of(text) FROM PUBLIC;

-- Leaves a line. A live offer is given back (released: its seats go to the
-- next in line); an entry that already ended answers as it is. Another
-- holder's entry answers exactly as an unknown one (waitlist_entry_not_found).
CREATE OR REPLACE FUNCTION waitlist_leave(p_entry_id uuid, p_holder text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_entry waitlist_entries;
  v_reservation reservations;
BEGIN
  SELECT * INTO v_entry FROM waitlist_entries WHERE id = p_entry_id;
  IF v_entry.id IS NULL OR v_entry.holder_id <> p_holder THEN
    PERFORM raise_inventory_error('Waiting-list entry not found', '{"code": "waitlist_entry_not_found"}');
  END IF;
  IF v_entry.status = 'offered' THEN
    -- The hold first (lock order: reservations before ticket types).
    SELECT * INTO v_reservation FROM reservations WHERE id = v_entry.offer_reservation_id FOR UPDATE;
    -- An offer past its deadline is expired, not declined: the sweep releases it.
    IF waitlist_offer_outcome(v_reservation) = 'offered' THEN
      PERFORM release_reservation(v_reservation.id, p_holder);
    END IF;
  ELSIF v_entry.status = 'waiting' THEN
    PERFORM 1 FROM event_tickets WHERE id = v_entry.event_ticket_id FOR NO KEY UPDATE;
    -- Under the type's lock the entry may have been offered meanwhile: then it
    -- answers with its offer (leaving again declines it).
    UPDATE waitlist_entries SET status = 'left', ended_at = now() WHERE id = p_entry_id AND status = 'waiting';
    IF FOUND THEN
      UPDATE event_tickets SET waitlist_waiting = waitlist_waiting - 1 WHERE id = v_entry.event_ticket_id;
    END IF;
  END IF;
  SELECT * INTO v_entry FROM waitlist_entries WHERE id = p_entry_id;
  RETURN waitlist_entry_json(v_entry);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_leave(uuid, text) FROM PUBLIC;

-- Closes the lines of these types (their waiting entries end as `closed`):
-- switching a list off ends it. The caller holds the types' row locks.
CREATE OR REPLACE FUNCTION waitlist_close(p_type_ids uuid[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  UPDATE waitlist_entries SET status = 'closed', ended_at = now()
   WHERE event_ticket_id = ANY (p_type_ids) AND status = 'waiting';
  UPDATE event_tickets SET waitlist_waiting = 0 WHERE id = ANY (p_type_ids) AND waitlist_waiting > 0;
$$;
REVOKE EXECUTE ON FUNCTION waitlist_close(uuid[]) FROM PUBLIC;

-- An event's waiting lists for its organizers: settings, and per ticket type
-- (display order) its switch, length and offers made, open, taken (bought),
-- expired and declined (released).
CREATE OR REPLACE FUNCTION waitlist_json(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT jsonb_build_object(
    'eventId', e.id,
    'enabled', e.waitlist_enabled,
    'offerSeconds', e.waitlist_offer_seconds,
    'ticketTypes', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'ticketTypeId', et.id, 'ticketTypeName', et.name, 'enabled', et.waitlist_enabled,
               'waiting', et.waitlist_waiting, 'offersMade', o.made, 'offersOpen', o.open, 'offersTaken', o.taken,
               'offersExpired', o.expired, 'offersDeclined', o.declined)
             ORDER BY et.sort_order, et.name COLLATE "C", et.id)
      FROM event_tickets et,
      LATERAL (SELECT count(*)::integer AS made,
                      (count(*) FILTER (WHERE outcome = 'offered'))::integer AS open,
                      (count(*) FILTER (WHERE outcome = 'purchased'))::integer AS taken,
                      (count(*) FILTER (WHERE outcome = 'expired'))::integer AS expired,
                      (count(*) FILTER (WHERE outcome = 'declined'))::integer AS declined
               FROM waitlist_entries w JOIN reservations r ON r.id = w.offer_reservation_id,
                    LATERAL waitlist_offer_outcome(r) AS outcome
               WHERE w.event_ticket_id = et.id AND w.status = 'offered') AS o
      WHERE et.event_id = e.id), '[]'::jsonb))
  FROM events e WHERE e.id = p_event_id
$$;
REVOKE EXECUTE ON FUNCTION waitlist_json(uuid) FROM PUBLIC;

-- An event's lists for an organizer, by event id or slug.
CREATE OR REPLACE FUNCTION waitlist_read(p_event_ref text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_event events := event_by_ref(p_event_ref);
BEGIN
  IF v_event.id IS NULL THEN
    PERFORM raise_inventory_error('Event not found', '{"code": "event_not_found"}');
  END IF;
  RETURN waitlist_json(v_event.id);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_read(text) FROM PUBLIC;

-- The organizer's settings of an event's lists: {enabled?, offerSeconds?}.
-- Switching off closes every line of the event (live offers stay holds);
-- a new offerSeconds applies to offers made from then on.
CREATE OR REPLACE FUNCTION waitlist_configure(p_event_ref text, p_settings jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_event events := event_by_ref(p_event_ref);
  v_types uuid[];
BEGIN
  IF v_event.id IS NULL THEN
    PERFORM raise_inventory_error('Event not found', '{"code": "event_not_found"}');
  END IF;
  -- Lock order: the event's ticket types, then the event.
  SELECT array_agg(id ORDER BY id) INTO v_types
    FROM (SELECT id FROM event_tickets WHERE event_id = v_event.id ORDER BY id FOR NO KEY UPDATE) AS locked;
  IF (p_settings->>'enabled')::boolean IS FALSE THEN
    PERFORM waitlist_close(v_types);
  END IF;
  UPDATE events SET
    waitlist_enabled = coalesce((p_settings->>'enabled')::boolean, waitlist_enabled),
    waitlist_offer_seconds = coalesce((p_settings->>'offerSeconds')::integer, waitlist_offer_seconds),
    updated_at = now()
  WHERE id = v_event.id;
  RETURN waitlist_json(v_event.id);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_configure(text, jsonb) FROM PUBLIC;

-- One ticket type's switch; returns its event's lists (waitlist_json).
CREATE OR REPLACE FUNCTION waitlist_configure_type(p_type_id uuid, p_enabled boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type event_tickets;
BEGIN
  SELECT * INTO v_type FROM event_tickets WHERE id = p_type_id FOR NO KEY UPDATE;
  IF v_type.id IS NULL THEN
    PERFORM raise_inventory_error('Ticket type not found', '{"code": "ticket_type_not_found"}');
  END IF;
  IF NOT p_enabled THEN
    PERFORM waitlist_close(ARRAY[p_type_id]);
  END IF;
  UPDATE event_tickets SET waitlist_enabled = p_enabled WHERE id = p_type_id AND waitlist_enabled IS DISTINCT FROM p_enabled;
  RETURN waitlist_json(v_type.event_id);
END $$;
REVOKE EXECUTE ON FUNCTION waitlist_configure_type(uuid, boolean) FROM PUBLIC;

-- Replaced by event_sale_resumed() (80_push.sql), which tells push watchers too.
DROP FUNCTION IF EXISTS waitlist_offer_event(uuid);
