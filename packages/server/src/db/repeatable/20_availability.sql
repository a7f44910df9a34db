-- What buyers may see: the availability view and who may see an event.
-- The view is replaced in place (CREATE OR REPLACE VIEW), which can only add
-- columns at the end: see docs/inventory.md for changing or removing one.

-- What a buyer may see of each ticket type: aggregate numbers only, never
-- who holds or bought what. Hidden ticket types are left out.
CREATE OR REPLACE VIEW ticket_availability_view AS
SELECT
  et.id                                   AS ticket_type_id,
  et.event_id,
  et.name                                 AS ticket_type_name,
  et.description,
  et.price,
  et.currency,
  et.total_capacity,
  et.sold_count,
  et.reserved_count,
  et.available_count,
  et.available_count                      AS actual_available,
  CASE WHEN et.total_capacity > 0
       THEN round(et.sold_count * 100.0 / et.total_capacity, 1)::float8
       ELSE 0 END                         AS percentage_sold,
  et.total_capacity IS NOT NULL AND et.available_count = 0 AS is_sold_out,
  et.total_capacity IS NULL               AS is_unlimited,
  CASE
    WHEN e.status IN ('draft', 'ended', 'cancelled') THEN 'off_sale'
    WHEN et.status = 'paused' OR e.status = 'paused' THEN 'paused'
    WHEN et.total_capacity IS NULL THEN 'available'
    WHEN et.available_count = 0 THEN 'sold_out'
    WHEN et.available_count <= coalesce(et.low_stock_threshold, ceil(et.total_capacity * 0.1)::integer)
      THEN 'low_stock'
    ELSE 'available'
  END                                     AS status,
  et.max_per_order,
  et.sort_order,
  et.version,
  et.updated_at
FROM event_tickets et
JOIN events e ON e.id = et.event_id
WHERE et.status <> 'hidden';

-- Whether a ticket type has seats a hold could take now: its event and the
-- type on sale, and a seat free (or no capacity limit). The one test behind
-- "join the waiting list / watch it only while sold out" and "offer / tell the
-- watchers once seats are back". Plain SQL on its arguments, so the planner
-- inlines it into the queries that call it.
CREATE OR REPLACE FUNCTION has_seats_to_hold(p_event events, p_type event_tickets) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_event.status = 'on_sale' AND p_type.status = 'on_sale' AND coalesce(p_type.available_count, 1) > 0
$$;

-- Who may see an event: everyone when it is public and not a draft;
-- organizers and the service always; other users when the event grants them.
CREATE OR REPLACE FUNCTION event_is_visible(p_event events, p_user_id text, p_privileged boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p_privileged
      OR (p_event.is_public AND p_event.status <> 'draft')
      OR (p_user_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM event_access a WHERE a.event_id = p_event.id AND a.user_id = p_user_id))
$$;

-- A ticket type the caller may see (its event visible to them; a hidden type
-- only to the privileged), else the error ticket_type_not_found: one answer
-- whether it does not exist or may not be seen.
CREATE OR REPLACE FUNCTION visible_ticket_type(p_type_id uuid, p_user_id text, p_privileged boolean) RETURNS event_tickets
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_type event_tickets;
  v_event events;
BEGIN
  SELECT * INTO v_type FROM event_tickets WHERE id = p_type_id;
  SELECT * INTO v_event FROM events WHERE id = v_type.event_id;
  IF v_type.id IS NULL OR NOT event_is_visible(v_event, p_user_id, p_privileged) OR (v_type.status = 'hidden' AND NOT p_privileged) THEN
    PERFORM raise_inventory_error('Ticket type not found', '{"code": "ticket_type_not_found"}');
  END IF;
  RETURN v_type;
END $$;
REVOKE EXECUTE ON FUNCTION visible_ticket_type(uuid, text, boolean) FROM PUBLIC;

-- An event by id (any case) or slug; a row of nulls when there is none.
CREATE OR REPLACE FUNCTION event_by_ref(p_ref text) RETURNS events
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_event events;
BEGIN
  IF p_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    SELECT * INTO v_event FROM events WHERE id = p_ref::uuid;
  ELSE
    SELECT * INTO v_event FROM events WHERE slug = p_ref;
  END IF;
  RETURN v_event;
END $$;
