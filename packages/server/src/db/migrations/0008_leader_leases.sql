-- Single-leader jobs (docs/architecture.md, "Leaders"): which node runs each,
-- as a lease it renews on every run. It replaces the waiting room's own
-- one-row lease table: queue admission is one such job.
CREATE TABLE leader_leases (
  job         text PRIMARY KEY,
  node        text NOT NULL,
  lease_until timestamptz NOT NULL
);
ALTER TABLE leader_leases ENABLE ROW LEVEL SECURITY;

INSERT INTO leader_leases (job, node, lease_until)
SELECT 'queue-admission', node, lease_until FROM queue_admission_leader;
DROP TABLE queue_admission_leader;
