-- Serves the organizer's sales-per-minute read: only sold seats are indexed,
-- by event and purchase time, so a recent window is read without touching
-- the rest of an event's tickets.
CREATE INDEX tickets_sold_by_event ON tickets (event_id, purchased_at) WHERE status = 'sold';
