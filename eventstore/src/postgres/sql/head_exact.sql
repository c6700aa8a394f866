WITH head AS (
    UPDATE streams SET version = $10::bigint + $2::bigint
    WHERE stream = $1 AND version = $10::bigint
    RETURNING $10::bigint AS base
),
