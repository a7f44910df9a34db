-- reserve_holds() builds a batch's tickets from unnest(), jsonb_array_elements()
-- and generate_series(), which the planner guesses at 12.7 million rows for
-- 200 holds: far above jit_above_cost, so every batch JIT-compiled its
-- tickets INSERT (14 functions) before running it, milliseconds spent on
-- every batch of a statement that takes ten or twenty. Its statements are
-- small and run once each: never worth compiling. The setting also covers
-- the triggers it fires.
ALTER FUNCTION reserve_holds(text, jsonb, integer) SET jit = off;
