-- Active holds whose expiry plus their show's grace has passed, soonest expired first.
SELECT h.show_id, h.hold_id
FROM seat_map_holds h JOIN seat_map_shows s ON s.show_id = h.show_id
WHERE h.status = 'active'
  AND h.expires_at <= $1
  AND h.expires_at + make_interval(secs => s.expiry_grace_seconds) <= $1
ORDER BY h.expires_at
LIMIT $2
