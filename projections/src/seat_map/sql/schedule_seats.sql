-- The batch's new shows' seats, in layout order, all available.
INSERT INTO seat_map_seats (show_id, seat_id, ordinal, row_label, number, category,
    price_minor, currency, grid_column, kind, status)
SELECT s.*, 'available'
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[],
    $7::bigint[], $8::text[], $9::int[], $10::text[]) AS s
