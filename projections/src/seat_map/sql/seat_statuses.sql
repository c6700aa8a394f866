-- One row: the show's version and counts, and its seats' statuses folded into a string
-- (a character per seat, in layout order) by the database.
SELECT s.version, s.available, s.held, s.sold,
    (SELECT coalesce(string_agg(CASE seat.status WHEN 'held' THEN 'h' WHEN 'sold' THEN 's'
            ELSE 'a' END, '' ORDER BY seat.ordinal), '')
     FROM seat_map_seats seat WHERE seat.show_id = s.show_id) AS statuses
FROM seat_map_shows s
WHERE s.show_id = $1
