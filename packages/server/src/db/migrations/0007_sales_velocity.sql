-- Sales velocity (docs/protocol.md, "Sales velocity").
--
-- Seats sold per ticket type per minute of purchase, kept by the counter
-- trigger on tickets (repeatable/10_counters.sql): one upsert per ticket type
-- and minute per statement, so a confirm costs the same however many seats
-- were sold before. The organizer's sales chart and the published velocity
-- both read it: a window of minutes is a few rows, not every seat sold in it.
CREATE TABLE ticket_sales_per_minute (
  event_ticket_id uuid NOT NULL REFERENCES event_tickets (id) ON DELETE CASCADE,
  minute          timestamptz NOT NULL,
  event_id        uuid NOT NULL,
  sold            integer NOT NULL,
  PRIMARY KEY (event_ticket_id, minute)
);
-- The chart's read (one event, recent minutes) and the refresh's (every type with recent sales).
CREATE INDEX ticket_sales_per_minute_by_event ON ticket_sales_per_minute (event_id, minute);
CREATE INDEX ticket_sales_per_minute_by_minute ON ticket_sales_per_minute (minute);

INSERT INTO ticket_sales_per_minute (event_ticket_id, minute, event_id, sold)
SELECT event_ticket_id, date_trunc('minute', purchased_at), event_id, count(*)::integer
FROM tickets WHERE status = 'sold' AND purchased_at IS NOT NULL
GROUP BY event_ticket_id, date_trunc('minute', purchased_at), event_id;

-- It served only the sales chart, which now reads ticket_sales_per_minute;
-- every confirm paid for an entry in it.
DROP INDEX IF EXISTS tickets_sold_by_event;

-- The published figures (refresh_sales_velocity() in
-- repeatable/80_sales_velocity.sql): a row only for a ticket type that sold
-- within the last 15 minutes; no row reads as zero and no projection.
CREATE TABLE sales_velocity (
  event_ticket_id       uuid PRIMARY KEY REFERENCES event_tickets (id) ON DELETE CASCADE,
  event_id              uuid NOT NULL,
  sold_per_minute_5m    numeric(10, 1) NOT NULL,
  sold_per_minute_15m   numeric(10, 1) NOT NULL,
  projected_sell_out_at timestamptz,
  selling_fast          boolean NOT NULL
);

-- When the figures were last refreshed, by any node: one refresh per interval
-- for the whole service, however many nodes try.
CREATE TABLE sales_velocity_refresh (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  refreshed_at timestamptz
);
INSERT INTO sales_velocity_refresh DEFAULT VALUES;
