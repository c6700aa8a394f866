SELECT stream, version, xid, position, event_id, event_type, schema_version, data, metadata,
    recorded_at, hash
FROM events
WHERE (xid, position) > ($1, $2)
    AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY xid, position
LIMIT $3
