-- The hold lifecycle: reserve -> (extend)* -> confirm | release | expire.
-- Each operation is one function, one statement, one round trip, and either
-- applies fully or raises. Domain errors use SQLSTATE TP000 with a JSON
-- DETAIL carrying {"code": ..., ...}; the service maps them to HTTP errors.
--
-- Each returns the reservation as reservation_json() builds it.
--
-- Lock order, everywhere: reservations, then event_tickets by id, then
-- events by id. The reserve path locks event_tickets first but only ever
-- takes reservation locks with SKIP LOCKED, and only of its own event, whose
-- ticket types it already holds, so it never waits in the wrong order.

CREATE FUNCTION raise_inventory_error(message text, detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'TP000', MESSAGE = message, DETAIL = detail::text;
END $$;

-- A reservation with its held items, in the shape the API returns.
CREATE FUNCTION reservation_json(p_reservation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', r.id, 'eventId', r.event_id, 'holderId', r.holder_id, 'status', r.status,
    'expiresAt', r.expires_at, 'extensionsUsed', r.extensions_used, 'createdAt', r.created_at,
    'confirmedAt', r.confirmed_at, 'releasedAt', r.released_at,
    'items', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'ticketTypeId', g.event_ticket_id, 'ticketTypeName', g.name, 'quantity', g.quantity,
               'unitPrice', g.price::text, 'currency', g.currency)
             ORDER BY g.sort_order, g.name)
      FROM (SELECT t.event_ticket_id, et.name, et.price, et.currency, et.sort_order, count(*)::integer AS quantity
            FROM tickets t JOIN event_tickets et ON et.id = t.event_ticket_id
            WHERE t.reservation_id = r.id
            GROUP BY t.event_ticket_id, et.name, et.price, et.currency, et.sort_order) AS g
    ), '[]'::jsonb))
  FROM reservations r WHERE r.id = p_reservation_id
$$;

-- Releases every hold past its deadline (or only holds with seats of one
-- ticket type) in one set-based statement, and reports how many seats it
-- released per event, so the gateway knows whose viewers to tell.
-- SKIP LOCKED: a hold that someone is confirming or extending right now is
-- left for the next sweep, which keeps concurrent sweepers and buyers apart.
CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT r.id FROM reservations r
    WHERE r.status = 'active'
      AND r.id IN (SELECT t.reservation_id FROM tickets t
                   WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
                     AND (p_event_ticket_id IS NULL OR t.event_ticket_id = p_event_ticket_id))
    ORDER BY r.id
    FOR UPDATE SKIP LOCKED
  ), closed AS (
    UPDATE reservations r SET status = 'expired', updated_at = now() FROM due WHERE r.id = due.id
  ), freed AS (
    UPDATE tickets t SET status = 'expired', updated_at = now()
    FROM due WHERE t.reservation_id = due.id AND t.status = 'reserved'
    RETURNING t.event_id
  )
  SELECT f.event_id, count(*)::integer FROM freed f GROUP BY f.event_id;
END $$;

-- The design's name and contract: releases due holds, returns how many seats.
CREATE FUNCTION expire_ticket_reservations(p_event_ticket_id uuid DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
  SELECT coalesce(sum(released), 0)::integer FROM expire_due_holds(p_event_ticket_id)
$$;

-- The reservation an earlier request with this holder's key made, if the
-- request was the same; refuses a different request reusing the key.
CREATE FUNCTION idempotent_replay(p_holder_id text, p_idempotency_key text, p_request_fingerprint text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations%ROWTYPE;
BEGIN
  SELECT * INTO STRICT v_reservation FROM reservations
   WHERE holder_id = p_holder_id AND idempotency_key = p_idempotency_key;
  IF v_reservation.request_fingerprint IS DISTINCT FROM p_request_fingerprint THEN
    PERFORM raise_inventory_error('This Idempotency-Key was already used for a different request',
      jsonb_build_object('code', 'idempotency_key_reused'));
  END IF;
  RETURN reservation_json(v_reservation.id) || '{"replayed": true}';
END $$;

-- Holds seats of one or more ticket types of one event, all or nothing.
-- p_items: [{"ticketTypeId": uuid, "quantity": int}, ...] with distinct ids.
CREATE FUNCTION reserve_tickets(
  p_event_id uuid,
  p_holder_id text,
  p_items jsonb,
  p_default_hold_seconds integer,
  p_idempotency_key text DEFAULT NULL,
  p_request_fingerprint text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_event events%ROWTYPE;
  v_item record;
  v_reservation reservations%ROWTYPE;
  v_available integer;
BEGIN
  SELECT * INTO v_event FROM events WHERE id = p_event_id;
  IF NOT FOUND THEN
    PERFORM raise_inventory_error('Event not found', jsonb_build_object('code', 'event_not_found'));
  END IF;

  -- Lock every ticket type of the event, in id order. Holds on one event
  -- already queue on its events row (the counters trigger), so this costs no
  -- concurrency, and it means releasing an expired multi-type hold below
  -- only touches rows this transaction already holds: no deadlock.
  PERFORM 1 FROM event_tickets WHERE event_id = p_event_id ORDER BY id FOR UPDATE;

  -- Checked after the lock wait, so a concurrent request with the same key
  -- (a double click) has committed and is replayed instead of holding twice.
  IF p_idempotency_key IS NOT NULL
     AND EXISTS (SELECT 1 FROM reservations WHERE holder_id = p_holder_id AND idempotency_key = p_idempotency_key) THEN
    RETURN idempotent_replay(p_holder_id, p_idempotency_key, p_request_fingerprint);
  END IF;

  IF v_event.status <> 'on_sale' THEN
    PERFORM raise_inventory_error(format('Event is not on sale (status: %s)', v_event.status),
      jsonb_build_object('code', 'event_not_on_sale', 'status', v_event.status));
  END IF;

  -- First what is wrong with the request itself, for every item; only then
  -- what is missing in stock, so the same request always gets the same answer.
  FOR v_item IN
    SELECT i."ticketTypeId" AS requested_id, i.quantity, et.*
    FROM jsonb_to_recordset(p_items) AS i("ticketTypeId" uuid, quantity integer)
    LEFT JOIN event_tickets et ON et.id = i."ticketTypeId" AND et.event_id = p_event_id
    ORDER BY i."ticketTypeId"
  LOOP
    IF v_item.id IS NULL THEN
      PERFORM raise_inventory_error('Unknown ticket type for this event',
        jsonb_build_object('code', 'unknown_ticket_type', 'ticketTypeId', v_item.requested_id));
    END IF;
    IF v_item.status <> 'on_sale' THEN
      PERFORM raise_inventory_error(format('%s is not on sale', v_item.name),
        jsonb_build_object('code', 'ticket_type_not_on_sale', 'ticketTypeId', v_item.id));
    END IF;
    IF v_item.quantity > v_item.max_per_order THEN
      PERFORM raise_inventory_error(format('At most %s of %s per order', v_item.max_per_order, v_item.name),
        jsonb_build_object('code', 'quantity_above_max_per_order', 'ticketTypeId', v_item.id,
                           'maxPerOrder', v_item.max_per_order));
    END IF;
  END LOOP;

  FOR v_item IN
    SELECT i.quantity, et.id, et.name, et.available_count
    FROM jsonb_to_recordset(p_items) AS i("ticketTypeId" uuid, quantity integer)
    JOIN event_tickets et ON et.id = i."ticketTypeId"
    WHERE et.available_count < i.quantity
    ORDER BY et.id
  LOOP
    -- Looks exhausted: an expired hold must never block a sale.
    PERFORM expire_ticket_reservations(v_item.id);
    SELECT available_count INTO v_available FROM event_tickets WHERE id = v_item.id;
    IF v_available < v_item.quantity THEN
      PERFORM raise_inventory_error(format('Only %s of %s left', v_available, v_item.name),
        jsonb_build_object('code', 'insufficient_availability', 'ticketTypeId', v_item.id,
                           'available', v_available, 'requested', v_item.quantity));
    END IF;
  END LOOP;

  INSERT INTO reservations (event_id, holder_id, expires_at, idempotency_key, request_fingerprint)
  VALUES (p_event_id, p_holder_id,
          now() + make_interval(secs => coalesce(v_event.hold_seconds, p_default_hold_seconds)),
          p_idempotency_key, p_request_fingerprint)
  ON CONFLICT (holder_id, idempotency_key) DO NOTHING
  RETURNING * INTO v_reservation;
  IF NOT FOUND THEN
    -- The same key is in use by a request for another event that committed
    -- while this one ran (same-event requests are ordered by the lock above).
    RETURN idempotent_replay(p_holder_id, p_idempotency_key, p_request_fingerprint);
  END IF;

  INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
  SELECT p_event_id, i."ticketTypeId", v_reservation.id, 'reserved', p_holder_id, v_reservation.expires_at
  FROM jsonb_to_recordset(p_items) AS i("ticketTypeId" uuid, quantity integer),
       generate_series(1, i.quantity);

  RETURN reservation_json(v_reservation.id) || '{"replayed": false}';
END $$;

-- Locks a reservation for its holder (p_holder_id NULL = service, acting for anyone).
CREATE FUNCTION lock_reservation(p_reservation_id uuid, p_holder_id text) RETURNS reservations
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations%ROWTYPE;
BEGIN
  SELECT * INTO v_reservation FROM reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM raise_inventory_error('Reservation not found', jsonb_build_object('code', 'reservation_not_found'));
  END IF;
  IF p_holder_id IS NOT NULL AND v_reservation.holder_id <> p_holder_id THEN
    PERFORM raise_inventory_error('Only the holder may act on this reservation',
      jsonb_build_object('code', 'not_reservation_holder'));
  END IF;
  RETURN v_reservation;
END $$;

CREATE FUNCTION raise_hold_expired(v_reservation reservations) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM raise_inventory_error('This hold has expired or was released; its seats are available again',
    jsonb_build_object('code', 'hold_expired', 'status',
      CASE WHEN v_reservation.status = 'active' THEN 'expired' ELSE v_reservation.status END));
END $$;

-- Held seats become sold. Confirming twice is harmless.
CREATE FUNCTION confirm_reservation(p_reservation_id uuid, p_holder_id text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations := lock_reservation(p_reservation_id, p_holder_id);
BEGIN
  IF v_reservation.status = 'confirmed' THEN
    RETURN reservation_json(v_reservation.id);
  END IF;
  IF v_reservation.status <> 'active' OR v_reservation.expires_at <= now() THEN
    PERFORM raise_hold_expired(v_reservation);
  END IF;
  UPDATE tickets SET status = 'sold', purchased_at = now(), reservation_expires_at = NULL, updated_at = now()
   WHERE reservation_id = v_reservation.id AND status = 'reserved';
  UPDATE reservations SET status = 'confirmed', confirmed_at = now(), updated_at = now()
   WHERE id = v_reservation.id;
  RETURN reservation_json(v_reservation.id);
END $$;

-- The holder gives the seats back at once. Releasing a hold that already ended is harmless.
CREATE FUNCTION release_reservation(p_reservation_id uuid, p_holder_id text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations := lock_reservation(p_reservation_id, p_holder_id);
BEGIN
  IF v_reservation.status = 'confirmed' THEN
    PERFORM raise_inventory_error('A confirmed purchase cannot be released',
      jsonb_build_object('code', 'reservation_confirmed'));
  END IF;
  IF v_reservation.status <> 'active' THEN
    RETURN reservation_json(v_reservation.id);
  END IF;
  UPDATE tickets SET status = 'cancelled', updated_at = now()
   WHERE reservation_id = v_reservation.id AND status = 'reserved';
  UPDATE reservations SET status = 'released', released_at = now(), updated_at = now()
   WHERE id = v_reservation.id;
  RETURN reservation_json(v_reservation.id);
END $$;

-- Pushes the deadline of a live hold out by one step, a bounded number of times.
CREATE FUNCTION extend_reservation(
  p_reservation_id uuid,
  p_holder_id text,
  p_default_extension_seconds integer,
  p_default_max_extensions integer
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations := lock_reservation(p_reservation_id, p_holder_id);
  v_event events%ROWTYPE;
  v_max integer;
  v_deadline timestamptz;
BEGIN
  IF v_reservation.status = 'confirmed' THEN
    PERFORM raise_inventory_error('A confirmed purchase has no deadline to extend',
      jsonb_build_object('code', 'reservation_confirmed'));
  END IF;
  IF v_reservation.status <> 'active' OR v_reservation.expires_at <= now() THEN
    PERFORM raise_hold_expired(v_reservation);
  END IF;
  SELECT * INTO v_event FROM events WHERE id = v_reservation.event_id;
  v_max := coalesce(v_event.max_hold_extensions, p_default_max_extensions);
  IF v_reservation.extensions_used >= v_max THEN
    PERFORM raise_inventory_error(format('This hold was already extended %s times, the maximum', v_max),
      jsonb_build_object('code', 'extension_limit_reached', 'maxExtensions', v_max));
  END IF;
  v_deadline := v_reservation.expires_at
    + make_interval(secs => coalesce(v_event.hold_extension_seconds, p_default_extension_seconds));
  UPDATE tickets SET reservation_expires_at = v_deadline, updated_at = now()
   WHERE reservation_id = v_reservation.id AND status = 'reserved';
  UPDATE reservations SET expires_at = v_deadline, extensions_used = extensions_used + 1, updated_at = now()
   WHERE id = v_reservation.id;
  RETURN reservation_json(v_reservation.id);
END $$;
