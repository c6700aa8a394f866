WITH head AS (
    INSERT INTO streams AS s (stream, version) VALUES ($1, $2::bigint - 1)
    ON CONFLICT (stream) DO UPDATE SET version = s.version + $2::bigint
    RETURNING s.version - $2::bigint AS base
),
