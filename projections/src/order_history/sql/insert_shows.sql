-- New shows: what an order's row shows of its show.
INSERT INTO order_history_shows (show_id, title, starts_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
