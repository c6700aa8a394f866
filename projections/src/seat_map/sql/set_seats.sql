-- The seats' last statuses in the batch (a seat that changes hands is no longer let in),
-- and each category's count of available seats by
-- the difference between the seats' statuses before (read in the same snapshot) and after.
-- Answers whether any category's availability band moved.
WITH d AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[])
        AS d(show_id, seat_id, status, hold_id, order_id)
), before AS (
    SELECT s.show_id, s.seat_id, s.category, s.status
    FROM seat_map_seats s JOIN d USING (show_id, seat_id)
), changed AS (
    UPDATE seat_map_seats s SET status = d.status, hold_id = d.hold_id, order_id = d.order_id,
        checked_in = false
    FROM d WHERE s.show_id = d.show_id AND s.seat_id = d.seat_id
    RETURNING s.show_id, s.seat_id, s.status
), delta AS (
    SELECT b.show_id, b.category,
        sum((c.status = 'available')::int - (b.status = 'available')::int) AS available
    FROM before b JOIN changed c USING (show_id, seat_id)
    GROUP BY b.show_id, b.category
), counted AS (
    UPDATE seat_map_categories k SET available = k.available + delta.available
    FROM delta
    WHERE k.show_id = delta.show_id AND k.category = delta.category AND delta.available <> 0
    RETURNING availability_band((k.available - delta.available)::int, k.capacity)
        <> availability_band(k.available, k.capacity) AS band_moved
)
SELECT coalesce(bool_or(band_moved), false) AS band_moved FROM counted
