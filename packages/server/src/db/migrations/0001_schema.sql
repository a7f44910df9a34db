-- The baseline: every table, index, type and policy, as migrations 0001-0015
-- had left them when they were squashed into this one file (issue 13, before
-- any deployment). Functions, views and triggers are not here: they live in
-- ../repeatable/, one definition each, applied after the migrations.
--
-- Inventory schema. Names follow the design (events, event_tickets, tickets).
-- Counters on events and event_tickets are maintained by the triggers in
-- repeatable/10_counters.sql; nothing else writes them.

CREATE TABLE events (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                   text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
  name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description            text,
  venue                  text,
  starts_at              timestamptz NOT NULL,
  is_public              boolean NOT NULL DEFAULT true,
  status                 text NOT NULL DEFAULT 'on_sale'
                         CHECK (status IN ('draft', 'on_sale', 'paused', 'ended', 'cancelled')),
  -- Hold timings; NULL means the service default (TICKETPULSE_HOLD_* variables).
  hold_seconds           integer CHECK (hold_seconds BETWEEN 1 AND 86400),
  hold_extension_seconds integer CHECK (hold_extension_seconds BETWEEN 1 AND 86400),
  max_hold_extensions    integer CHECK (max_hold_extensions BETWEEN 0 AND 100),
  sold_count             integer NOT NULL DEFAULT 0 CHECK (sold_count >= 0),
  reserved_count         integer NOT NULL DEFAULT 0 CHECK (reserved_count >= 0),
  -- Organizers who do not want to disclose sales show buyers bands only (available / low / sold out).
  display_precision      text NOT NULL DEFAULT 'exact' CHECK (display_precision IN ('exact', 'bands')),
  -- Bumped in the same transaction as any change to this event's ticket types.
  availability_version   bigint NOT NULL DEFAULT 1,
  -- When availability last changed, by the database clock at the end of the
  -- changing statement: the "commit time" viewers' latency is measured from.
  availability_changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Users a non-public event is open to, besides organizers and the service.
CREATE TABLE event_access (
  event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, user_id)
);

-- Ticket types ("General", "VIP"), each with its own quota.
CREATE TABLE event_tickets (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id            uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description         text,
  price               numeric(12, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
  currency            text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
  total_capacity      integer CHECK (total_capacity >= 0),          -- NULL = unlimited
  sold_count          integer NOT NULL DEFAULT 0 CHECK (sold_count >= 0),
  reserved_count      integer NOT NULL DEFAULT 0 CHECK (reserved_count >= 0),
  -- What a buyer can take now. Reserved seats are subtracted exactly once.
  available_count     integer GENERATED ALWAYS AS (total_capacity - sold_count - reserved_count) STORED,
  status              text NOT NULL DEFAULT 'on_sale' CHECK (status IN ('on_sale', 'paused', 'hidden')),
  is_active           boolean GENERATED ALWAYS AS (status = 'on_sale') STORED,
  max_per_order       integer NOT NULL DEFAULT 10 CHECK (max_per_order BETWEEN 1 AND 100),
  low_stock_threshold integer CHECK (low_stock_threshold >= 0),     -- NULL = 10% of capacity
  sort_order          integer NOT NULL DEFAULT 0,
  version             bigint NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT event_tickets_within_capacity
    CHECK (total_capacity IS NULL OR sold_count + reserved_count <= total_capacity),
  -- The key a ticket's (ticket type, event) references: see tickets.
  CONSTRAINT event_tickets_id_event UNIQUE (id, event_id)
);
CREATE INDEX event_tickets_by_event ON event_tickets (event_id, sort_order);

-- A hold: one buyer's claim on seats of one event until expires_at.
CREATE TABLE reservations (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id            uuid NOT NULL REFERENCES events (id),
  holder_id           text NOT NULL,
  status              text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'confirmed', 'released', 'expired')),
  expires_at          timestamptz NOT NULL,
  extensions_used     integer NOT NULL DEFAULT 0 CHECK (extensions_used >= 0),
  idempotency_key     text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  -- Hash of the request that first used idempotency_key; a different request with the same key is refused.
  request_fingerprint text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  confirmed_at        timestamptz,
  released_at         timestamptz,
  CONSTRAINT reservations_idempotency UNIQUE (holder_id, idempotency_key)
);
CREATE INDEX reservations_by_holder ON reservations (holder_id, created_at DESC);

-- One row per seat held or sold.
CREATE TABLE tickets (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id               uuid NOT NULL,
  event_ticket_id        uuid NOT NULL,
  reservation_id         uuid REFERENCES reservations (id),
  status                 text NOT NULL CHECK (status IN ('reserved', 'sold', 'cancelled', 'expired')),
  holder_id              text,
  reservation_expires_at timestamptz,
  purchased_at           timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'reserved' OR reservation_expires_at IS NOT NULL),
  -- Most of a hold batch's time is its tickets INSERT, and most of that the
  -- per-row foreign key checks. A ticket's event is its ticket type's event,
  -- so one composite key checks both in one lookup (and that they agree).
  CONSTRAINT tickets_ticket_type_of_event FOREIGN KEY (event_ticket_id, event_id) REFERENCES event_tickets (id, event_id)
);
CREATE INDEX tickets_by_reservation ON tickets (reservation_id);
CREATE INDEX tickets_by_type ON tickets (event_ticket_id);
-- Serves expire_ticket_reservations(): only live holds are indexed, so the sweep reads just what is due.
CREATE INDEX tickets_hold_deadline ON tickets (reservation_expires_at) WHERE status = 'reserved';
-- Serves the organizer's sales-per-minute read: only sold seats are indexed,
-- by event and purchase time, so a recent window is read without touching
-- the rest of an event's tickets.
CREATE INDEX tickets_sold_by_event ON tickets (event_id, purchased_at) WHERE status = 'sold';

-- One ticket type's seats in one of the reservations being priced
-- (reservation_lines(), repeatable/30_reservations.sql).
CREATE TYPE reservation_line AS (
  reservation integer, ticket_type_id uuid, ticket_type_name text, quantity integer,
  unit_price numeric, currency text, sort_order integer
);

-- Change capture for the Supabase-compatible realtime endpoint
-- (src/realtime/supabase/, docs/supabase.md). The trigger that writes the
-- outbox is capture_tickets_changes() (repeatable/60_realtime_capture.sql).
--
-- Every INSERT on tickets must reach subscribers (a hold inserts one row per
-- seat), so tickets changes are not derived from counters: a statement-level
-- trigger writes ONE outbox row per statement, with its rows as an array.
-- Each row carries the writing transaction's id; readers take the rows of
-- transactions that have ended and that they have not read yet, so a
-- transaction that commits late is never skipped and none is read twice
-- (tickets-outbox.ts).
--
-- The trigger writes only while some node has a subscriber on tickets: such
-- a node renews a lease in realtime_capture; without one the trigger costs a
-- one-row lookup per statement.

CREATE TABLE realtime_capture (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  tickets_wanted_until timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO realtime_capture DEFAULT VALUES;

CREATE TABLE tickets_changes (
  seq        bigserial PRIMARY KEY,
  txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
  op         text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
  -- INSERT and UPDATE: the new rows whole; DELETE: the old rows whole. In
  -- tickets' own row type, which costs a sixth of jsonb to build on the
  -- hold path; the reader converts. PostgreSQL refuses to change the type
  -- of a tickets column while this column uses the row type: such a
  -- migration drops and re-adds it first (the outbox holds minutes).
  rows       tickets[] NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tickets_changes_by_txid ON tickets_changes (txid, seq);

-- Row-level security on tickets and reservations, keyed to the requester.
--
-- The requester is read from request.jwt.claims, the per-transaction setting
-- Supabase's PostgREST uses: the service sets it with
-- set_config('request.jwt.claims', '{"sub": ..., "role": ...}', true) when it
-- reads these tables for a caller. A row is visible to its holder, and to the
-- organizer and service roles (dashboards, support); to nobody else.
--
-- Policies bind roles that are not the tables' owner. The owner (who ran the
-- migrations: the demo's PGlite, the tests, a single-role deployment) bypasses
-- them as before. In production the service switches each connection to a
-- non-owner role (TICKETPULSE_DB_APP_ROLE, see docs/inventory.md), so the
-- database itself refuses cross-user reads even if a query forgets its filter.
--
-- The condition is written out rather than put in a function: on Supabase the
-- readers (anon, authenticated) evaluate it too, and get no new function.
--
-- On Supabase these policies add to supabase-project.sql's: the claims are
-- Supabase's own, whose top-level role is never organizer or service, so they
-- grant a signed-in user their own rows and nothing more.

ALTER TABLE reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;

CREATE POLICY reservations_requester ON reservations
  USING (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'))
  WITH CHECK (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'));
CREATE POLICY tickets_requester ON tickets
  USING (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'))
  WITH CHECK (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'));
-- The hold functions that work across users run as their owner instead
-- (SECURITY DEFINER, in their files under repeatable/).
