-- The virtual waiting room (docs/waiting-room.md): an event's queue settings
-- and live state, its entries (one per user), and one row per admission tick
-- that admitted anyone. Functions: repeatable/70_waiting_room.sql.

CREATE TABLE event_queues (
  event_id              uuid PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  enabled               boolean NOT NULL DEFAULT true,
  opens_at              timestamptz NOT NULL,
  prequeue_minutes      integer NOT NULL DEFAULT 30 CHECK (prequeue_minutes BETWEEN 0 AND 10080),
  admit_per_minute      integer NOT NULL CHECK (admit_per_minute BETWEEN 1 AND 1000000),
  max_active_shoppers   integer CHECK (max_active_shoppers BETWEEN 1 AND 10000000),
  pass_seconds          integer NOT NULL DEFAULT 600 CHECK (pass_seconds BETWEEN 1 AND 86400),
  abandon_after_seconds integer NOT NULL DEFAULT 120 CHECK (abandon_after_seconds BETWEEN 1 AND 86400),
  paused                boolean NOT NULL DEFAULT false,
  -- Live state. When the pre-queue got its positions (null: not yet).
  shuffled_at           timestamptz,
  -- Pre-queue entries waiting for the shuffle (0 once it is done).
  prequeue_count        integer NOT NULL DEFAULT 0 CHECK (prequeue_count >= 0),
  -- The highest position handed out; positions are 1, 2, ... without gaps when handed out.
  last_position         bigint NOT NULL DEFAULT 0,
  -- Every position up to this one has had its turn (admitted or skipped).
  served_up_to          bigint NOT NULL DEFAULT 0 CHECK (served_up_to <= last_position),
  -- Positions above served_up_to that nobody waits on any more (left, or moved to the end by a rejoin).
  vacated               bigint NOT NULL DEFAULT 0 CHECK (vacated >= 0),
  admitted_count        bigint NOT NULL DEFAULT 0,
  skipped_count         bigint NOT NULL DEFAULT 0,
  -- Fractional visitors owed by the rate since the last tick (below 1 after each tick).
  admission_credit      double precision NOT NULL DEFAULT 0,
  -- open, paused (organizer or event not on sale), held_out (only held seats left), sold_out, closed.
  admission_state       text NOT NULL DEFAULT 'open'
                        CHECK (admission_state IN ('open', 'paused', 'held_out', 'sold_out', 'closed')),
  last_tick_at          timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE queue_entries (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id     uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  -- The token's sub.
  holder_id    text NOT NULL,
  joined_at    timestamptz NOT NULL,
  -- Null while in the pre-queue; then exact, unique per event.
  position     bigint,
  last_seen_at timestamptz NOT NULL,
  left_at      timestamptz,
  -- Its turn came while it was not seen for abandon_after_seconds.
  skipped      boolean NOT NULL DEFAULT false,
  CONSTRAINT queue_entries_one_per_holder UNIQUE (event_id, holder_id),
  CONSTRAINT queue_entries_position UNIQUE (event_id, position)
);
CREATE INDEX queue_entries_prequeue ON queue_entries (event_id) WHERE position IS NULL;

-- One row per admission tick that served anyone: positions (from_position, to_position] had their turn at `at`.
CREATE TABLE queue_admissions (
  event_id      uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  at            timestamptz NOT NULL,
  from_position bigint NOT NULL,
  to_position   bigint NOT NULL,
  admitted      integer NOT NULL,
  skipped       integer NOT NULL,
  PRIMARY KEY (event_id, to_position)
);
CREATE INDEX queue_admissions_by_time ON queue_admissions (event_id, at);

-- Which node drives admission: one row, a lease renewed every tick (docs/waiting-room.md, Admission).
CREATE TABLE queue_admission_leader (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  node        text NOT NULL,
  lease_until timestamptz NOT NULL
);

ALTER TABLE event_queues ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_admissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_admission_leader ENABLE ROW LEVEL SECURITY;
