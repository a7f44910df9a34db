-- Inventory schema. Names follow the design (events, event_tickets, tickets).
-- Counters on events and event_tickets are maintained by the triggers in
-- 0002_counters.sql; nothing else writes them.

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
    CHECK (total_capacity IS NULL OR sold_count + reserved_count <= total_capacity)
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
  event_id               uuid NOT NULL REFERENCES events (id),
  event_ticket_id        uuid NOT NULL REFERENCES event_tickets (id),
  reservation_id         uuid REFERENCES reservations (id),
  status                 text NOT NULL CHECK (status IN ('reserved', 'sold', 'cancelled', 'expired')),
  holder_id              text,
  reservation_expires_at timestamptz,
  purchased_at           timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'reserved' OR reservation_expires_at IS NOT NULL)
);
CREATE INDEX tickets_by_reservation ON tickets (reservation_id);
CREATE INDEX tickets_by_type ON tickets (event_ticket_id);
-- Serves expire_ticket_reservations(): only live holds are indexed, so the sweep reads just what is due.
CREATE INDEX tickets_hold_deadline ON tickets (reservation_expires_at) WHERE status = 'reserved';
