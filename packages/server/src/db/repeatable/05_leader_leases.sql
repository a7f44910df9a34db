-- Single-leader jobs: every node asks on each run of the job and only the
-- leader runs it. The leader's lease is renewed by each of its runs; when it
-- lapses (p_lease_ms without a run: the node died or stopped), the next node
-- to ask takes over. Calls for one job take turns under a transaction-level
-- advisory lock, so two nodes never both lead, on one machine or many.
CREATE OR REPLACE FUNCTION take_leader_lease(p_job text, p_node text, p_lease_ms integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_lease leader_leases;
BEGIN
  -- 7291003: any constant the same for every TicketPulse process (migrations use 7291001).
  PERFORM pg_advisory_xact_lock(7291003, hashtext(p_job));
  SELECT * INTO v_lease FROM leader_leases WHERE job = p_job FOR UPDATE;
  IF FOUND AND v_lease.node <> p_node AND v_lease.lease_until > clock_timestamp() THEN
    RETURN false;
  END IF;
  INSERT INTO leader_leases (job, node, lease_until) VALUES (p_job, p_node, clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0))
  ON CONFLICT (job) DO UPDATE SET node = EXCLUDED.node, lease_until = EXCLUDED.lease_until;
  RETURN true;
END $$;
REVOKE EXECUTE ON FUNCTION take_leader_lease(text, text, integer) FROM PUBLIC;

-- A stopping leader gives its lease up, so another node takes over at its next run.
CREATE OR REPLACE FUNCTION release_leader_lease(p_job text, p_node text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  UPDATE leader_leases SET lease_until = clock_timestamp() WHERE job = p_job AND node = p_node;
$$;
REVOKE EXECUTE ON FUNCTION release_leader_lease(text, text) FROM PUBLIC;
