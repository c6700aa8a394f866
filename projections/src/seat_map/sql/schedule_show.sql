-- The batch's new shows: every seat available; accessible seats kept back where a show has a
-- rule.
INSERT INTO seat_map_shows (show_id, movie_id, title, starts_at, ends_at, capacity, available,
    held, sold, version, expiry_grace_seconds, accessible_seating, accessible_kept,
    accessible_release_at)
SELECT s.show_id, s.movie_id, s.title, s.starts_at, s.ends_at, s.capacity, s.capacity, 0, 0,
    s.version, s.grace, s.accessible_seating, s.accessible_seating IS NOT NULL, s.release_at
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[],
    $6::int[], $7::bigint[], $8::int[], $9::jsonb[], $10::timestamptz[])
    AS s(show_id, movie_id, title, starts_at, ends_at, capacity, version, grace,
        accessible_seating, release_at)
