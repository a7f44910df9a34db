-- What the realtime gateway needs from the inventory.

-- Organizers who do not want to disclose sales show bands only
-- (available / low stock / sold out) to buyers.
ALTER TABLE events
  ADD COLUMN display_precision text NOT NULL DEFAULT 'exact' CHECK (display_precision IN ('exact', 'bands')),
  -- When the event's availability last changed, by the database clock at the
  -- end of the changing statement: the "commit time" viewers' latency is measured from.
  ADD COLUMN availability_changed_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- Users a non-public event is open to, besides organizers and the service.
CREATE TABLE event_access (
  event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, user_id)
);

CREATE OR REPLACE FUNCTION update_event_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_events uuid[]; new_sold integer[]; new_reserved integer[];
  old_events uuid[]; old_sold integer[]; old_reserved integer[];
  event_ids uuid[]; sold_deltas integer[]; reserved_deltas integer[];
BEGIN
  IF TG_OP <> 'DELETE' THEN
    SELECT array_agg(event_id), array_agg(sold_count), array_agg(reserved_count)
      INTO new_events, new_sold, new_reserved FROM new_rows;
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
    PERFORM 1 FROM events WHERE id = ANY (event_ids) ORDER BY id FOR UPDATE;
  END IF;
  UPDATE events AS e
     SET sold_count              = e.sold_count + d.sold,
         reserved_count          = e.reserved_count + d.reserved,
         availability_version    = e.availability_version + 1,
         availability_changed_at = clock_timestamp(),
         updated_at              = now()
    FROM unnest(event_ids, sold_deltas, reserved_deltas) AS d(event_id, sold, reserved)
   WHERE e.id = d.event_id;
  RETURN NULL;
END $$;

-- Status, visibility and precision change what viewers see, so they are availability changes too.
DROP TRIGGER events_status_version ON events;
CREATE OR REPLACE FUNCTION bump_availability_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.availability_version := OLD.availability_version + 1;
  NEW.availability_changed_at := clock_timestamp();
  RETURN NEW;
END $$;
CREATE TRIGGER events_availability_version BEFORE UPDATE OF status, is_public, display_precision ON events
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.is_public IS DISTINCT FROM NEW.is_public
        OR OLD.display_precision IS DISTINCT FROM NEW.display_precision)
  EXECUTE FUNCTION bump_availability_version();

-- The sweep, reporting which events it changed so the gateway can tell their viewers.
CREATE FUNCTION expire_due_holds(p_event_ticket_id uuid DEFAULT NULL)
RETURNS TABLE (event_id uuid, released integer)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT r.id, r.event_id FROM reservations r
    WHERE r.status = 'active'
      AND r.id IN (SELECT t.reservation_id FROM tickets t
                   WHERE t.status = 'reserved' AND t.reservation_expires_at <= now()
                     AND (p_event_ticket_id IS NULL OR t.event_ticket_id = p_event_ticket_id))
    ORDER BY r.id
    FOR UPDATE OF r SKIP LOCKED
  ), closed AS (
    UPDATE reservations r SET status = 'expired', updated_at = now() FROM due WHERE r.id = due.id
  ), freed AS (
    UPDATE tickets t SET status = 'expired', updated_at = now()
    FROM due WHERE t.reservation_id = due.id AND t.status = 'reserved'
    RETURNING t.event_id
  )
  SELECT f.event_id, count(*)::integer FROM freed f GROUP BY f.event_id;
END $$;

-- The design's name and contract: how many seats were released.
CREATE OR REPLACE FUNCTION expire_ticket_reservations(p_event_ticket_id uuid DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
  SELECT coalesce(sum(released), 0)::integer FROM expire_due_holds(p_event_ticket_id)
$$;

-- Who may see an event: everyone when it is public and not a draft;
-- organizers and the service always; other users when the event grants them.
CREATE FUNCTION event_is_visible(p_event events, p_user_id text, p_privileged boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p_privileged
      OR (p_event.is_public AND p_event.status <> 'draft')
      OR (p_user_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM event_access a WHERE a.event_id = p_event.id AND a.user_id = p_user_id))
$$;
