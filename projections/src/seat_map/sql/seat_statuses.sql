-- One row: the show's version and counts, how many of its seats were let in, and its
-- seats' statuses folded into a string (a character per seat, in layout order) by the
-- database, with the seats' ids in the same order (so that a kept copy can follow later
-- batches seat by seat).
SELECT s.version, s.available, s.held, s.sold, seats.checked_in, seats.statuses,
    seats.seat_ids
FROM seat_map_shows s
CROSS JOIN LATERAL (
    SELECT coalesce(string_agg(CASE seat.status WHEN 'held' THEN 'h' WHEN 'sold' THEN 's'
            ELSE 'a' END, '' ORDER BY seat.ordinal), '') AS statuses,
        coalesce(array_agg(seat.seat_id ORDER BY seat.ordinal), '{}') AS seat_ids,
        count(*) FILTER (WHERE seat.checked_in)::int AS checked_in
    FROM seat_map_seats seat WHERE seat.show_id = s.show_id
) seats
WHERE s.show_id = $1
