-- Web Push (docs/push.md). Tables: migrations/0006_push.sql.
--
-- Notifications are written to push_outbox in the transaction that causes
-- them: an offer by waitlist_offer() (75_waiting_list.sql), a watched type
-- coming back by push_fire_watches() (called by update_event_counts(),
-- 10_counters.sql), a hold about to expire by push_sender_tick(). One row per
-- notification per subscription; the sender (push/push-sender.ts) claims rows
-- here, sends them, and marks each with push_mark().
--
-- Every function here runs as its owner (the tables have row-level security
-- and no policy) and takes the holder from the service, which took it from a
-- verified token.

-- The VAPID key pair: the stored one, or this one stored if none is (the
-- first node to start wins, and every node then signs with the same key).
CREATE OR REPLACE FUNCTION push_vapid_keys_ensure(p_public text, p_private text)
RETURNS TABLE (public_key text, private_key text)
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  INSERT INTO push_vapid_keys (public_key, private_key) VALUES (p_public, p_private) ON CONFLICT (singleton) DO NOTHING;
  SELECT public_key, private_key FROM push_vapid_keys;
$$;
REVOKE EXECUTE ON FUNCTION push_vapid_keys_ensure(text, text) FROM PUBLIC;

-- Stores a browser's subscription for a holder: {created}. The same endpoint
-- again (a browser re-subscribing, new keys, another sub on that browser)
-- updates the one row: an endpoint is one browser.
CREATE OR REPLACE FUNCTION push_subscribe(p_holder text, p_endpoint text, p_p256dh text, p_auth text, p_expiration timestamptz)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  INSERT INTO push_subscriptions AS s (holder_id, endpoint, p256dh, auth, expiration_time)
  VALUES (p_holder, p_endpoint, p_p256dh, p_auth, p_expiration)
  ON CONFLICT (endpoint) DO UPDATE
    SET holder_id = excluded.holder_id, p256dh = excluded.p256dh, auth = excluded.auth, expiration_time = excluded.expiration_time
  RETURNING jsonb_build_object('created', xmax = 0)
$$;
REVOKE EXECUTE ON FUNCTION push_subscribe(text, text, text, text, timestamptz) FROM PUBLIC;

-- Removes the holder's subscription with this endpoint; false when the holder has none.
CREATE OR REPLACE FUNCTION push_unsubscribe(p_holder text, p_endpoint text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  WITH gone AS (DELETE FROM push_subscriptions WHERE endpoint = p_endpoint AND holder_id = p_holder RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM gone)
$$;
REVOKE EXECUTE ON FUNCTION push_unsubscribe(text, text) FROM PUBLIC;

-- "Notify me" on a sold-out ticket type: {ticketTypeId, eventId, created}. Refused
-- (push_watch_seats_available) while the type has seats to hold now.
CREATE OR REPLACE FUNCTION push_watch(p_type_id uuid, p_holder text, p_user_id text, p_privileged boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type event_tickets;
  v_event events;
  v_created boolean;
BEGIN
  v_type := visible_ticket_type(p_type_id, p_user_id, p_privileged);
  SELECT * INTO v_event FROM events WHERE id = v_type.event_id;
  SELECT * INTO v_type FROM event_tickets WHERE id = p_type_id FOR NO KEY UPDATE;
  IF has_seats_to_hold(v_event, v_type) THEN
    PERFORM raise_inventory_error(format('%s has seats to buy now', v_type.name),
      jsonb_build_object('code', 'push_watch_seats_available', 'ticketTypeId', v_type.id, 'available', v_type.available_count));
  END IF;
  INSERT INTO push_watches (event_ticket_id, holder_id) VALUES (p_type_id, p_holder) ON CONFLICT DO NOTHING;
  v_created := FOUND;
  IF v_created THEN
    UPDATE event_tickets SET push_watchers = push_watchers + 1 WHERE id = p_type_id;
  END IF;
  RETURN jsonb_build_object('ticketTypeId', p_type_id, 'eventId', v_type.event_id, 'created', v_created);
END $$;
REVOKE EXECUTE ON FUNCTION push_watch(uuid, text, text, boolean) FROM PUBLIC;

-- Stops watching: the type's event id, null when the holder was not watching it.
CREATE OR REPLACE FUNCTION push_unwatch(p_type_id uuid, p_holder text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_event_id uuid;
BEGIN
  SELECT event_id INTO v_event_id FROM event_tickets WHERE id = p_type_id FOR NO KEY UPDATE;
  DELETE FROM push_watches WHERE event_ticket_id = p_type_id AND holder_id = p_holder;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE event_tickets SET push_watchers = push_watchers - 1 WHERE id = p_type_id;
  RETURN v_event_id;
END $$;
REVOKE EXECUTE ON FUNCTION push_unwatch(uuid, text) FROM PUBLIC;

-- The ticket types the holder is watching, oldest first.
CREATE OR REPLACE FUNCTION push_watches_of(p_holder text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('ticketTypeId', w.event_ticket_id, 'eventId', et.event_id, 'createdAt', w.created_at)
                            ORDER BY w.created_at, w.event_ticket_id), '[]'::jsonb)
  FROM push_watches w JOIN event_tickets et ON et.id = w.event_ticket_id
  WHERE w.holder_id = p_holder
$$;
REVOKE EXECUTE ON FUNCTION push_watches_of(text) FROM PUBLIC;

-- Queues one notification per subscription of each holder: payloads[i] to
-- holders[i], worth delivering until expires[i]. A holder without a
-- subscription costs one index probe.
CREATE OR REPLACE FUNCTION push_enqueue(p_holders text[], p_payloads jsonb[], p_expires timestamptz[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  INSERT INTO push_outbox (subscription_id, payload, expires_at)
  SELECT s.id, n.payload, n.expires_at
  FROM unnest(p_holders, p_payloads, p_expires) AS n(holder_id, payload, expires_at)
  JOIN push_subscriptions s ON s.holder_id = n.holder_id
$$;
REVOKE EXECUTE ON FUNCTION push_enqueue(text[], jsonb[], timestamptz[]) FROM PUBLIC;

-- What every notification says of its event and ticket type, and the shop page it opens.
CREATE OR REPLACE FUNCTION push_payload(p_kind text, p_event events, p_type event_tickets) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('kind', p_kind, 'eventId', p_event.id, 'eventName', p_event.name,
                            'ticketTypeId', p_type.id, 'ticketTypeName', p_type.name,
                            'url', '/events/' || p_event.slug)
$$;

-- Offers just made (waitlist_offer()): one push to each offered holder.
CREATE OR REPLACE FUNCTION push_queue_offers(p_type_id uuid, p_holders text[], p_reservations uuid[], p_quantities integer[], p_expires timestamptz)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT push_enqueue(p_holders,
    ARRAY(SELECT push_payload('offer', e, et) || jsonb_build_object('reservationId', o.r, 'quantity', o.q, 'expiresAt', p_expires)
          FROM unnest(p_reservations, p_quantities) WITH ORDINALITY AS o(r, q, i) ORDER BY o.i),
    array_fill(p_expires, ARRAY[cardinality(p_holders)]))
  FROM event_tickets et JOIN events e ON e.id = et.event_id
  WHERE et.id = p_type_id AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.holder_id = ANY (p_holders))
$$;
REVOKE EXECUTE ON FUNCTION push_queue_offers(uuid, text[], uuid[], integer[], timestamptz) FROM PUBLIC;

-- How long a "tickets are back" push is worth delivering.
CREATE OR REPLACE FUNCTION push_watch_ttl() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '1 hour' $$;

-- Watched types that have seats to hold again (update_event_counts(), after
-- the waiting list took its share): each watcher is told once, and the
-- watches end. Types sold out again by the offers keep their watchers.
CREATE OR REPLACE FUNCTION push_fire_watches(p_type_ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type record;
  v_holders text[];
BEGIN
  FOR v_type IN
    SELECT et AS type_row, e AS event_row FROM event_tickets et JOIN events e ON e.id = et.event_id
    WHERE et.id = ANY (p_type_ids) AND et.push_watchers > 0 AND has_seats_to_hold(e, et)
    ORDER BY et.id
  LOOP
    WITH fired AS (DELETE FROM push_watches WHERE event_ticket_id = (v_type.type_row).id RETURNING holder_id)
    SELECT array_agg(holder_id) INTO v_holders FROM fired;
    UPDATE event_tickets SET push_watchers = 0 WHERE id = (v_type.type_row).id;
    CONTINUE WHEN v_holders IS NULL;
    PERFORM push_enqueue(v_holders,
      array_fill(push_payload('ticket_type_back', v_type.event_row, v_type.type_row), ARRAY[cardinality(v_holders)]),
      array_fill(now() + push_watch_ttl(), ARRAY[cardinality(v_holders)]));
  END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION push_fire_watches(uuid[]) FROM PUBLIC;

-- After an event's sale resumes: the seats freed while it was not on sale
-- (no type row changed, so update_event_counts() did not run) go to the
-- waiting lists, then whoever asked to be told, as that hook would have done.
CREATE OR REPLACE FUNCTION event_sale_resumed(p_event_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM waitlist_offer(ARRAY(SELECT id FROM event_tickets WHERE event_id = p_event_id AND waitlist_waiting > 0));
  PERFORM push_fire_watches(ARRAY(SELECT id FROM event_tickets WHERE event_id = p_event_id AND push_watchers > 0));
END $$;
REVOKE EXECUTE ON FUNCTION event_sale_resumed(uuid) FROM PUBLIC;

-- One sender turn, under a transaction-level advisory lock so nodes take
-- turns (a node that does not get it sends nothing this turn):
--  1. queues "about to expire" for active holds of subscribed holders with at
--     most p_warn_seconds left, once per hold (push_hold_warnings), skipping
--     holds that never had more than p_warn_seconds to run;
--  2. gives up on rows whose deadline passed unsent;
--  3. claims up to p_limit due rows: their next attempt moves p_claim_seconds
--     on, so nobody else sends them while this sender does. A sender that
--     dies before push_mark() leaves them to be claimed again after that.
CREATE OR REPLACE FUNCTION push_sender_tick(p_limit integer, p_claim_seconds double precision, p_warn_seconds integer)
RETURNS TABLE (id bigint, subscription_id uuid, endpoint text, p256dh text, auth text, payload jsonb, expires_at timestamptz, attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(7291003) THEN
    RETURN;
  END IF;

  WITH due AS (
    SELECT r.id, r.holder_id, r.event_id, r.expires_at FROM reservations r
    WHERE r.holder_id IN (SELECT DISTINCT s.holder_id FROM push_subscriptions s)
      AND r.status = 'active' AND r.expires_at > now() AND r.expires_at <= now() + make_interval(secs => p_warn_seconds)
      AND r.expires_at - r.created_at > make_interval(secs => p_warn_seconds)
      AND NOT EXISTS (SELECT 1 FROM push_hold_warnings w WHERE w.reservation_id = r.id)
  ), marked AS (
    INSERT INTO push_hold_warnings (reservation_id) SELECT due.id FROM due ON CONFLICT DO NOTHING RETURNING reservation_id
  )
  INSERT INTO push_outbox (subscription_id, payload, expires_at)
  SELECT s.id,
         jsonb_build_object('kind', 'hold_expiring', 'eventId', e.id, 'eventName', e.name, 'reservationId', d.id,
                            'expiresAt', d.expires_at, 'url', '/events/' || e.slug),
         d.expires_at
  FROM due d JOIN marked m ON m.reservation_id = d.id JOIN events e ON e.id = d.event_id
  JOIN push_subscriptions s ON s.holder_id = d.holder_id;

  UPDATE push_outbox o SET failed_at = now()
   WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now() AND o.expires_at <= now();

  RETURN QUERY
  WITH claimed AS (
    SELECT o.id FROM push_outbox o
    WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
    ORDER BY o.next_attempt_at, o.id LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE push_outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => p_claim_seconds)
  FROM claimed c, push_subscriptions s
  WHERE o.id = c.id AND s.id = o.subscription_id
  RETURNING o.id, o.subscription_id, s.endpoint, s.p256dh, s.auth, o.payload, o.expires_at, o.attempts;
END $$;
REVOKE EXECUTE ON FUNCTION push_sender_tick(integer, double precision, integer) FROM PUBLIC;

-- What became of one send: 'sent' (accepted by the push service), 'gone'
-- (404/410: the subscription is deleted, and its queued rows with it),
-- 'retry' (after p_retry_seconds) or 'failed' (given up).
CREATE OR REPLACE FUNCTION push_mark(p_id bigint, p_outcome text, p_status integer, p_retry_seconds double precision) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  CASE p_outcome
    WHEN 'sent' THEN
      UPDATE push_outbox SET sent_at = now(), last_status = p_status WHERE id = p_id;
    WHEN 'gone' THEN
      DELETE FROM push_subscriptions WHERE id = (SELECT subscription_id FROM push_outbox WHERE id = p_id);
    WHEN 'retry' THEN
      UPDATE push_outbox SET next_attempt_at = now() + make_interval(secs => p_retry_seconds), last_status = p_status WHERE id = p_id;
    ELSE
      UPDATE push_outbox SET failed_at = now(), last_status = p_status WHERE id = p_id;
  END CASE;
END $$;
REVOKE EXECUTE ON FUNCTION push_mark(bigint, text, integer, double precision) FROM PUBLIC;

-- Forgets what was sent or given up more than a day ago, and the warnings of holds long over.
CREATE OR REPLACE FUNCTION push_purge() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  DELETE FROM push_outbox WHERE coalesce(sent_at, failed_at) < now() - interval '1 day';
  DELETE FROM push_hold_warnings w USING reservations r
   WHERE r.id = w.reservation_id AND w.queued_at < now() - interval '1 day' AND r.status <> 'active';
$$;
REVOKE EXECUTE ON FUNCTION push_purge() FROM PUBLIC;
