-- The show and its seats in layout order, in one statement so that the counts, the seats
-- and the version are of one moment (a show without seats gives one row of NULL seat
-- columns).
SELECT s.movie_id, s.title, s.starts_at, s.ends_at, s.capacity, s.available, s.held, s.sold,
    s.version, s.cancelled, s.accessible_seating, s.accessible_kept,
    s.accessible_release_at, s.accessible_released_reason, s.accessible_released_at,
    seat.seat_id, seat.row_label, seat.number, seat.category, seat.status, seat.checked_in,
    seat.price_minor, seat.currency, seat.grid_column, seat.kind
FROM seat_map_shows s
LEFT JOIN seat_map_seats seat ON seat.show_id = s.show_id
WHERE s.show_id = $1
ORDER BY seat.ordinal
