-- New shows: what an order's row shows of its show (cinema and hall: none for a show
-- scheduled with an inline layout).
INSERT INTO order_history_shows (show_id, title, starts_at, cinema_id, hall_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[])
