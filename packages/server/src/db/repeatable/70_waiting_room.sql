-- The virtual waiting room (docs/waiting-room.md). Tables: migrations/0002_waiting_room.sql.
--
-- Positions: pre-queue joiners get theirs at opensAt from one shuffle
-- (queue_shuffle); later joiners get the next one in arrival order, under the
-- queue row's lock. Admission (queue_admission_tick) advances one counter per
-- event, served_up_to, by the elapsed time times the rate: a position at or
-- below it has had its turn, at the time of the queue_admissions row that
-- covers it, and its pass runs pass_seconds from then. No row per admitted
-- visitor is written; only the few skipped (abandoned) ones are marked.
--
-- Every function here runs as its owner (queue_entries has row-level
-- security and no policy: only these functions read it) and checks the
-- holder itself, from the id the service took from a verified token.

-- When position p had its turn (null: not yet).
CREATE OR REPLACE FUNCTION queue_turn_at(p_event_id uuid, p_position bigint) RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT at FROM queue_admissions WHERE event_id = p_event_id AND to_position >= p_position ORDER BY to_position LIMIT 1
$$;
REVOKE EXECUTE ON FUNCTION queue_turn_at(uuid, bigint) FROM PUBLIC;

-- Where both measures of admission start: the opening, or the last tick that left nobody waiting
-- (caught_up_at) if later: time with nobody to admit is no measure of the line's pace.
CREATE OR REPLACE FUNCTION queue_measure_start(p_queue event_queues) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(p_queue.opens_at, p_queue.caught_up_at)
$$;

-- Real visitors admitted per minute over the last minute, or since queue_measure_start() if that is
-- later (the organizer's measuredAdmitPerMinute); null before a second has passed.
CREATE OR REPLACE FUNCTION queue_measured_rate(p_queue event_queues, p_now timestamptz) RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT CASE WHEN span >= 1 THEN coalesce(admitted, 0) * 60.0 / span END
  FROM (SELECT greatest(queue_measure_start(p_queue), p_now - interval '60 seconds') AS since) AS s,
       LATERAL (SELECT extract(epoch FROM p_now - s.since)::double precision AS span) AS d,
       LATERAL (SELECT sum(admitted)::double precision AS admitted FROM queue_admissions
                WHERE event_id = p_queue.event_id AND at > s.since AND at <= p_now) AS a
$$;
REVOKE EXECUTE ON FUNCTION queue_measured_rate(event_queues, timestamptz) FROM PUBLIC;

-- The line's pace in places per minute, what waits are estimated with: places the served-up-to mark
-- passed (admitted visitors, and the skipped and vacated places among them, which peopleAhead counts
-- until they are passed; with a third of the line gone it moves half again as fast as admissions).
-- Measured up to the last admission tick, over the minute before it (from queue_measure_start() at
-- most), and as if 5 places had passed at the configured rate just before that: it starts at
-- admitPerMinute and moves to the measure as it grows, rather than swinging between double and half
-- while one admission more or less is most of it. It changes only when admission does, so neither
-- the `queue` frame nor a polled entry's ETag changes with the clock alone. With an active-shopper
-- cap it is never above what the cap lets through for good, maxActiveShoppers per passSeconds: a
-- burst at opening, then one admission per pass that ends, must not promise the burst's pace.
CREATE OR REPLACE FUNCTION queue_measured_pace(p_queue event_queues, p_now timestamptz) RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT least((coalesce(places, 0) + 5) * 60.0 / (extract(epoch FROM l.last - w.since)::double precision + 5 * 60.0 / p_queue.admit_per_minute),
               p_queue.max_active_shoppers * 60.0 / p_queue.pass_seconds)
  FROM (SELECT queue_measure_start(p_queue) AS start) AS s,
       LATERAL (SELECT greatest(s.start, (SELECT max(at) FROM queue_admissions WHERE event_id = p_queue.event_id AND at <= p_now)) AS last) AS l,
       LATERAL (SELECT greatest(s.start, l.last - interval '60 seconds') AS since) AS w,
       LATERAL (SELECT sum(to_position - from_position)::double precision AS places FROM queue_admissions
                WHERE event_id = p_queue.event_id AND at > w.since AND at <= l.last) AS a
$$;
REVOKE EXECUTE ON FUNCTION queue_measured_pace(event_queues, timestamptz) FROM PUBLIC;

-- Admitted visitors whose pass is still running (skipped ones never count): the active-shopper cap's count.
CREATE OR REPLACE FUNCTION queue_active_shoppers(p_queue event_queues, p_now timestamptz) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT coalesce(sum(admitted), 0)::bigint FROM queue_admissions
  WHERE event_id = p_queue.event_id AND at > p_now - make_interval(secs => p_queue.pass_seconds)
$$;
REVOKE EXECUTE ON FUNCTION queue_active_shoppers(event_queues, timestamptz) FROM PUBLIC;

-- Visitors still in line: the pre-queue before the shuffle, then every position above served_up_to nobody vacated.
CREATE OR REPLACE FUNCTION queue_length(p_queue event_queues) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_queue.prequeue_count + p_queue.last_position - p_queue.served_up_to - p_queue.vacated
$$;

-- Seconds until position p's turn at a pace in places per minute (queue_measured_pace(), never 0: it starts at the configured rate).
CREATE OR REPLACE FUNCTION queue_wait_seconds(p_queue event_queues, p_position bigint, p_rate double precision, p_now timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT (greatest(0, ceil(extract(epoch FROM p_queue.opens_at - p_now)))
          + ceil(greatest(0, p_position - p_queue.served_up_to) * 60.0 / p_rate))::integer
$$;

-- The queue's status as visitors see it: prequeue before opensAt, then the admission state.
CREATE OR REPLACE FUNCTION queue_status(p_queue event_queues, p_now timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN NOT p_queue.enabled THEN 'closed'
              WHEN p_queue.admission_state IN ('sold_out', 'closed') THEN p_queue.admission_state
              WHEN p_now < p_queue.opens_at THEN 'prequeue'
              WHEN p_queue.paused THEN 'paused'
              ELSE p_queue.admission_state END
$$;

-- A time as the API writes every other (Date.toISOString(): UTC, milliseconds, `Z`), for
-- refusal details, which reach the client as built here (jsonb would write `+00:00`).
CREATE OR REPLACE FUNCTION queue_iso_time(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The event's average seats per order, to 0.1 (null before its first order):
-- what the "enough tickets for the people ahead?" line multiplies people
-- ahead by (the rule is in the protocol package, beside the queue shapes).
CREATE OR REPLACE FUNCTION queue_seats_per_order(p_event events) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
  SELECT round(p_event.ordered_seats::numeric / nullif(p_event.orders_count, 0), 1)
$$;

-- Settings and live figures (GET /api/events/:idOrSlug/queue).
CREATE OR REPLACE FUNCTION queue_json(p_queue event_queues, p_now timestamptz DEFAULT now()) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_pace double precision := queue_measured_pace(p_queue, p_now);
  v_length bigint := queue_length(p_queue);
BEGIN
  RETURN jsonb_build_object(
    'eventId', p_queue.event_id,
    'enabled', p_queue.enabled,
    'opensAt', p_queue.opens_at,
    'prequeueMinutes', p_queue.prequeue_minutes,
    'admitPerMinute', p_queue.admit_per_minute,
    'maxActiveShoppers', p_queue.max_active_shoppers,
    'passSeconds', p_queue.pass_seconds,
    'abandonAfterSeconds', p_queue.abandon_after_seconds,
    'paused', p_queue.paused,
    'status', queue_status(p_queue, p_now),
    'length', v_length,
    'admitted', p_queue.admitted_count,
    'activeShoppers', queue_active_shoppers(p_queue, p_now),
    'servedUpTo', p_queue.served_up_to,
    'lastPosition', p_queue.last_position,
    'measuredAdmitPerMinute', queue_measured_rate(p_queue, p_now),
    'abandoned', p_queue.skipped_count,
    'seatsPerOrder', (SELECT queue_seats_per_order(e) FROM events e WHERE e.id = p_queue.event_id),
    'estimatedWaitSeconds', CASE WHEN p_queue.admission_state NOT IN ('sold_out', 'closed') AND p_queue.enabled
                                 THEN queue_wait_seconds(p_queue, greatest(p_queue.last_position, p_queue.served_up_to + v_length), v_pace, p_now) END);
END $$;
REVOKE EXECUTE ON FUNCTION queue_json(event_queues, timestamptz) FROM PUBLIC;

-- An entry's status: closed once it left or the queue closed; admitted while
-- its pass runs; sold_out; expired once its pass ran out; prequeue until it
-- has a position; else waiting. p_pass_expires: null until its turn came.
-- queue_entry_json() builds every entry with it, and queue_join_batch() a
-- batch's new entries (plain SQL, inlined where it is called).
CREATE OR REPLACE FUNCTION queue_entry_status(p_queue_status text, p_left boolean, p_position bigint, p_pass_expires timestamptz, p_now timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_left OR p_queue_status = 'closed' THEN 'closed'
    WHEN p_pass_expires > p_now THEN 'admitted'
    WHEN p_queue_status = 'sold_out' THEN 'sold_out'
    WHEN p_pass_expires IS NOT NULL THEN 'expired'
    WHEN p_position IS NULL THEN 'prequeue'
    ELSE 'waiting' END
$$;

-- An entry's people ahead: 0 once admitted; in line, the places between
-- served_up_to and its position (null in the pre-queue); else null.
CREATE OR REPLACE FUNCTION queue_entry_ahead(p_queue event_queues, p_status text, p_position bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_status = 'admitted' THEN 0
              WHEN p_status IN ('waiting', 'prequeue') THEN p_position - p_queue.served_up_to - 1 END
$$;

-- An entry's estimated wait in seconds: 0 once admitted; in line, until its
-- turn (in the pre-queue, until opensAt); else null.
CREATE OR REPLACE FUNCTION queue_entry_wait(p_queue event_queues, p_status text, p_position bigint, p_rate double precision, p_now timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_status = 'admitted' THEN 0
              WHEN p_status IN ('waiting', 'prequeue') THEN
                CASE WHEN p_position IS NOT NULL THEN queue_wait_seconds(p_queue, p_position, p_rate, p_now)
                     ELSE greatest(0, ceil(extract(epoch FROM p_queue.opens_at - p_now)))::integer END END
$$;

-- An entry as its holder sees it; the service adds the signed pass (docs/waiting-room.md, Passes).
-- p_rate: queue_measured_pace(p_queue, p_now), read once by callers that build many entries.
-- Only the functions here call it (they run as the owner, search path pinned),
-- and it reads no table itself: it runs as its caller, which spares a join
-- batch the cost of switching user and search path for every entry. It
-- builds json, not jsonb: a batch only sends its entries on, and building
-- and printing jsonb cost a join batch a quarter of its time.
CREATE OR REPLACE FUNCTION queue_entry_json(p_entry queue_entries, p_queue event_queues, p_now timestamptz, p_rate double precision) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_turn timestamptz;
  v_pass_expires timestamptz;
  v_status text;
BEGIN
  IF p_entry.position IS NOT NULL AND p_entry.position <= p_queue.served_up_to THEN
    v_turn := queue_turn_at(p_queue.event_id, p_entry.position);
    v_pass_expires := v_turn + make_interval(secs => p_queue.pass_seconds);
  END IF;
  v_status := queue_entry_status(queue_status(p_queue, p_now), p_entry.left_at IS NOT NULL, p_entry.position, v_pass_expires, p_now);
  RETURN json_build_object(
    'id', p_entry.id,
    'eventId', p_entry.event_id,
    'holderId', p_entry.holder_id,
    'status', v_status,
    'position', p_entry.position,
    'peopleAhead', queue_entry_ahead(p_queue, v_status, p_entry.position),
    'estimatedWaitSeconds', queue_entry_wait(p_queue, v_status, p_entry.position, p_rate, p_now),
    'opensAt', p_queue.opens_at,
    'admittedAt', CASE WHEN v_status = 'admitted' THEN v_turn END,
    'passExpiresAt', CASE WHEN v_status = 'admitted' THEN v_pass_expires END);
END $$;
REVOKE EXECUTE ON FUNCTION queue_entry_json(queue_entries, event_queues, timestamptz, double precision) FROM PUBLIC;

-- queue_entry_json() now, for one entry.
CREATE OR REPLACE FUNCTION queue_entry_json(p_entry queue_entries, p_queue event_queues) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT queue_entry_json(p_entry, p_queue, now(), queue_measured_pace(p_queue, now()))::jsonb
$$;
REVOKE EXECUTE ON FUNCTION queue_entry_json(queue_entries, event_queues) FROM PUBLIC;

-- Creates or changes an event's queue. p_settings: the wire's names; on create the
-- missing ones take their defaults, on change they stay as they are. Live state is kept.
-- An opensAt moved into the future after the queue opened starts a new
-- pre-queue: the places handed out are kept, admission waits for the new
-- opensAt, and whoever joins meanwhile gets a place then, from a new shuffle
-- behind them (else they would be placed by arrival while the queue says
-- prequeue, and never shuffled).
CREATE OR REPLACE FUNCTION queue_configure(p_event_ref text, p_settings jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_event events := event_by_ref(p_event_ref);
  v_queue event_queues;
  s jsonb := p_settings;
  v_opens_at timestamptz;
BEGIN
  IF v_event.id IS NULL THEN
    PERFORM raise_inventory_error('Event not found', '{"code": "event_not_found"}');
  END IF;
  SELECT * INTO v_queue FROM event_queues WHERE event_id = v_event.id FOR UPDATE;
  IF v_queue.event_id IS NULL THEN
    IF NOT (s ? 'opensAt' AND s ? 'admitPerMinute') THEN
      PERFORM raise_inventory_error('This event has no waiting room yet: send opensAt and admitPerMinute to create it',
        '{"code": "queue_not_found"}');
    END IF;
    INSERT INTO event_queues (event_id, opens_at, admit_per_minute) VALUES (v_event.id, (s->>'opensAt')::timestamptz, (s->>'admitPerMinute')::integer)
    RETURNING * INTO v_queue;
  END IF;
  v_opens_at := coalesce((s->>'opensAt')::timestamptz, v_queue.opens_at);
  UPDATE event_queues SET
    enabled = coalesce((s->>'enabled')::boolean, enabled),
    opens_at = v_opens_at,
    shuffled_at = CASE WHEN v_opens_at > now() THEN NULL ELSE shuffled_at END,
    prequeue_minutes = coalesce((s->>'prequeueMinutes')::integer, prequeue_minutes),
    admit_per_minute = coalesce((s->>'admitPerMinute')::integer, admit_per_minute),
    max_active_shoppers = CASE WHEN s ? 'maxActiveShoppers' THEN (s->>'maxActiveShoppers')::integer ELSE max_active_shoppers END,
    pass_seconds = coalesce((s->>'passSeconds')::integer, pass_seconds),
    abandon_after_seconds = coalesce((s->>'abandonAfterSeconds')::integer, abandon_after_seconds),
    paused = coalesce((s->>'paused')::boolean, paused),
    updated_at = now()
  WHERE event_id = v_event.id
  RETURNING * INTO v_queue;
  RETURN queue_json(v_queue);
END $$;
REVOKE EXECUTE ON FUNCTION queue_configure(text, jsonb) FROM PUBLIC;

-- An event's queue for an organizer; queue_not_found when it has none.
CREATE OR REPLACE FUNCTION queue_read(p_event_ref text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_queue event_queues;
BEGIN
  SELECT q.* INTO v_queue FROM event_queues q WHERE q.event_id = (event_by_ref(p_event_ref)).id;
  IF v_queue.event_id IS NULL THEN
    PERFORM raise_inventory_error('This event has no waiting room', '{"code": "queue_not_found"}');
  END IF;
  RETURN queue_json(v_queue);
END $$;
REVOKE EXECUTE ON FUNCTION queue_read(text) FROM PUBLIC;

-- The pre-queue gets its positions: one uniform random permutation, drawn now.
-- gen_random_uuid() takes its 122 random bits from pg_strong_random()
-- (OpenSSL's CSPRNG, or the platform's secure source), once per entry:
-- sorting by them is a uniformly random order, and nobody (the joiner
-- included) can know or influence it before this statement runs. The id only
-- breaks a tie, which has a negligible chance.
-- The caller holds the queue row's lock.
--
-- Its cost is the write: each pre-queued entry gets a new row version, and
-- one entry in each index of queue_entries (position is indexed, so the
-- update cannot be HOT); the entry id has no index of its own for this
-- reason (migrations/0005). 100,000 draws are sorted in memory (about 10 MB:
-- the default work_mem of 4 MB would spill them to disk), and the statement
-- is never JIT-compiled (its row estimates run above jit_above_cost, and
-- compiling costs more than it saves on one run).
CREATE OR REPLACE FUNCTION queue_shuffle(p_event_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET work_mem = '64MB' SET jit = off AS $$
DECLARE
  v_count bigint;
BEGIN
  WITH drawn AS (
    SELECT id, row_number() OVER (ORDER BY gen_random_uuid(), id) AS n
    FROM queue_entries WHERE event_id = p_event_id AND position IS NULL AND left_at IS NULL
  ), placed AS (
    UPDATE queue_entries e SET position = q.last_position + drawn.n
    FROM drawn, event_queues q WHERE e.id = drawn.id AND q.event_id = p_event_id
    RETURNING 1
  )
  SELECT count(*) INTO v_count FROM placed;
  UPDATE event_queues SET shuffled_at = now(), prequeue_count = 0, last_position = last_position + v_count, updated_at = now()
  WHERE event_id = p_event_id;
END $$;
REVOKE EXECUTE ON FUNCTION queue_shuffle(uuid) FROM PUBLIC;

-- The queue a visitor may see (event visible to them, queue enabled), locked when p_lock; refusals raised.
CREATE OR REPLACE FUNCTION queue_for_visitor(p_event_ref text, p_user_id text, p_privileged boolean, p_lock boolean) RETURNS event_queues
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_event events := event_by_ref(p_event_ref);
  v_queue event_queues;
BEGIN
  IF v_event.id IS NULL OR NOT event_is_visible(v_event, p_user_id, p_privileged) THEN
    PERFORM raise_inventory_error('Event not found', '{"code": "event_not_found"}');
  END IF;
  IF p_lock THEN
    SELECT * INTO v_queue FROM event_queues WHERE event_id = v_event.id FOR UPDATE;
  ELSE
    SELECT * INTO v_queue FROM event_queues WHERE event_id = v_event.id;
  END IF;
  IF v_queue.event_id IS NULL OR NOT v_queue.enabled THEN
    PERFORM raise_inventory_error('This event has no waiting room', '{"code": "queue_not_found"}');
  END IF;
  RETURN v_queue;
END $$;
REVOKE EXECUTE ON FUNCTION queue_for_visitor(text, text, boolean, boolean) FROM PUBLIC;

-- Joins of one event, a batch in one transaction (group commit, as
-- reserve_holds() does for holds; the service batches them in
-- waiting-room/join-batch.ts). One transaction per join would serialize
-- every join of an event on the queue row's lock, through its commit: a few
-- hundred joins a second. Here the lock is taken once per batch, the new
-- entries are written with one INSERT, and positions are handed out
-- consecutively in the batch's order, which is the order the requests
-- arrived at the node; the batch's database time is every join's time.
--
-- p_holders, p_user_ids, p_privileged: one element per request, in arrival
-- order (the holder id, and the caller's audience as event_is_visible()
-- takes it).
-- Returns {"fresh": {eventId, status, opensAt}, "outcomes": [...]}, one outcome per
-- request, in order:
--   {"created": [id, position, peopleAhead, estimatedWaitSeconds]}: a new
--     entry, whose event, status and opensAt are "fresh"'s (the same for every new
--     entry of the batch: the queue's, read once);
--   {"entry": queue_entry_json()}: the holder's entry, not created now (one
--     already in line as it is, one put back at the end, or a holder's second
--     request in the batch);
--   {"error": {message, detail}}: event_not_found for a caller who may not
--     see the event, queue_not_found, queue_not_open_yet.
-- A holder already in line gets their entry as it is; one whose entry left
-- or whose pass ran out goes back in at the end (into the pre-queue while it
-- lasts): a rejoin never gives a better place.
--
-- Its cost is per join, under the queue row's lock: one batch of an event
-- runs at a time. So what is the same for the whole batch is done once: the
-- event's visibility when it is public (anyone may see it), the new entries'
-- status; and a new entry is sent back as four numbers, not built as an
-- object (queue_entry_json() cost a quarter of a batch). Its event is not
-- checked row by row either (queue_entries has no foreign key, migrations/
-- 0006): the queue row, locked here, is the event's.
--
-- Its plans: an opening fills queue_entries from empty faster than
-- autovacuum re-analyzes it, and plpgsql keeps the plans it made while the
-- event looked small: reading the batch's holders' entries by scanning all
-- of the event's entries, every batch (in the benchmark, joins fell to 1,500
-- a second). It only ever reads entries by their key, so it is told never to
-- scan (seq or bitmap, as reserve_holds() is, 50_group_commit.sql), each
-- request's entry is read by a lookup of its own, and its small statements
-- are never JIT-compiled.
CREATE OR REPLACE FUNCTION queue_join_batch(p_event_ref text, p_holders text[], p_user_ids text[], p_privileged boolean[]) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
DECLARE
  v_event events := event_by_ref(p_event_ref);
  v_queue event_queues;
  v_now timestamptz;
  v_rate double precision;
  -- Per request, in order: may the caller see the event?
  v_visible boolean[];
  -- Why every visible request is refused (no open waiting room), else null.
  v_refusal jsonb;
  -- Distinct holders of the visible requests, in order of first arrival.
  v_holders text[];
  -- Of those: already in line, as they were (their entries locked); back in at the end; given a place now (new or back in).
  v_existing text[] := '{}';
  v_back text[] := '{}';
  v_placed text[] := '{}';
  -- The ids of the placed ones that are new (unused for those back in).
  v_ids uuid[];
  v_first_position bigint;
  v_fresh_status text;
  v_entry queue_entries;
  v_status text;
  v_outcomes json;
BEGIN
  IF v_event.id IS NULL THEN
    v_visible := array_fill(false, ARRAY[cardinality(p_holders)]);
  ELSIF event_is_visible(v_event, NULL, false) THEN
    -- Public: visible to every caller, decided once.
    v_visible := array_fill(true, ARRAY[cardinality(p_holders)]);
  ELSE
    SELECT array_agg(event_is_visible(v_event, u, p) ORDER BY n)
      INTO v_visible
      FROM unnest(p_user_ids, p_privileged) WITH ORDINALITY AS r (u, p, n);
  END IF;
  IF true = ANY (v_visible) THEN
    SELECT * INTO v_queue FROM event_queues WHERE event_id = v_event.id FOR UPDATE;
    -- Read after the lock: a batch that waited for it comes after the one that held it.
    v_now := clock_timestamp();
    IF v_queue.event_id IS NULL OR NOT v_queue.enabled THEN
      v_refusal := inventory_refusal('This event has no waiting room', '{"code": "queue_not_found"}');
    ELSIF v_now < v_queue.opens_at - make_interval(mins => v_queue.prequeue_minutes) THEN
      v_refusal := inventory_refusal('The waiting room is not open yet',
        jsonb_build_object('code', 'queue_not_open_yet',
                           'joinFrom', queue_iso_time(v_queue.opens_at - make_interval(mins => v_queue.prequeue_minutes)),
                           'opensAt', queue_iso_time(v_queue.opens_at)));
    END IF;
  END IF;

  IF v_queue.event_id IS NOT NULL AND v_refusal IS NULL THEN
    IF v_queue.shuffled_at IS NULL AND v_now >= v_queue.opens_at THEN
      PERFORM queue_shuffle(v_queue.event_id);
      SELECT * INTO v_queue FROM event_queues WHERE event_id = v_queue.event_id;
    END IF;
    SELECT array_agg(holder ORDER BY first) INTO v_holders
      FROM (SELECT h AS holder, min(n) AS first
            FROM unnest(p_holders) WITH ORDINALITY AS r (h, n)
            WHERE v_visible[n] GROUP BY 1) AS h;
    v_rate := queue_measured_pace(v_queue, v_now);
    -- Each locked by a lookup of its own, in holder order, as presence rounds
    -- (queue_entries_of_holders) lock them: no deadlock between the two.
    FOR v_entry IN
      SELECT (found.x).* FROM (
        SELECT (SELECT e FROM queue_entries e WHERE e.event_id = v_queue.event_id AND e.holder_id = h FOR UPDATE) AS x
        FROM unnest((SELECT array_agg(h ORDER BY h) FROM unnest(v_holders) AS h)) AS h OFFSET 0) AS found
      WHERE found.x IS DISTINCT FROM NULL
    LOOP
      v_existing := v_existing || v_entry.holder_id;
      v_status := queue_entry_json(v_entry, v_queue, v_now, v_rate)->>'status';
      IF v_status IN ('closed', 'expired') AND v_queue.admission_state <> 'closed' THEN
        v_back := v_back || v_entry.holder_id;
      END IF;
    END LOOP;
    IF cardinality(v_existing) = 0 THEN
      v_placed := v_holders;
    ELSE
      SELECT coalesce(array_agg(h ORDER BY k), '{}') INTO v_placed
        FROM unnest(v_holders) WITH ORDINALITY AS p (h, k) WHERE NOT h = ANY (v_existing) OR h = ANY (v_back);
    END IF;
    -- The k-th placed holder of this batch takes position last_position + k (none before the shuffle).
    v_first_position := CASE WHEN v_queue.shuffled_at IS NOT NULL THEN v_queue.last_position + 1 END;
    v_ids := ARRAY(SELECT gen_random_uuid() FROM generate_series(1, cardinality(v_placed)));
    INSERT INTO queue_entries (id, event_id, holder_id, joined_at, last_seen_at, position)
    SELECT v_ids[k], v_queue.event_id, h, v_now, v_now, v_first_position - 1 + k
    FROM unnest(v_placed) WITH ORDINALITY AS p (h, k) WHERE NOT h = ANY (v_existing);
    IF cardinality(v_existing) > 0 THEN
      -- A position one leaves above served_up_to was already counted as vacated when it left.
      UPDATE queue_entries SET left_at = NULL, skipped = false, joined_at = v_now, last_seen_at = v_now,
        position = v_first_position - 1 + array_position(v_placed, holder_id)
      WHERE event_id = v_queue.event_id AND holder_id = ANY (v_back);
      UPDATE queue_entries SET last_seen_at = v_now
      WHERE event_id = v_queue.event_id AND holder_id = ANY (v_existing) AND NOT holder_id = ANY (v_back);
    END IF;
    IF cardinality(v_placed) > 0 THEN
      UPDATE event_queues SET
        last_position = last_position + CASE WHEN shuffled_at IS NOT NULL THEN cardinality(v_placed) ELSE 0 END,
        prequeue_count = prequeue_count + CASE WHEN shuffled_at IS NULL THEN cardinality(v_placed) ELSE 0 END
      WHERE event_id = v_queue.event_id RETURNING * INTO v_queue;
    END IF;
    -- Every new entry's status: not left, no turn yet, positioned once shuffled.
    v_fresh_status := queue_entry_status(queue_status(v_queue, v_now), false, v_first_position, NULL, v_now);
  END IF;

  -- Each request's outcome: a holder's first request, new in line, as four numbers; any other by its entry as it is now.
  SELECT json_agg(CASE
           WHEN NOT v_visible[r.n] THEN inventory_refusal('Event not found', '{"code": "event_not_found"}')::json
           WHEN v_refusal IS NOT NULL THEN v_refusal::json
           WHEN p.k IS NOT NULL AND r.n = p.first THEN
             json_build_object('created', json_build_array(v_ids[p.k], v_first_position - 1 + p.k,
               queue_entry_ahead(v_queue, v_fresh_status, v_first_position - 1 + p.k),
               queue_entry_wait(v_queue, v_fresh_status, v_first_position - 1 + p.k, v_rate, v_now)))
           ELSE json_build_object('entry', queue_entry_json((SELECT e FROM queue_entries e WHERE e.event_id = v_queue.event_id AND e.holder_id = r.h),
                                                           v_queue, v_now, v_rate))
         END ORDER BY r.n)
    INTO v_outcomes
    FROM unnest(p_holders) WITH ORDINALITY AS r (h, n)
    LEFT JOIN (SELECT p.h, p.k, f.first
               FROM unnest(v_placed) WITH ORDINALITY AS p (h, k)
               JOIN (SELECT h, min(n) AS first FROM unnest(p_holders) WITH ORDINALITY AS q (h, n) GROUP BY h) AS f ON f.h = p.h
               WHERE NOT p.h = ANY (v_existing)) AS p ON p.h = r.h;
  RETURN json_build_object('fresh', json_build_object('eventId', v_queue.event_id, 'status', v_fresh_status, 'opensAt', v_queue.opens_at),
                           'outcomes', coalesce(v_outcomes, '[]'::json));
END $$;
REVOKE EXECUTE ON FUNCTION queue_join_batch(text, text[], text[], boolean[]) FROM PUBLIC;

-- The holder's entry, locked; queue_entry_not_found without one.
CREATE OR REPLACE FUNCTION queue_entry_of(p_queue event_queues, p_holder text) RETURNS queue_entries
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_entry queue_entries;
BEGIN
  SELECT * INTO v_entry FROM queue_entries WHERE event_id = p_queue.event_id AND holder_id = p_holder FOR UPDATE;
  IF v_entry.id IS NULL THEN
    PERFORM raise_inventory_error('You are not in this waiting room', '{"code": "queue_entry_not_found"}');
  END IF;
  RETURN v_entry;
END $$;
REVOKE EXECUTE ON FUNCTION queue_entry_of(event_queues, text) FROM PUBLIC;

-- The holder's entry. Reading it is being seen: it keeps the visitor from being skipped.
CREATE OR REPLACE FUNCTION queue_entry_read(p_event_ref text, p_holder text, p_user_id text, p_privileged boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_queue event_queues := queue_for_visitor(p_event_ref, p_user_id, p_privileged, false);
  v_entry queue_entries := queue_entry_of(v_queue, p_holder);
BEGIN
  IF v_entry.left_at IS NULL THEN
    UPDATE queue_entries SET last_seen_at = now() WHERE id = v_entry.id RETURNING * INTO v_entry;
  END IF;
  RETURN queue_entry_json(v_entry, v_queue);
END $$;
REVOKE EXECUTE ON FUNCTION queue_entry_read(text, text, text, boolean) FROM PUBLIC;

-- Leaves the queue: the entry is closed, its place given up (an admitted visitor's pass ends too).
CREATE OR REPLACE FUNCTION queue_leave(p_event_ref text, p_holder text, p_user_id text, p_privileged boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_queue event_queues := queue_for_visitor(p_event_ref, p_user_id, p_privileged, true);
  v_entry queue_entries := queue_entry_of(v_queue, p_holder);
BEGIN
  IF v_entry.left_at IS NOT NULL THEN
    RETURN queue_entry_json(v_entry, v_queue);
  END IF;
  UPDATE queue_entries SET left_at = now() WHERE id = v_entry.id RETURNING * INTO v_entry;
  UPDATE event_queues SET
    prequeue_count = prequeue_count - CASE WHEN v_entry.position IS NULL THEN 1 ELSE 0 END,
    vacated = vacated + CASE WHEN v_entry.position > served_up_to THEN 1 ELSE 0 END
  WHERE event_id = v_queue.event_id RETURNING * INTO v_queue;
  RETURN queue_entry_json(v_entry, v_queue);
END $$;
REVOKE EXECUTE ON FUNCTION queue_leave(text, text, text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION queue_one_hold_refusal() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT inventory_refusal('A queue pass allows one active hold at a time: buy or release the one you have',
                           '{"code": "queue_one_hold_at_a_time"}')
$$;

-- Who may hold on a queued event (docs/waiting-room.md, Passes), for one
-- batch of reserve_holds(): holder id -> refusal, for the requests of
-- visitors (an audience that is not privileged). Null when the event has no
-- enabled queue. An admitted holder's pass is valid until passExpiresAt and
-- allows one active hold at a time; reserve_holds() also refuses a second
-- hold by the same holder within the batch.
CREATE OR REPLACE FUNCTION queue_hold_refusals(p_event_id uuid, p_requests jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_queue event_queues;
BEGIN
  SELECT * INTO v_queue FROM event_queues WHERE event_id = p_event_id AND enabled;
  IF v_queue.event_id IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN (
    SELECT coalesce(jsonb_object_agg(holder, refusal) FILTER (WHERE refusal IS NOT NULL), '{}')
    FROM (
      SELECT h.holder, CASE
        WHEN e.id IS NULL OR e.left_at IS NOT NULL OR e.position IS NULL OR e.position > v_queue.served_up_to THEN
          inventory_refusal('Wait for your turn in the waiting room: holding seats for this event needs a queue pass',
                            '{"code": "queue_pass_required"}')
        WHEN queue_turn_at(p_event_id, e.position) + make_interval(secs => v_queue.pass_seconds) <= now() THEN
          inventory_refusal('Your queue pass has expired: join the waiting room again', '{"code": "queue_pass_expired"}')
        WHEN EXISTS (SELECT 1 FROM reservations r WHERE r.holder_id = h.holder AND r.event_id = p_event_id
                     AND r.status = 'active' AND r.expires_at > now()) THEN
          queue_one_hold_refusal()
        END AS refusal
      FROM (SELECT DISTINCT q->>'holderId' AS holder FROM jsonb_array_elements(p_requests) AS q
            WHERE q ? 'audience' AND NOT (q->'audience'->>'privileged')::boolean) AS h
      LEFT JOIN queue_entries e ON e.event_id = p_event_id AND e.holder_id = h.holder) AS decided);
END $$;
REVOKE EXECUTE ON FUNCTION queue_hold_refusals(uuid, jsonb) FROM PUBLIC;

-- One admission tick for one queue (its row locked by the caller), at p_now.
CREATE OR REPLACE FUNCTION queue_admit(p_queue event_queues, p_now timestamptz) RETURNS event_queues
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  q event_queues := p_queue;
  v_event events;
  v_unlimited boolean;
  v_left bigint;
  v_held bigint;
  v_state text;
  v_elapsed double precision;
  v_want bigint;
  v_to bigint;
  v_admitted bigint := 0;
  v_skipped bigint := 0;
BEGIN
  IF q.shuffled_at IS NULL THEN
    PERFORM queue_shuffle(q.event_id);
    SELECT * INTO q FROM event_queues WHERE event_id = q.event_id;
  END IF;
  SELECT * INTO v_event FROM events WHERE id = q.event_id;
  -- Anything left to buy? Types on sale with seats (or no limit); else seats held that may come back.
  SELECT coalesce(bool_or(total_capacity IS NULL) FILTER (WHERE status = 'on_sale'), false),
         coalesce(sum(available_count) FILTER (WHERE status = 'on_sale'), 0), coalesce(sum(reserved_count), 0)
    INTO v_unlimited, v_left, v_held
    FROM event_tickets WHERE event_id = q.event_id;
  v_state := CASE WHEN v_event.status IN ('ended', 'cancelled') THEN 'closed'
                  WHEN v_unlimited OR v_left > 0 THEN CASE WHEN v_event.status = 'on_sale' THEN 'open' ELSE 'paused' END
                  WHEN v_held > 0 THEN 'held_out'
                  ELSE 'sold_out' END;
  v_elapsed := greatest(0, least(10, extract(epoch FROM p_now - greatest(coalesce(q.last_tick_at, q.opens_at), q.opens_at))));
  IF v_state <> 'open' OR q.paused THEN
    UPDATE event_queues SET admission_state = v_state, admission_credit = 0, last_tick_at = p_now,
      caught_up_at = CASE WHEN queue_length(q) = 0 THEN p_now ELSE caught_up_at END
    WHERE event_id = q.event_id RETURNING * INTO q;
    RETURN q;
  END IF;
  q.admission_credit := q.admission_credit + v_elapsed * q.admit_per_minute / 60.0;
  v_want := floor(q.admission_credit);
  IF q.max_active_shoppers IS NOT NULL THEN
    v_want := least(v_want, greatest(0, q.max_active_shoppers - queue_active_shoppers(q, p_now)));
  END IF;
  IF v_want > 0 AND q.served_up_to < q.last_position THEN
    -- The v_want-th visitor still here after served_up_to; those not seen for abandon_after_seconds are passed over.
    SELECT position INTO v_to FROM queue_entries
    WHERE event_id = q.event_id AND position > q.served_up_to AND left_at IS NULL
      AND last_seen_at >= p_now - make_interval(secs => q.abandon_after_seconds)
    ORDER BY position OFFSET v_want - 1 LIMIT 1;
    v_to := coalesce(v_to, q.last_position);
    WITH skipped AS (
      UPDATE queue_entries SET skipped = true
      WHERE event_id = q.event_id AND position > q.served_up_to AND position <= v_to AND left_at IS NULL
        AND last_seen_at < p_now - make_interval(secs => q.abandon_after_seconds)
      RETURNING 1)
    SELECT count(*) INTO v_skipped FROM skipped;
    SELECT count(*) INTO v_admitted FROM queue_entries
    WHERE event_id = q.event_id AND position > q.served_up_to AND position <= v_to AND left_at IS NULL AND NOT skipped;
    INSERT INTO queue_admissions (event_id, at, from_position, to_position, admitted, skipped)
    VALUES (q.event_id, p_now, q.served_up_to, v_to, v_admitted, v_skipped);
    -- Positions in the range that nobody waited on any more were counted in vacated.
    q.vacated := q.vacated - (v_to - q.served_up_to - v_admitted - v_skipped);
    q.served_up_to := v_to;
  END IF;
  -- Whatever the rate owed and could not be used (nobody left, the cap) is not saved up for later.
  UPDATE event_queues SET served_up_to = q.served_up_to, vacated = q.vacated,
    admitted_count = admitted_count + v_admitted, skipped_count = skipped_count + v_skipped,
    admission_credit = q.admission_credit - floor(q.admission_credit), admission_state = v_state, last_tick_at = p_now,
    -- Nobody left waiting: the measures start again from here (queue_measure_start).
    caught_up_at = CASE WHEN queue_length(q) = 0 THEN p_now ELSE caught_up_at END
  WHERE event_id = q.event_id RETURNING * INTO q;
  RETURN q;
END $$;
REVOKE EXECUTE ON FUNCTION queue_admit(event_queues, timestamptz) FROM PUBLIC;

-- One admission tick of the whole service, called by every node every tick:
-- only the leader admits. Leadership is the 'queue-admission' lease
-- (05_leader_leases.sql): renewed by each of the leader's ticks, taken over by
-- the next node to tick once it lapses (p_lease_ms without a tick).
-- Returns {leader, queues: [queue_json of each enabled, open queue]}.
CREATE OR REPLACE FUNCTION queue_admission_tick(p_node text, p_lease_ms integer, p_now timestamptz DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_now timestamptz := coalesce(p_now, clock_timestamp());
  v_queue event_queues;
  v_queues jsonb[] := '{}';
BEGIN
  -- Nothing to admit anywhere: nothing is written (no lease is taken or renewed).
  IF NOT EXISTS (SELECT 1 FROM event_queues WHERE enabled AND opens_at <= v_now) THEN
    RETURN jsonb_build_object('leader', EXISTS (
      SELECT 1 FROM leader_leases WHERE job = 'queue-admission' AND node = p_node AND lease_until > clock_timestamp()), 'queues', '[]'::jsonb);
  END IF;
  IF NOT take_leader_lease('queue-admission', p_node, p_lease_ms) THEN
    RETURN jsonb_build_object('leader', false, 'queues', '[]'::jsonb);
  END IF;
  FOR v_queue IN SELECT * FROM event_queues WHERE enabled AND opens_at <= v_now ORDER BY event_id FOR UPDATE LOOP
    v_queue := queue_admit(v_queue, v_now);
    v_queues := v_queues || queue_json(v_queue, v_now);
  END LOOP;
  RETURN jsonb_build_object('leader', true, 'queues', to_jsonb(v_queues));
END $$;
REVOKE EXECUTE ON FUNCTION queue_admission_tick(text, integer, timestamptz) FROM PUBLIC;

-- The live state every subscriber of a queued event is sent, once per tick
-- while it changes (the realtime `queue` frame, docs/protocol.md): one object
-- per queue of the given events. Each visitor computes their own people ahead
-- (position - servedUpTo - 1) and wait from it, as queue_entry_json() does:
-- `rate` is the pace queue_wait_seconds() uses (queue_measured_pace()),
-- to 0.1 a minute. `ticketsLeft`: seats left to buy on sale, null when
-- unlimited or when the event shows buyers bands only.
-- `abandonAfterSeconds` is for the service's presence rounds, not sent.
CREATE OR REPLACE FUNCTION queue_live(p_event_ids uuid[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'eventId', q.event_id,
    'status', queue_status(q, now()),
    'opensAt', q.opens_at,
    'servedUpTo', q.served_up_to,
    'length', queue_length(q),
    'rate', round(queue_measured_pace(q, now())::numeric, 1),
    'ticketsLeft', CASE WHEN e.display_precision = 'exact' AND NOT t.unlimited THEN t.seats_left END,
    'seatsPerOrder', queue_seats_per_order(e),
    'abandonAfterSeconds', q.abandon_after_seconds) ORDER BY q.event_id), '[]'::jsonb)
  FROM event_queues q
  JOIN events e ON e.id = q.event_id,
  LATERAL (SELECT coalesce(bool_or(total_capacity IS NULL) FILTER (WHERE status = 'on_sale'), false) AS unlimited,
                  coalesce(sum(available_count) FILTER (WHERE status = 'on_sale'), 0)::bigint AS seats_left
           FROM event_tickets WHERE event_id = q.event_id) AS t
  WHERE q.event_id = ANY (p_event_ids)
$$;
REVOKE EXECUTE ON FUNCTION queue_live(uuid[]) FROM PUBLIC;

-- The entries of these holders in one event's queue (those who have one), as
-- each holder sees theirs; with p_seen, they count as seen now (visitors
-- connected to the realtime gateway and subscribed to the event: one
-- statement per presence round, not a write per visitor).
CREATE OR REPLACE FUNCTION queue_entries_of_holders(p_event_id uuid, p_holders text[], p_seen boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_queue event_queues;
  v_rate double precision;
BEGIN
  SELECT * INTO v_queue FROM event_queues WHERE event_id = p_event_id;
  IF v_queue.event_id IS NULL THEN
    RETURN '[]'::jsonb;
  END IF;
  IF p_seen THEN
    -- Locked in holder order, as queue_join_batch() locks them: no deadlock between the two.
    UPDATE queue_entries e SET last_seen_at = now()
    FROM (SELECT holder_id FROM queue_entries WHERE event_id = p_event_id AND holder_id = ANY (p_holders) AND left_at IS NULL
          ORDER BY holder_id FOR UPDATE) AS seen
    WHERE e.event_id = p_event_id AND e.holder_id = seen.holder_id;
  END IF;
  v_rate := queue_measured_pace(v_queue, now());
  RETURN (SELECT coalesce(json_agg(queue_entry_json(e, v_queue, now(), v_rate))::jsonb, '[]'::jsonb)
          FROM queue_entries e WHERE e.event_id = p_event_id AND e.holder_id = ANY (p_holders));
END $$;
REVOKE EXECUTE ON FUNCTION queue_entries_of_holders(uuid, text[], boolean) FROM PUBLIC;

-- A queue deleted (with its event, or alone) takes its entries with it: what
-- the foreign key to events did (migrations/0006). Once per statement.
CREATE OR REPLACE FUNCTION queue_entries_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM queue_entries WHERE event_id IN (SELECT event_id FROM gone_queues);
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION queue_entries_gone() FROM PUBLIC;
