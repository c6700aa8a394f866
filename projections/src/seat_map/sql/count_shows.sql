-- Each show's counts moved by the batch's sums, its version and whether it was cancelled.
UPDATE seat_map_shows s SET available = s.available + d.available, held = s.held + d.held,
    sold = s.sold + d.sold, version = GREATEST(s.version, d.version),
    cancelled = s.cancelled OR d.cancelled
FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::bigint[], $6::bool[])
    AS d(show_id, available, held, sold, version, cancelled)
WHERE s.show_id = d.show_id
