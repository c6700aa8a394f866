-- The stream's turn first (postgres/mod.rs, "Turns").
WITH turn AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
),
head AS (
    INSERT INTO streams (stream, version) SELECT $1, $2::bigint - 1 FROM turn
    ON CONFLICT (stream) DO NOTHING
    RETURNING -1::bigint AS base
),
