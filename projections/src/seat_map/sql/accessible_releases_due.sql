-- Shows still keeping accessible seats back whose release time has come, earliest first.
SELECT show_id
FROM seat_map_shows
WHERE accessible_kept AND accessible_release_at <= $1
ORDER BY accessible_release_at
LIMIT $2
