-- Seats whose tickets were let in during the batch (and did not change hands after).
UPDATE seat_map_seats s SET checked_in = true
FROM unnest($1::uuid[], $2::text[]) AS d(show_id, seat_id)
WHERE s.show_id = d.show_id AND s.seat_id = d.seat_id
