-- A new show: every seat available.
INSERT INTO seat_map_shows (show_id, movie_id, title, starts_at, ends_at, capacity, available,
    held, sold, version, expiry_grace_seconds)
VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0, $7, $8)
