-- Shows that let their kept accessible seats go: when and why.
UPDATE seat_map_shows s SET accessible_kept = false, accessible_released_reason = d.reason,
    accessible_released_at = d.released_at
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS d(show_id, reason, released_at)
WHERE s.show_id = d.show_id
