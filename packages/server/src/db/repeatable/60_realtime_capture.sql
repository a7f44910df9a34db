-- Change capture for the Supabase-compatible realtime endpoint: the outbox
-- tables and why they look as they do are in 0001_schema.sql; the triggers
-- that call this are in 90_triggers.sql.

-- jit off: the trigger runs inside reserve_holds() and expire_due_holds(),
-- which turn enable_seqscan off (50_group_commit.sql, 40_expiry.sql). That
-- prices the one-row scan of realtime_capture at 10^10, past jit_above_cost,
-- and compiling it took 10-90 ms per statement (measured), more than the
-- hold batch itself.
CREATE OR REPLACE FUNCTION capture_tickets_changes() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
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
