-- A new show: every seat available; its accessible seats kept back if it has a rule.
INSERT INTO seat_map_shows (show_id, movie_id, title, starts_at, ends_at, capacity, available,
    held, sold, version, expiry_grace_seconds, accessible_seating, accessible_kept,
    accessible_release_at)
VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0, $7, $8, $9::jsonb, $9::jsonb IS NOT NULL, $10)
