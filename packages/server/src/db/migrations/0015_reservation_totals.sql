-- What a reservation comes to, computed here in numeric: each item's total
-- (unit price × quantity) and the reservation's total per currency, sent as
-- decimal strings. Clients show these strings and never multiply prices
-- themselves: in binary floating point 0.10 × 3 is 0.30000000000000004.

-- One ticket type's seats in one of the reservations being priced.
CREATE TYPE reservation_line AS (
  reservation integer, ticket_type_id uuid, ticket_type_name text, quantity integer,
  unit_price numeric, currency text, sort_order integer
);

-- The items of reservations as the API lists them, in the ticket types'
-- display order (sort order, then name), each with its total, and each
-- reservation's totals per currency, by currency code. The one place money
-- is multiplied and added up.
CREATE FUNCTION reservation_lines(p_lines reservation_line[])
RETURNS TABLE (reservation integer, items jsonb, totals jsonb)
LANGUAGE sql IMMUTABLE AS $$
  WITH line AS (SELECT l.*, l.unit_price * l.quantity AS total FROM unnest(p_lines) AS l)
  SELECT i.reservation, i.items, c.totals
  FROM (SELECT line.reservation,
               jsonb_agg(jsonb_build_object('ticketTypeId', ticket_type_id, 'ticketTypeName', ticket_type_name,
                                            'quantity', quantity, 'unitPrice', unit_price::text, 'currency', currency,
                                            'total', total::text)
                         ORDER BY sort_order, ticket_type_name) AS items
        FROM line GROUP BY 1) AS i
  JOIN (SELECT s.reservation, jsonb_agg(jsonb_build_object('currency', currency, 'total', total::text) ORDER BY currency) AS totals
        FROM (SELECT line.reservation, currency, sum(total) AS total FROM line GROUP BY 1, 2) AS s GROUP BY 1) AS c
    ON c.reservation = i.reservation
$$;

-- As in 0003, with the items and totals from reservation_lines().
CREATE OR REPLACE FUNCTION reservation_json(p_reservation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
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

-- reserve_holds() answers a new hold with its id only ({"made": id}); the
-- caller builds the rest. This prices them, from the requests (p_requests:
-- the batch's, one per outcome) and the ticket types the batch read, as
-- reservation_json() lists them. It adds "priced": [{items, totals}], one per
-- distinct order among the new holds, and "pricedAs": for each outcome, its
-- index in "priced", or null. An on-sale's holds mostly ask for the same few
-- orders, so a batch is priced once per order, not once per hold: priced one
-- by one, a batch of 256 holds took about 40% longer.
CREATE FUNCTION new_holds_priced(p_batch jsonb, p_requests jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  WITH outcome AS (
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
    'pricedAs', coalesce((SELECT jsonb_agg(kind.k ORDER BY n) FROM outcome LEFT JOIN kind ON outcome.made AND kind.items = outcome.items), '[]'))
$$;

-- CREATE OR REPLACE reset what 0013 gave reservation_json(): it runs as its
-- owner again, with the search path pinned to this schema, whose name only
-- the running migration knows (EXECUTE stays revoked from PUBLIC).
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION reservation_json(uuid) SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
END $$;
