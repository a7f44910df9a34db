-- Sales velocity: seats sold per minute per ticket type, and when a type is
-- likely to sell out (docs/protocol.md, "Sales velocity"). Computed from
-- ticket_sales_per_minute for the whole service, never per viewer, and
-- stored in sales_velocity, which the availability reads join.

-- Selling fast: at least this many seats a minute over the last 5 minutes.
CREATE OR REPLACE FUNCTION sales_velocity_fast_per_minute() RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT 2.0 $$;
-- A projection further out than this is no trend worth telling buyers about.
CREATE OR REPLACE FUNCTION sales_velocity_horizon() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '60 minutes' $$;

-- The figures at `p_at` of every ticket type that sold within the last 15
-- minutes or still has a stored row (so its figures can fall back to none).
--
-- A rate is the seats sold in the `minutes` before p_at, per minute. Sales
-- are kept per minute, so the window's oldest minute counts for the part of
-- it still inside the window: a sliding window that moves smoothly, and
-- counts a sale at once instead of at the next whole minute.
--
-- A projection is made only when it means something: the type is on sale
-- with seats left (available or low stock) and a limited capacity, it sold in
-- the last 5 minutes, and at that pace its seats left would be gone within
-- sales_velocity_horizon(). It is p_at + seats left / the 5-minute rate,
-- to the nearest minute; otherwise null. Selling fast needs the type on sale
-- too: a sold-out type is not "selling fast".
CREATE OR REPLACE FUNCTION sales_velocity_at(p_at timestamptz)
RETURNS TABLE (event_ticket_id uuid, event_id uuid, sold_per_minute_5m numeric, sold_per_minute_15m numeric,
               projected_sell_out_at timestamptz, selling_fast boolean)
LANGUAGE sql STABLE AS $$
  WITH clock AS (
    SELECT date_trunc('minute', p_at) AS this_minute,
           extract(epoch FROM p_at - date_trunc('minute', p_at)) / 60 AS into_minute
  ), recent AS (
    SELECT s.event_ticket_id, s.event_id,
           sum(s.sold * CASE WHEN s.minute > c.this_minute - interval '5 minutes' THEN 1
                             WHEN s.minute = c.this_minute - interval '5 minutes' THEN 1 - c.into_minute
                             ELSE 0 END) / 5 AS rate_5m,
           sum(s.sold * CASE WHEN s.minute > c.this_minute - interval '15 minutes' THEN 1
                             ELSE 1 - c.into_minute END) / 15 AS rate_15m
    FROM ticket_sales_per_minute s, clock c
    WHERE s.minute >= c.this_minute - interval '15 minutes' AND s.minute <= c.this_minute
    GROUP BY s.event_ticket_id, s.event_id
  ), candidates AS (
    SELECT r.event_ticket_id, r.event_id FROM recent r
    UNION
    SELECT v.event_ticket_id, v.event_id FROM sales_velocity v
  )
  SELECT k.event_ticket_id, k.event_id,
         round(coalesce(r.rate_5m, 0), 1), round(coalesce(r.rate_15m, 0), 1),
         CASE WHEN a.status IN ('available', 'low_stock') AND NOT a.is_unlimited AND r.rate_5m > 0
                   AND a.available_count / r.rate_5m * interval '1 minute' <= sales_velocity_horizon()
              THEN date_trunc('minute', p_at + a.available_count / r.rate_5m * interval '1 minute' + interval '30 seconds') END,
         coalesce(a.status IN ('available', 'low_stock') AND r.rate_5m >= sales_velocity_fast_per_minute(), false)
  FROM candidates k
  LEFT JOIN recent r ON r.event_ticket_id = k.event_ticket_id
  -- Hidden (or deleted) types are not in the view: their figures go.
  LEFT JOIN ticket_availability_view a ON a.ticket_type_id = k.event_ticket_id
$$;

-- Brings sales_velocity up to date, at most once per `p_min_interval_ms`
-- for the whole service (every node may call it; the others' calls in the
-- interval return at once), and gives every event whose figures changed a new
-- availability_version, so viewers get them as any other change, resync by
-- version, and never get a frame per sale from them. Returns those events.
CREATE OR REPLACE FUNCTION refresh_sales_velocity(p_min_interval_ms integer)
RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
  v_at timestamptz := now();
  v_changed uuid[];
BEGIN
  UPDATE sales_velocity_refresh SET refreshed_at = v_at
   WHERE refreshed_at IS NULL OR refreshed_at <= v_at - p_min_interval_ms * interval '1 millisecond';
  IF NOT FOUND THEN
    RETURN '{}';
  END IF;

  WITH figures AS (
    SELECT f.*, (f.sold_per_minute_5m = 0 AND f.sold_per_minute_15m = 0 AND f.projected_sell_out_at IS NULL AND NOT f.selling_fast) AS idle FROM sales_velocity_at(v_at) f
  ), kept AS (
    INSERT INTO sales_velocity AS v (event_ticket_id, event_id, sold_per_minute_5m, sold_per_minute_15m, projected_sell_out_at, selling_fast)
    SELECT f.event_ticket_id, f.event_id, f.sold_per_minute_5m, f.sold_per_minute_15m, f.projected_sell_out_at, f.selling_fast
    FROM figures f WHERE NOT f.idle
    ORDER BY f.event_ticket_id
    ON CONFLICT (event_ticket_id) DO UPDATE
      SET sold_per_minute_5m = EXCLUDED.sold_per_minute_5m, sold_per_minute_15m = EXCLUDED.sold_per_minute_15m,
          projected_sell_out_at = EXCLUDED.projected_sell_out_at, selling_fast = EXCLUDED.selling_fast
      WHERE (v.sold_per_minute_5m, v.sold_per_minute_15m, v.projected_sell_out_at, v.selling_fast)
            IS DISTINCT FROM (EXCLUDED.sold_per_minute_5m, EXCLUDED.sold_per_minute_15m, EXCLUDED.projected_sell_out_at, EXCLUDED.selling_fast)
    RETURNING v.event_id
  ), gone AS (
    DELETE FROM sales_velocity v USING figures f WHERE v.event_ticket_id = f.event_ticket_id AND f.idle
    RETURNING v.event_id
  )
  SELECT array_agg(DISTINCT c.event_id ORDER BY c.event_id) INTO v_changed
  FROM (SELECT event_id FROM kept UNION ALL SELECT event_id FROM gone) AS c;

  IF v_changed IS NULL THEN
    RETURN '{}';
  END IF;
  -- In id order, as the counter triggers lock events.
  PERFORM 1 FROM events WHERE id = ANY (v_changed) ORDER BY id FOR NO KEY UPDATE;
  UPDATE events SET availability_version = availability_version + 1, availability_changed_at = clock_timestamp()
   WHERE id = ANY (v_changed);
  RETURN v_changed;
END $$;
