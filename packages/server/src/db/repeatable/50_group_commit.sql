-- Group commit for holds. In an on-sale, thousands of buyers hold seats of
-- one ticket type at once. One transaction per hold serializes them on the
-- ticket type's row lock, and each keeps that lock through its commit's
-- fsync, so one ticket type tops out at a few hundred holds a second.
--
-- reserve_holds() decides a whole batch of holds for one event in one
-- transaction: the event's ticket types are locked once, each request is
-- decided in arrival order against the seats the requests before it took,
-- and the accepted ones are written with one INSERT per table, so the
-- counter triggers update each hot row once per batch, not once per hold.
-- Each request is still all or nothing and gets its own answer: a
-- reservation, or the refusal reserve_tickets() would have raised.
-- A batch that refuses no one, on an event without a waiting room, is
-- written before it locks anything (docs/inventory.md, A batch written
-- before it locks), so that the next batch's writes need not wait.

-- The id of seat number p_seat (0 to 2^24 - 1) of the hold p_hold_id (a
-- UUIDv7 as text, as uuid_v7() makes it): the hold's id with the seat's
-- number in the 24 bits after the version and the variant, where RFC 9562
-- lets a UUIDv7 carry a counter. A batch's seats need no random bits of
-- their own, which cost more than anything else in their row (uuid_v7()
-- per seat: about 3.6 µs, this 1.4, measured 2026-12-05). Seat ids stay
-- unique (a hold's seats differ in the counter; two holds' seats differ
-- unless the holds' ids agree in their time and in 50 random bits) and
-- time-ordered, and a seat's id tells only what its hold's does: both are
-- seen by the same holder, and anyone who may see others' holds.
CREATE OR REPLACE FUNCTION seat_id(p_hold_id text, p_seat integer) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (substr(p_hold_id, 1, 15) || lpad(to_hex(p_seat >> 12), 3, '0') || '-'
          || substr(p_hold_id, 20, 1) || lpad(to_hex(p_seat & 4095), 3, '0') || substr(p_hold_id, 24))::uuid
$$;

-- What is wrong with one item of a hold request, whatever the stock: a
-- ticket type the event does not have, one not on sale, or more than its
-- most per order. Null when nothing is. p_types is reserve_holds()'s
-- id -> {name, status, maxPerOrder, ...}. A single expression, so that the
-- planner inlines it into the statement that checks a whole batch at once
-- (STABLE, as format() in the refusals is: an IMMUTABLE one is not inlined,
-- and is then planned again for every item).
CREATE OR REPLACE FUNCTION hold_item_refusal(p_types jsonb, p_item jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_types->lower(p_item->>'ticketTypeId') IS NULL THEN
      inventory_refusal('Unknown ticket type for this event',
        jsonb_build_object('code', 'unknown_ticket_type', 'ticketTypeId', p_item->>'ticketTypeId'))
    WHEN p_types->lower(p_item->>'ticketTypeId')->>'status' <> 'on_sale' THEN
      ticket_type_not_on_sale_refusal(lower(p_item->>'ticketTypeId'), p_types->lower(p_item->>'ticketTypeId')->>'name')
    WHEN (p_item->>'quantity')::integer > (p_types->lower(p_item->>'ticketTypeId')->>'maxPerOrder')::integer THEN
      above_max_per_order_refusal(lower(p_item->>'ticketTypeId'), p_types->lower(p_item->>'ticketTypeId')->>'name',
                                  (p_types->lower(p_item->>'ticketTypeId')->>'maxPerOrder')::integer)
  END
$$;

-- A ticket type as a hold batch reads it: what decides and prices a hold,
-- not its counts. One SELECT expression, so it is inlined where it is used.
CREATE OR REPLACE FUNCTION hold_ticket_type(t event_tickets) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('name', t.name, 'status', t.status, 'maxPerOrder', t.max_per_order,
                            'unitPrice', t.price::text, 'currency', t.currency, 'sortOrder', t.sort_order)
$$;

-- Whether every request of a batch would be accepted, taken in arrival
-- order, from p_left seats per type (null: unlimited): every item valid
-- (hold_item_refusal()), and no ticket type asked for more seats in all
-- than it has left. Then no request ever takes more than there is.
CREATE OR REPLACE FUNCTION hold_batch_fits(p_requests jsonb, p_types jsonb, p_left jsonb) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_requests) AS q, jsonb_array_elements(q->'items') AS i
                     GROUP BY lower(i->>'ticketTypeId')
                     HAVING bool_or(hold_item_refusal(p_types, i) IS NOT NULL OR (i->>'quantity')::integer < 1)
                         OR sum((i->>'quantity')::integer) > (p_left->>lower(i->>'ticketTypeId'))::integer);
END $$;

-- Writes a batch's new holds and their seats. p_outcomes are reserve_holds()'s,
-- one per request of p_requests: those with {"made": id} are written. Returns
-- the ids written, and whether some hold was not (lost): its Idempotency-Key
-- was taken by another, whose answer it then gets (reserve_holds()).
CREATE OR REPLACE FUNCTION write_holds(p_event_id uuid, p_requests jsonb, p_outcomes jsonb[], p_expires timestamptz,
                                       OUT inserted uuid[], OUT lost boolean)
LANGUAGE plpgsql AS $$
DECLARE
  -- {id, holderId, items, idempotencyKey, fingerprint} per new hold.
  v_accepted jsonb[];
BEGIN
  SELECT array_agg(jsonb_build_object('id', o->>'made', 'holderId', q->'holderId', 'items', q->'items',
                                      'idempotencyKey', q->'idempotencyKey', 'fingerprint', q->'fingerprint') ORDER BY n)
    INTO v_accepted
    FROM unnest(p_outcomes) WITH ORDINALITY AS o(o, n)
    JOIN jsonb_array_elements(p_requests) WITH ORDINALITY AS r(q, n) USING (n)
   WHERE o ? 'made';
  IF v_accepted IS NULL THEN
    inserted := '{}';
    lost := false;
    RETURN;
  END IF;
  -- A key conflicts here when the same holder sent the same key twice in
  -- this batch (a double click), or a request for another event with it
  -- committed meanwhile. The first one wins; the others are answered as
  -- replays, and the seats counted for them stay free.
  WITH written AS (
    INSERT INTO reservations (id, event_id, holder_id, expires_at, idempotency_key, request_fingerprint)
    SELECT (a.j->>'id')::uuid, p_event_id, a.j->>'holderId', p_expires, a.j->>'idempotencyKey', a.j->>'fingerprint'
    FROM unnest(v_accepted) WITH ORDINALITY AS a(j, n)
    ORDER BY a.n
    ON CONFLICT (holder_id, idempotency_key) DO NOTHING
    RETURNING reservations.id
  )
  SELECT coalesce(array_agg(written.id), '{}') INTO inserted FROM written;
  lost := cardinality(inserted) < cardinality(v_accepted);

  -- Seat k of item n is the hold's seat (n - 1) * 128 + k - 1: an item is at most 100 seats (max_per_order).
  INSERT INTO tickets (id, event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
  SELECT seat_id(a.j->>'id', (item.n::integer - 1) * 128 + seat - 1), p_event_id, (i->>'ticketTypeId')::uuid, (a.j->>'id')::uuid,
         'reserved', a.j->>'holderId', p_expires
  FROM unnest(v_accepted) AS a(j)
  CROSS JOIN LATERAL jsonb_array_elements(a.j->'items') WITH ORDINALITY AS item(i, n)
  CROSS JOIN LATERAL generate_series(1, (i->>'quantity')::integer) AS seat
  WHERE NOT lost OR (a.j->>'id')::uuid = ANY (inserted);
END $$;
REVOKE EXECUTE ON FUNCTION write_holds(uuid, jsonb, jsonb[], timestamptz) FROM PUBLIC;

-- p_event_ref: the event's id or slug.
-- p_requests: [{holderId, items: [{ticketTypeId, quantity}] (distinct ids, in
--   id order), idempotencyKey?, fingerprint?, audience?: {userId?, privileged}}]
--   An audience makes the event visible-or-not-found for that caller
--   (event_is_visible); without one the caller is the service.
-- Returns {eventId, createdAt, expiresAt, types: {id: {name, unitPrice,
-- currency, sortOrder, ...}}, outcomes: [...]} with one outcome per request,
-- in order: {"made": reservation id} for a new hold (the caller builds its
-- reservation from the request and the types: reading hundreds back would
-- cost more than deciding them), a replayed reservation as reservation_json()
-- builds it plus "replayed": true, or {"error": {message, detail}}.
--
-- Its plans: an on-sale's tables grow from empty in minutes, faster than
-- autovacuum re-analyzes them (it visits each database once a minute).
-- Statistics taken while reservations was empty make the planner join a
-- batch's Idempotency-Keys to it by scanning the whole table, and plpgsql
-- keeps that plan: with ANALYZE run on empty tables, batches of 200 keyed
-- holds fell from about 2,000 to 330 holds/s within 20 s, and stayed there.
-- It only ever reads these tables by key, so it is told never to scan them
-- (enable_seqscan off, as expire_due_holds() is). With this, the same run
-- held 3,400-7,000. And jit off: it builds a batch's tickets from unnest(),
-- jsonb_array_elements() and generate_series(), which the planner guesses at
-- 12.7 million rows for 200 holds, far above jit_above_cost, so every batch
-- JIT-compiled its tickets INSERT (14 functions) before running it:
-- milliseconds spent on every batch of a statement that takes ten or twenty.
-- Its statements are small and run once each: never worth compiling. The
-- setting also covers the triggers it fires.
-- And generic plans only (plan_cache_mode): plpgsql otherwise plans some of
-- its statements again on every batch, for their parameters' values, which
-- change nothing here: every table is read by key (and never scanned, as
-- above), the rest are the batch's own arrays. With this and the visibility
-- check skipped for a public event, 15-17% less database CPU per hold
-- (batches of 32 and 200 keyed holds, alternated). new_holds_priced() too.
--
-- It runs as its owner: one batch holds seats for many buyers (see
-- 30_reservations.sql on SECURITY DEFINER).
CREATE OR REPLACE FUNCTION reserve_holds(p_event_ref text, p_requests jsonb, p_default_hold_seconds integer)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET enable_seqscan = off SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_event events%ROWTYPE;
  -- Ticket type id -> {name, status, maxPerOrder, ...}, and id -> seats this batch may still give (null: unlimited).
  v_types jsonb;
  v_left jsonb;
  v_taken jsonb := '{}';
  v_swept text[] := '{}';
  -- Reservation ids made earlier under a request's Idempotency-Key ("holder\nkey" -> id).
  v_existing jsonb;
  -- Arrays, not jsonb, where they grow with the batch: plpgsql appends to them in place.
  v_outcomes jsonb[] := '{}';
  -- The batch's holds and seats are written (before the loop, or after it).
  v_written boolean := false;
  -- Public, on sale, no replays: a batch may be accepted whole.
  v_plain boolean;
  v_request jsonb;
  v_item jsonb;
  v_key text;
  v_id text;
  v_quantity integer;
  v_left_now integer;
  v_wanted integer;
  v_refusal jsonb;
  v_n integer;
  v_i integer;
  v_expires timestamptz;
  v_inserted uuid[] := '{}';
  -- Some accepted hold lost its Idempotency-Key to another (rare): only then is each one looked up in v_inserted.
  v_lost boolean := false;
  v_outcome jsonb;
  v_result jsonb[] := '{}';
  -- On an event with a waiting room: holder -> why they may not hold (queue_hold_refusals, 70_waiting_room.sql), and who holds in this batch.
  v_queue_refusals jsonb;
  v_queue_holders text[] := '{}';
  -- The event is visible to anyone (public, on sale): no request's audience needs checking.
  v_public boolean;
BEGIN
  v_event := event_by_ref(p_event_ref);
  v_public := v_event.id IS NOT NULL AND event_is_visible(v_event, NULL, false);

  IF v_event.id IS NOT NULL THEN
    v_expires := now() + make_interval(secs => coalesce(v_event.hold_seconds, p_default_hold_seconds));
    -- One index lookup per key (LIMIT keeps the planner from turning it into
    -- a join): a hash join's generic plan read the whole of
    -- reservations_idempotency for every batch, milliseconds a batch once
    -- an on-sale had made 100,000 holds. Before any lock: a key committed
    -- after this meets write_holds()'s ON CONFLICT.
    SELECT jsonb_object_agg(q->>'holderId' || E'\n' || (q->>'idempotencyKey'), r.id) INTO v_existing
      FROM jsonb_array_elements(p_requests) AS q
      CROSS JOIN LATERAL (SELECT id FROM reservations
                           WHERE holder_id = q->>'holderId' AND idempotency_key = q->>'idempotencyKey' LIMIT 1) AS r
     WHERE q ? 'idempotencyKey';
  END IF;
  v_existing := coalesce(v_existing, '{}');

  -- Most batches of an on-sale refuse no one: the event public and on sale,
  -- no replays, every item valid, and each ticket type's seats enough for
  -- all the batch wants of it (hold_batch_fits()). The loop below would
  -- accept every request, in order, without a pass per request (about 14 µs
  -- each): they are accepted in one statement instead.
  --
  -- On an event without a waiting room, such a batch is also written before
  -- it waits for anyone: the ticket types are read without a lock, and the
  -- seats' counter update (10_counters.sql) is the first thing that locks
  -- them, in id order, as a confirm's does. While one batch holds the locks
  -- to its commit, the next writes its holds and seats, which is most of a
  -- batch's work, instead of queueing behind it for all of it. If the seats
  -- ran out meanwhile (event_tickets_within_capacity), or what decided the
  -- batch changed (a type paused, its limit or price changed), the batch is
  -- undone and decided again the usual way, under the locks.
  -- What every batch that refuses no one needs, with or without the locks.
  v_plain := v_public AND v_event.status = 'on_sale' AND v_existing = '{}';
  IF v_plain AND queue_hold_refusals(v_event.id, '[]') IS NULL THEN
    SELECT jsonb_object_agg(id, hold_ticket_type(t)), jsonb_object_agg(id, available_count) INTO v_types, v_left
      FROM event_tickets AS t WHERE event_id = v_event.id;
    IF hold_batch_fits(p_requests, v_types, v_left) THEN
      BEGIN
        SELECT array_agg(jsonb_build_object('made', uuid_v7()::text)) INTO v_outcomes
          FROM generate_series(1, jsonb_array_length(p_requests));
        SELECT * INTO v_inserted, v_lost FROM write_holds(v_event.id, p_requests, v_outcomes, v_expires);
        -- The seats' types are locked now: read again, they are what was decided on, or the batch is undone.
        IF (SELECT jsonb_object_agg(id, hold_ticket_type(t)) FROM event_tickets AS t WHERE event_id = v_event.id) IS DISTINCT FROM v_types THEN
          RAISE EXCEPTION 'ticket types changed' USING ERRCODE = 'TP001';
        END IF;
        v_written := true;
      -- deadlock_detected: only a DELETE of a type or the event, which locks it
      -- FOR UPDATE (everything else takes FOR NO KEY UPDATE, 10_counters.sql),
      -- can meet this batch's reference locks that way; if this batch is the
      -- one PostgreSQL picks, it is decided again under the locks.
      EXCEPTION WHEN check_violation OR deadlock_detected OR SQLSTATE 'TP001' THEN
        v_outcomes := '{}';
        v_inserted := '{}';
        v_lost := false;
      END;
    END IF;
  END IF;

  IF v_event.id IS NOT NULL AND NOT v_written THEN
    -- Every ticket type of the event, locked in id order (docs/inventory.md, Lock order), once for the whole batch.
    SELECT jsonb_object_agg(id, hold_ticket_type(locked)), jsonb_object_agg(id, available_count)
      INTO v_types, v_left
      FROM (SELECT * FROM event_tickets WHERE event_id = v_event.id ORDER BY id FOR NO KEY UPDATE) AS locked;
    v_queue_refusals := queue_hold_refusals(v_event.id, p_requests);
  END IF;
  v_types := coalesce(v_types, '{}');
  v_left := coalesce(v_left, '{}');

  -- Under the locks, a batch that refuses no one is accepted at once too. On
  -- an event with a waiting room, that also needs the room to refuse none of
  -- them, and no holder twice in the batch (one hold at a time).
  IF NOT v_written AND v_plain
     AND (v_queue_refusals IS NULL
          OR (v_queue_refusals = '{}' AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_requests) AS q
                                                     GROUP BY q->>'holderId' HAVING count(*) > 1)))
     AND hold_batch_fits(p_requests, v_types, v_left) THEN
    SELECT coalesce(array_agg(jsonb_build_object('made', uuid_v7()::text)), '{}') INTO v_outcomes
      FROM generate_series(1, jsonb_array_length(p_requests));
  END IF;

  -- Undecided requests: all of them, or none if a batch that refuses no one was accepted.
  FOR v_n IN cardinality(v_outcomes) .. jsonb_array_length(p_requests) - 1 LOOP
    v_request := p_requests->v_n;
    v_key := (v_request->>'holderId') || E'\n' || (v_request->>'idempotencyKey');
    v_refusal := NULL;

    IF v_event.id IS NULL
       OR (NOT v_public AND v_request ? 'audience'
           AND NOT event_is_visible(v_event, v_request->'audience'->>'userId', (v_request->'audience'->>'privileged')::boolean)) THEN
      v_refusal := inventory_refusal('Event not found', '{"code": "event_not_found"}');
    ELSIF v_key IS NOT NULL AND v_existing ? v_key THEN
      v_outcomes := v_outcomes || jsonb_build_object('replay', v_existing->>v_key);
      CONTINUE;
    ELSIF v_event.status <> 'on_sale' THEN
      v_refusal := event_not_on_sale_refusal(v_event.status);
    ELSIF v_queue_refusals IS NOT NULL AND v_request ? 'audience' AND NOT (v_request->'audience'->>'privileged')::boolean THEN
      -- A visitor on a queued event: a valid pass, one active hold at a time (this batch's included).
      v_refusal := coalesce(v_queue_refusals->(v_request->>'holderId'),
                            CASE WHEN (v_request->>'holderId') = ANY (v_queue_holders) THEN queue_one_hold_refusal() END);
    END IF;

    -- First what is wrong with the request itself, for every item; only then
    -- what is missing in stock, so the same request always gets the same answer.
    IF v_refusal IS NULL THEN
      FOR v_i IN 0 .. jsonb_array_length(v_request->'items') - 1 LOOP
        v_refusal := hold_item_refusal(v_types, v_request->'items'->v_i);
        EXIT WHEN v_refusal IS NOT NULL;
      END LOOP;
    END IF;

    IF v_refusal IS NULL THEN
      FOR v_i IN 0 .. jsonb_array_length(v_request->'items') - 1 LOOP
        v_item := v_request->'items'->v_i;
        v_id := lower(v_item->>'ticketTypeId');
        v_quantity := (v_item->>'quantity')::integer;
        v_left_now := (v_left->>v_id)::integer;
        IF v_left_now < v_quantity AND NOT v_id = ANY (v_swept) THEN
          -- Looks exhausted: an expired hold must never block a sale. Once
          -- per type per batch, for as many seats as this and the batch's
          -- later requests want of it: every buyer of the event waits for
          -- this release (40_expiry.sql), so it leaves the rest to the sweeper.
          SELECT coalesce(sum((i->>'quantity')::integer), 0) INTO v_wanted
            FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(q, n), jsonb_array_elements(q->'items') AS i
           WHERE q.n > v_n AND lower(i->>'ticketTypeId') = v_id;
          PERFORM expire_ticket_reservations(v_id::uuid, v_wanted - v_left_now);
          v_swept := v_swept || v_id;
          SELECT available_count - coalesce((v_taken->>v_id)::integer, 0) INTO v_left_now
            FROM event_tickets WHERE id = v_id::uuid;
          v_left := jsonb_set(v_left, ARRAY[v_id], to_jsonb(v_left_now));
        END IF;
        IF v_left_now < v_quantity THEN
          v_refusal := inventory_refusal(format('Only %s of %s left', v_left_now, v_types->v_id->>'name'),
            jsonb_build_object('code', 'insufficient_availability', 'ticketTypeId', v_id,
                               'available', v_left_now, 'requested', v_quantity));
          EXIT;
        END IF;
      END LOOP;
    END IF;

    IF v_refusal IS NOT NULL THEN
      v_outcomes := v_outcomes || v_refusal;
      CONTINUE;
    END IF;

    FOR v_i IN 0 .. jsonb_array_length(v_request->'items') - 1 LOOP
      v_item := v_request->'items'->v_i;
      v_id := lower(v_item->>'ticketTypeId');
      v_quantity := (v_item->>'quantity')::integer;
      IF v_left->>v_id IS NOT NULL THEN
        v_left := jsonb_set(v_left, ARRAY[v_id], to_jsonb((v_left->>v_id)::integer - v_quantity));
      END IF;
      v_taken := jsonb_set(v_taken, ARRAY[v_id], to_jsonb(coalesce((v_taken->>v_id)::integer, 0) + v_quantity));
    END LOOP;
    IF v_queue_refusals IS NOT NULL THEN
      v_queue_holders := v_queue_holders || (v_request->>'holderId');
    END IF;
    v_outcomes := v_outcomes || jsonb_build_object('made', uuid_v7()::text);
  END LOOP;

  IF NOT v_written THEN
    SELECT * INTO v_inserted, v_lost FROM write_holds(v_event.id, p_requests, v_outcomes, v_expires);
  END IF;

  FOR v_n IN 1 .. coalesce(array_length(v_outcomes, 1), 0) LOOP
    v_outcome := v_outcomes[v_n];
    v_request := p_requests->(v_n - 1);
    IF v_lost AND v_outcome ? 'made' AND NOT (v_outcome->>'made')::uuid = ANY (v_inserted) THEN
      -- Lost its key to a request that was written first: answered as a replay of that one.
      v_outcome := idempotent_outcome(
        (SELECT id FROM reservations WHERE holder_id = v_request->>'holderId' AND idempotency_key = v_request->>'idempotencyKey'),
        v_request->>'fingerprint');
    ELSIF v_outcome ? 'replay' THEN
      v_outcome := idempotent_outcome((v_outcome->>'replay')::uuid, v_request->>'fingerprint');
    END IF;
    v_result := v_result || v_outcome;
  END LOOP;
  -- The event's version after this batch's seats were counted: it includes every hold answered here.
  RETURN jsonb_build_object('eventId', v_event.id, 'createdAt', now(), 'expiresAt', v_expires,
                            'types', v_types, 'outcomes', to_jsonb(v_result),
                            'availabilityVersion', (SELECT availability_version FROM events WHERE id = v_event.id));
END $$;
REVOKE EXECUTE ON FUNCTION reserve_holds(text, jsonb, integer) FROM PUBLIC;

-- One hold, for SQL callers: a batch of one, raising its refusal as TP000.
CREATE OR REPLACE FUNCTION reserve_tickets(
  p_event_id uuid,
  p_holder_id text,
  p_items jsonb,
  p_default_hold_seconds integer,
  p_idempotency_key text DEFAULT NULL,
  p_request_fingerprint text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_outcome jsonb := reserve_holds(p_event_id::text,
    jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'holderId', p_holder_id,
      'items', (SELECT jsonb_agg(i ORDER BY lower(i->>'ticketTypeId')) FROM jsonb_array_elements(p_items) AS i),
      'idempotencyKey', p_idempotency_key, 'fingerprint', p_request_fingerprint))),
    p_default_hold_seconds)->'outcomes'->0;
BEGIN
  IF v_outcome ? 'error' THEN
    PERFORM raise_refusal(v_outcome);
  END IF;
  IF v_outcome ? 'made' THEN
    RETURN reservation_json((v_outcome->>'made')::uuid) || '{"replayed": false}';
  END IF;
  RETURN v_outcome;
END $$;

-- reserve_holds() answers a new hold with its id only ({"made": id}); the
-- caller builds the rest. This prices them, from the requests (p_requests:
-- the batch's, one per outcome) and the ticket types the batch read, as
-- reservation_json() lists them. It adds "priced": [{items, totals}], one per
-- distinct order among the new holds, and "pricedAs": for each outcome, its
-- index in "priced", or null. An on-sale's holds mostly ask for the same few
-- orders, so a batch is priced once per order, not once per hold: priced one
-- by one, a batch of 256 holds took about 40% longer.
--
-- plpgsql rather than sql, as reservation_lines(): a sql function that is not
-- inlined is planned again on every call; plpgsql keeps its plans.
CREATE OR REPLACE FUNCTION new_holds_priced(p_batch jsonb, p_requests jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (WITH outcome AS (
    SELECT n, o ? 'made' AS made, q->'items' AS items
    FROM jsonb_array_elements(p_batch->'outcomes') WITH ORDINALITY AS o(o, n)
    JOIN jsonb_array_elements(p_requests) WITH ORDINALITY AS q(q, n) USING (n)
  ), kind AS (
    SELECT items, (row_number() OVER ())::integer - 1 AS k FROM (SELECT DISTINCT items FROM outcome WHERE made) AS d
  ), priced AS (
    SELECT * FROM reservation_lines(ARRAY(
      SELECT ROW(kind.k, (i->>'ticketTypeId')::uuid, t->>'name', (i->>'quantity')::integer,
                 (t->>'unitPrice')::numeric, t->>'currency', (t->>'sortOrder')::integer)::reservation_line
      FROM kind, jsonb_array_elements(kind.items) AS i, LATERAL (SELECT p_batch->'types'->lower(i->>'ticketTypeId')) AS type(t)))
  )
  SELECT p_batch || jsonb_build_object(
    'priced', coalesce((SELECT jsonb_agg(jsonb_build_object('items', coalesce(p.items, '[]'), 'totals', coalesce(p.totals, '[]')) ORDER BY kind.k)
                        FROM kind LEFT JOIN priced AS p ON p.reservation = kind.k), '[]'),
    'pricedAs', coalesce((SELECT jsonb_agg(kind.k ORDER BY n) FROM outcome LEFT JOIN kind ON outcome.made AND kind.items = outcome.items), '[]')));
END $$;
