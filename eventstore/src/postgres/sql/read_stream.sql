SELECT stream, version, xid, position, event_id, event_type, schema_version, data, metadata,
    recorded_at, hash
FROM events
WHERE stream = $1 AND version >= $2
ORDER BY version
LIMIT $3
