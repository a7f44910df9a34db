-- Change capture for the Supabase-compatible realtime endpoint
-- (src/realtime/supabase/, docs/supabase.md).
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

-- jit off: the trigger runs inside reserve_holds() and expire_due_holds(),
-- which turn enable_seqscan off (0007, 0008). That prices the one-row scan
-- of realtime_capture at 10^10, past jit_above_cost, and compiling it took
-- 10-90 ms per statement (measured), more than the hold batch itself.
CREATE FUNCTION capture_tickets_changes() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF (SELECT tickets_wanted_until FROM realtime_capture) < now() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO tickets_changes (op, rows) SELECT TG_OP, array_agg(o::tickets) FROM old_rows o HAVING count(*) > 0;
  ELSE
    INSERT INTO tickets_changes (op, rows) SELECT TG_OP, array_agg(n::tickets) FROM new_rows n HAVING count(*) > 0;
  END IF;
  RETURN NULL;
END $$;

-- The counter triggers (0002) reference the same transition tables, so
-- PostgreSQL builds them once per statement for both.
CREATE TRIGGER tickets_capture_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
CREATE TRIGGER tickets_capture_update AFTER UPDATE ON tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
CREATE TRIGGER tickets_capture_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION capture_tickets_changes();
