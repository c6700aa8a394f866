WITH head AS (
    UPDATE streams SET version = $8::bigint + $2::bigint
    WHERE stream = $1 AND version = $8::bigint
    RETURNING $8::bigint AS base
),
