appended AS (
    INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata,
        recorded_at, hash)
    SELECT $1, head.base + e.ord, e.event_id, e.event_type, e.schema_version, e.data, e.metadata,
        e.recorded_at, e.hash
    FROM head,
        unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
            $8::timestamptz[], $9::bytea[])
            WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata,
                recorded_at, hash, ord)
    ORDER BY e.ord
    RETURNING version, xid, position
)
-- The notification is delivered at commit, waking subscribers; a failed append sends none.
SELECT max(version), max(xid), max(position)
FROM appended, (SELECT pg_notify('boxoffice_events', $1)) AS wake
