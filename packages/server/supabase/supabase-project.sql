-- FOR SUPABASE PROJECTS ONLY: do not run it on TicketPulse's own database.
--
-- Run once on a Supabase project's database, after TicketPulse's migrations
-- (docs/supabase.md, "TicketPulse's SDK on your Supabase project"), for
-- example: psql "$SUPABASE_DB_URL" -v ON_ERROR_STOP=1 -1 -f packages/server/supabase/supabase-project.sql
--
-- It needs what only Supabase has: the roles anon, authenticated and
-- service_role, auth.uid() and auth.jwt(), and the supabase_realtime
-- publication. TicketPulse's own server enforces the same rules in its code
-- (docs/supabase.md, "Authorization"); on Supabase, PostgREST and Realtime
-- read the tables directly, so row-level security and grants enforce them:
--
--   * anon and authenticated read, and nothing else: holds are made by
--     TicketPulse's server or your backend (service_role bypasses all this);
--   * events: those the reader may see (event_is_visible(), as TicketPulse
--     decides it); organizers see all;
--   * event_tickets and ticket_availability_view: the ticket types of those
--     events; hidden types only for organizers (the view never shows them);
--   * tickets: the rows of those events, never the personal columns
--     holder_id and reservation_id ("sensitive data excluded from real-time
--     updates": Realtime leaves out the columns a role may not select).
--
-- Who is who: auth.uid() is TicketPulse's user id (tickets.holder_id,
-- event_access.user_id); an organizer's user has
-- app_metadata.ticketpulse_role = 'organizer' (set it with the service role;
-- users cannot change their app_metadata).

-- Supabase grants every new table and function in public to anon and
-- authenticated by default: take TicketPulse's back first.
REVOKE ALL ON events, event_access, event_tickets, reservations, tickets, ticket_availability_view,
  realtime_capture, tickets_changes, event_queues, queue_entries, queue_admissions, leader_leases,
  ticket_sales_per_minute, sales_velocity, sales_velocity_refresh FROM anon, authenticated;
REVOKE ALL ON SEQUENCE tickets_changes_seq_seq FROM anon, authenticated;
-- Functions are executable by PUBLIC as well: take back every function in
-- the schema (TicketPulse's, from its migrations and repeatable files), so no
-- list here has to follow them. Two are granted back below, for the policies.
DO $$
BEGIN
  EXECUTE format('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC, anon, authenticated', current_schema());
END $$;

-- Row-level security on every TicketPulse table: without a policy, a table shows nothing.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE realtime_capture ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets_changes ENABLE ROW LEVEL SECURITY;
-- Sales per minute and the published velocity: TicketPulse's server reads them as their owner.
ALTER TABLE ticket_sales_per_minute ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales_velocity ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales_velocity_refresh ENABLE ROW LEVEL SECURITY;
-- TicketPulse's CLI records applied migrations here; psql does not create it.
DO $$
BEGIN
  IF to_regclass('schema_migrations') IS NOT NULL THEN
    REVOKE ALL ON schema_migrations FROM anon, authenticated;
    ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
  END IF;
END $$;

CREATE FUNCTION ticketpulse_is_organizer() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(auth.jwt() -> 'app_metadata' ->> 'ticketpulse_role', '') = 'organizer'
$$;
REVOKE EXECUTE ON FUNCTION ticketpulse_is_organizer() FROM PUBLIC;
-- Policies run as the reader, so the reader calls these (event_is_visible reads event_access).
GRANT EXECUTE ON FUNCTION ticketpulse_is_organizer(), event_is_visible(events, text, boolean) TO anon, authenticated;

GRANT SELECT ON events, event_access, event_tickets, ticket_availability_view TO anon, authenticated;
GRANT SELECT (id, event_id, event_ticket_id, status, reservation_expires_at, purchased_at, created_at, updated_at)
  ON tickets TO anon, authenticated;

CREATE POLICY events_visible ON events FOR SELECT TO anon, authenticated
  USING (event_is_visible(events, auth.uid()::text, ticketpulse_is_organizer()));
-- A user sees the grants made to them, which is all event_is_visible() asks.
CREATE POLICY event_access_own ON event_access FOR SELECT TO anon, authenticated
  USING (user_id = auth.uid()::text OR ticketpulse_is_organizer());
-- The events subquery sees only the events the reader may see (their policy applies to it).
CREATE POLICY event_tickets_visible ON event_tickets FOR SELECT TO anon, authenticated
  USING ((status <> 'hidden' OR ticketpulse_is_organizer()) AND EXISTS (SELECT 1 FROM events e WHERE e.id = event_id));
CREATE POLICY tickets_visible ON tickets FOR SELECT TO anon, authenticated
  USING (EXISTS (SELECT 1 FROM events e WHERE e.id = event_id));

-- A view reads its tables as its owner, past their row-level security: read
-- as the reader instead, so the view shows only the events they may see.
ALTER VIEW ticket_availability_view SET (security_invoker = true);

-- Realtime streams changes of the tables in this publication.
ALTER PUBLICATION supabase_realtime ADD TABLE event_tickets, tickets;
