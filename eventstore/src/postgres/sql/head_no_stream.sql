WITH head AS (
    INSERT INTO streams (stream, version) VALUES ($1, $2::bigint - 1)
    ON CONFLICT (stream) DO NOTHING
    RETURNING -1::bigint AS base
),
