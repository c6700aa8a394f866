WITH old AS (
    SELECT seat_id, status FROM seat_map_seats
    WHERE show_id = $1 AND seat_id = ANY($2::text[])
    FOR UPDATE
), changed AS (
    UPDATE seat_map_seats AS s SET status = $3::text, hold_id = $4, order_id = $5
    FROM old
    WHERE s.show_id = $1 AND s.seat_id = old.seat_id
    RETURNING old.status AS was
), delta AS (
    SELECT count(*) FILTER (WHERE was = 'available')::int AS from_available,
        count(*) FILTER (WHERE was = 'held')::int AS from_held,
        count(*) FILTER (WHERE was = 'sold')::int AS from_sold,
        count(*)::int AS moved
    FROM changed
)
UPDATE seat_map_shows SET
    available = available - delta.from_available
        + CASE WHEN $3::text = 'available' THEN delta.moved ELSE 0 END,
    held = held - delta.from_held + CASE WHEN $3::text = 'held' THEN delta.moved ELSE 0 END,
    sold = sold - delta.from_sold + CASE WHEN $3::text = 'sold' THEN delta.moved ELSE 0 END,
    version = $6
FROM delta
WHERE show_id = $1
