-- Holds that ended (released, expired or confirmed), with when.
UPDATE seat_map_holds h SET status = d.status, ended_at = d.ended_at
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS d(hold_id, status, ended_at)
WHERE h.hold_id = d.hold_id
