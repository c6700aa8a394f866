-- The stream's turn first (postgres/mod.rs, "Turns"): an append waits for a writer that
-- holds it, then finds the head moved.
WITH turn AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
),
head AS (
    UPDATE streams SET version = $10::bigint + $2::bigint
    FROM turn
    WHERE stream = $1 AND version = $10::bigint
    RETURNING $10::bigint AS base
),
