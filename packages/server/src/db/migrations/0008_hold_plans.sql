-- An on-sale's tables grow from empty in minutes, faster than autovacuum
-- re-analyzes them (it visits each database once a minute). Statistics taken
-- while reservations was empty make the planner join a batch's Idempotency-
-- Keys to it by scanning the whole table, and plpgsql keeps that plan: with
-- ANALYZE run on empty tables, batches of 200 keyed holds fell from about
-- 2,000 to 330 holds/s within 20 s, and stayed there. reserve_holds() only
-- ever reads these tables by key, so it is told never to scan them (as
-- expire_due_holds() is, 0007). With this, the same run held 3,400-7,000.
ALTER FUNCTION reserve_holds(text, jsonb, integer) SET enable_seqscan = off;
