SELECT xid, position
FROM events
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY xid DESC, position DESC
LIMIT 1
