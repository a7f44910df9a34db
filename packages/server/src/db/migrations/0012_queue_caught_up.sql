-- When an admission tick last left nobody waiting (docs/waiting-room.md,
-- "Estimated waits"). The measured admission rate and pace count from then,
-- not over the whole last minute: a quiet spell, when there was nobody to
-- admit, says nothing about how fast the line moves, and before this a
-- crowd arriving after one was told waits several times too long.
ALTER TABLE event_queues ADD COLUMN caught_up_at timestamptz;
