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
--
-- SECURITY DEFINER: these functions work across users by design: a
-- group-committed batch holds seats for many buyers in one statement,
-- capacity counts everyone's holds, the sweeper expires everyone's. They
-- check the holder themselves (another holder's reservation is
-- reservation_not_found), from the id the service took from a verified token.
-- So they run as their owner, only for roles granted EXECUTE (each revokes it
-- from PUBLIC), with the search path pinned: FROM CURRENT takes the one
-- migrate() sets while it applies these files, this schema then pg_temp
-- (temporary objects last, so nobody can shadow a table). Row-level security
-- (0001_schema.sql) binds every other role.

-- Raises a refusal: SQLSTATE TP000, with the JSON detail as DETAIL.
CREATE OR REPLACE FUNCTION raise_inventory_error(message text, detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'TP000', MESSAGE = message, DETAIL = detail::text;
END $$;

-- A refusal as reserve_holds() answers it for one request of a batch,
-- instead of raising it (which would fail the whole batch).
CREATE OR REPLACE FUNCTION inventory_refusal(message text, detail jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('error', jsonb_build_object('message', message, 'detail', detail))
$$;

-- A refusal (as inventory_refusal() builds it) raised.
CREATE OR REPLACE FUNCTION raise_refusal(p_refusal jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM raise_inventory_error(p_refusal->'error'->>'message', p_refusal->'error'->'detail');
END $$;

-- What may stop anyone from holding seats of a ticket type, in one wording
-- for every caller (a hold, joining a waiting list).
CREATE OR REPLACE FUNCTION event_not_on_sale_refusal(p_status text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT inventory_refusal(format('Event is not on sale (status: %s)', p_status),
                           jsonb_build_object('code', 'event_not_on_sale', 'status', p_status))
$$;
CREATE OR REPLACE FUNCTION ticket_type_not_on_sale_refusal(p_type_id text, p_type_name text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT inventory_refusal(format('%s is not on sale', p_type_name),
                           jsonb_build_object('code', 'ticket_type_not_on_sale', 'ticketTypeId', p_type_id))
$$;
CREATE OR REPLACE FUNCTION above_max_per_order_refusal(p_type_id text, p_type_name text, p_max integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT inventory_refusal(format('At most %s of %s per order', p_max, p_type_name),
                           jsonb_build_object('code', 'quantity_above_max_per_order', 'ticketTypeId', p_type_id, 'maxPerOrder', p_max))
$$;

-- What a reservation comes to, computed here in numeric: each item's total
-- (unit price × quantity) and the reservation's total per currency, sent as
-- decimal strings. Clients show these strings and never multiply prices
-- themselves: in binary floating point 0.10 × 3 is 0.30000000000000004.
--
-- The items of reservations as the API lists them, in the ticket types'
-- display order (sort order, then name), each with its total, and each
-- reservation's totals per currency, by currency code. The one place money
-- is multiplied and added up.
--
-- plpgsql rather than sql: its callers pass an ARRAY(subquery), which keeps
-- a sql function from being inlined, and a sql function that is not inlined
-- is planned again on every call, while plpgsql keeps its plans.
CREATE OR REPLACE FUNCTION reservation_lines(p_lines reservation_line[])
RETURNS TABLE (reservation integer, items jsonb, totals jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN QUERY
  WITH line AS (SELECT l.*, l.unit_price * l.quantity AS total FROM unnest(p_lines) AS l)
  SELECT i.reservation, i.items, c.totals
  FROM (SELECT line.reservation,
               jsonb_agg(jsonb_build_object('ticketTypeId', ticket_type_id, 'ticketTypeName', ticket_type_name,
                                            'quantity', quantity, 'unitPrice', unit_price::text, 'currency', currency,
                                            'total', total::text)
                         ORDER BY sort_order, ticket_type_name COLLATE "C", ticket_type_id) AS items
        FROM line GROUP BY 1) AS i
  JOIN (SELECT s.reservation, jsonb_agg(jsonb_build_object('currency', currency, 'total', total::text) ORDER BY currency) AS totals
        FROM (SELECT line.reservation, currency, sum(total) AS total FROM line GROUP BY 1, 2) AS s GROUP BY 1) AS c
    ON c.reservation = i.reservation;
END $$;

-- A reservation with its held items, in the shape the API returns, and its
-- totals, from reservation_lines().
CREATE OR REPLACE FUNCTION reservation_json(p_reservation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT jsonb_build_object(
    'id', r.id, 'eventId', r.event_id, 'holderId', r.holder_id, 'status', r.status,
    'expiresAt', r.expires_at, 'extensionsUsed', r.extensions_used, 'createdAt', r.created_at,
    'confirmedAt', r.confirmed_at, 'releasedAt', r.released_at,
    'items', coalesce(l.items, '[]'), 'totals', coalesce(l.totals, '[]'))
  FROM reservations r
  LEFT JOIN LATERAL reservation_lines(ARRAY(
    SELECT ROW(1, t.event_ticket_id, et.name, count(*)::integer, et.price, et.currency, et.sort_order)::reservation_line
    FROM tickets t JOIN event_tickets et ON et.id = t.event_ticket_id
    WHERE t.reservation_id = r.id
    GROUP BY t.event_ticket_id, et.name, et.price, et.currency, et.sort_order)) AS l ON true
  WHERE r.id = p_reservation_id
$$;
REVOKE EXECUTE ON FUNCTION reservation_json(uuid) FROM PUBLIC;

-- The answer to a request whose Idempotency-Key already made reservation
-- p_reservation_id: that reservation again, or a refusal when the request differs.
CREATE OR REPLACE FUNCTION idempotent_outcome(p_reservation_id uuid, p_request_fingerprint text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN r.request_fingerprint IS DISTINCT FROM p_request_fingerprint THEN
      inventory_refusal('This Idempotency-Key was already used for a different request',
                        '{"code": "idempotency_key_reused"}')
    ELSE reservation_json(r.id) || '{"replayed": true}'
  END
  FROM reservations r WHERE r.id = p_reservation_id
$$;

-- Locks a reservation for its holder (p_holder_id NULL = service, acting for
-- anyone). Another holder's reservation answers exactly as an unknown one
-- does (reservation_not_found), so a caller cannot learn which ids exist. The
-- lookup is the same single row lock either way: the same queries, the same
-- timing class.
CREATE OR REPLACE FUNCTION lock_reservation(p_reservation_id uuid, p_holder_id text) RETURNS reservations
LANGUAGE plpgsql AS $$
DECLARE
  v_reservation reservations%ROWTYPE;
BEGIN
  SELECT * INTO v_reservation FROM reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT FOUND OR (p_holder_id IS NOT NULL AND v_reservation.holder_id <> p_holder_id) THEN
    PERFORM raise_inventory_error('Reservation not found', jsonb_build_object('code', 'reservation_not_found'));
  END IF;
  RETURN v_reservation;
END $$;

CREATE OR REPLACE FUNCTION raise_hold_expired(v_reservation reservations) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM raise_inventory_error('This hold has expired or was released; its seats are available again',
    jsonb_build_object('code', 'hold_expired', 'status',
      CASE WHEN v_reservation.status = 'active' THEN 'expired' ELSE v_reservation.status END));
END $$;

-- Held seats become sold, and the event counts one more order. Confirming twice is harmless.
CREATE OR REPLACE FUNCTION confirm_reservation(p_reservation_id uuid, p_holder_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_reservation reservations := lock_reservation(p_reservation_id, p_holder_id);
  v_seats integer;
BEGIN
  IF v_reservation.status = 'confirmed' THEN
    RETURN reservation_json(v_reservation.id);
  END IF;
  IF v_reservation.status <> 'active' OR v_reservation.expires_at <= now() THEN
    PERFORM raise_hold_expired(v_reservation);
  END IF;
  UPDATE tickets SET status = 'sold', purchased_at = now(), reservation_expires_at = NULL, updated_at = now()
   WHERE reservation_id = v_reservation.id AND status = 'reserved';
  GET DIAGNOSTICS v_seats = ROW_COUNT;
  UPDATE reservations SET status = 'confirmed', confirmed_at = now(), updated_at = now()
   WHERE id = v_reservation.id;
  UPDATE events SET orders_count = orders_count + 1, ordered_seats = ordered_seats + v_seats
   WHERE id = v_reservation.event_id;
  RETURN reservation_json(v_reservation.id);
END $$;
REVOKE EXECUTE ON FUNCTION confirm_reservation(uuid, text) FROM PUBLIC;

-- The holder gives the seats back at once. Releasing a hold that already ended is harmless.
CREATE OR REPLACE FUNCTION release_reservation(p_reservation_id uuid, p_holder_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
REVOKE EXECUTE ON FUNCTION release_reservation(uuid, text) FROM PUBLIC;

-- Pushes the deadline of a live hold out by one step, a bounded number of times.
CREATE OR REPLACE FUNCTION extend_reservation(
  p_reservation_id uuid,
  p_holder_id text,
  p_default_extension_seconds integer,
  p_default_max_extensions integer
) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
REVOKE EXECUTE ON FUNCTION extend_reservation(uuid, text, integer, integer) FROM PUBLIC;
