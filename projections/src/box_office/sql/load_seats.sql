-- What the seats leaving orders in a batch count as paid.
SELECT s.show_id, s.seat_id, s.category, s.paid_minor
FROM report_seats s JOIN unnest($1::uuid[], $2::text[]) AS k(show_id, seat_id)
    ON s.show_id = k.show_id AND s.seat_id = k.seat_id
