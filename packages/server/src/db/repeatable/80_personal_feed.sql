-- The personal feed (docs/protocol.md, "The personal feed"): one user's live
-- holds and waiting-list entries, and their version, read by the realtime
-- gateway for the users subscribed to it (realtime/personal-feed.ts).
--
-- The version is computed, not stored, so nothing on the hold path writes
-- anything for it. It is the sum, over the user's rows, of a revision that
-- only rises (these rows are never deleted):
--   a reservation: 1 + 2 x extensions_used
--                  + 2 once it ended (confirmed, released, expired, or its deadline passed, swept or not)
--                  + 1 while active within p_soon seconds of its deadline
--     (an extension may end "expiring soon", -1, but adds 2);
--   a waiting-list entry: 1 while waiting, 2 after (offered, left, closed);
--     what became of an offer counts in its reservation.
-- So every change the feed tells of raises it, read on any node, whatever
-- order transactions commit in; and passing the "expiring soon" moment or a
-- deadline raises it with no write at all.

CREATE OR REPLACE FUNCTION personal_hold_revision(p_hold reservations, p_soon integer) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT 1 + 2 * p_hold.extensions_used + CASE
    WHEN p_hold.status <> 'active' OR p_hold.expires_at <= now() THEN 2
    WHEN p_hold.expires_at <= now() + make_interval(secs => p_soon) THEN 1
    ELSE 0 END
$$;

-- The user's feed version (above).
CREATE OR REPLACE FUNCTION personal_feed_version(p_holder text, p_soon integer) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT (SELECT coalesce(sum(personal_hold_revision(r, p_soon)), 0) FROM reservations r WHERE r.holder_id = p_holder)
       + (SELECT coalesce(sum(CASE WHEN w.status = 'waiting' THEN 1 ELSE 2 END), 0) FROM waitlist_entries w WHERE w.holder_id = p_holder)
$$;
REVOKE EXECUTE ON FUNCTION personal_feed_version(text, integer) FROM PUBLIC;

-- A hold as the feed tells it: an active hold past its deadline is expired already.
CREATE OR REPLACE FUNCTION personal_hold_json(p_hold reservations, p_soon integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT jsonb_build_object(
    'reservationId', p_hold.id,
    'eventId', p_hold.event_id,
    'status', CASE WHEN p_hold.status = 'active' AND p_hold.expires_at <= now() THEN 'expired' ELSE p_hold.status END,
    'expiresAt', p_hold.expires_at,
    'expiringSoon', p_hold.status = 'active' AND p_hold.expires_at > now()
                    AND p_hold.expires_at <= now() + make_interval(secs => p_soon),
    'extensionsUsed', p_hold.extensions_used,
    'items', (SELECT coalesce(jsonb_agg(jsonb_build_object('ticketTypeId', et.id, 'ticketTypeName', et.name, 'quantity', c.quantity)
                                        ORDER BY et.sort_order, et.name COLLATE "C", et.id), '[]'::jsonb)
              FROM (SELECT t.event_ticket_id, count(*)::integer AS quantity FROM tickets t
                    WHERE t.reservation_id = p_hold.id GROUP BY t.event_ticket_id) AS c
              JOIN event_tickets et ON et.id = c.event_ticket_id),
    'offer', (SELECT jsonb_build_object('waitlistEntryId', w.id) FROM waitlist_entries w WHERE w.offer_reservation_id = p_hold.id))
$$;
REVOKE EXECUTE ON FUNCTION personal_hold_json(reservations, integer) FROM PUBLIC;

-- Each holder's feed, read in one statement (one snapshot, one now()):
-- the version, the active holds and the live entries, and the holds and
-- entries of p_known (those the reader last had, whatever became of them,
-- so it can tell how they ended). Only rows of that holder, whatever p_known
-- holds: the holder ids come from verified tokens.
CREATE OR REPLACE FUNCTION personal_feeds(p_holders text[], p_known uuid[], p_soon integer)
RETURNS TABLE (holder_id text, version bigint, holds jsonb, waitlist jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT h.holder_id,
    personal_feed_version(h.holder_id, p_soon),
    (SELECT coalesce(jsonb_agg(personal_hold_json(r, p_soon) ORDER BY r.created_at, r.id), '[]'::jsonb)
     FROM reservations r
     WHERE r.holder_id = h.holder_id AND ((r.status = 'active' AND r.expires_at > now()) OR r.id = ANY (p_known))),
    (SELECT coalesce(jsonb_agg(waitlist_entry_fields(w) ORDER BY w.seq), '[]'::jsonb)
     FROM waitlist_entries w LEFT JOIN reservations r ON r.id = w.offer_reservation_id
     WHERE w.holder_id = h.holder_id
       AND (w.status = 'waiting' OR (w.status = 'offered' AND waitlist_offer_outcome(r) = 'offered') OR w.id = ANY (p_known)))
  FROM unnest(p_holders) AS h(holder_id)
$$;
REVOKE EXECUTE ON FUNCTION personal_feeds(text[], uuid[], integer) FROM PUBLIC;

-- Only the versions: the periodic re-check of every subscribed user, cheap
-- beside reading their state.
CREATE OR REPLACE FUNCTION personal_feed_versions(p_holders text[], p_soon integer)
RETURNS TABLE (holder_id text, version bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT h.holder_id, personal_feed_version(h.holder_id, p_soon) FROM unnest(p_holders) AS h(holder_id)
$$;
REVOKE EXECUTE ON FUNCTION personal_feed_versions(text[], integer) FROM PUBLIC;
