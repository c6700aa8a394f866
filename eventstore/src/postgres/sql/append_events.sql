appended AS (
    INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata)
    SELECT $1, head.base + e.ord, e.event_id, e.event_type, e.schema_version, e.data, e.metadata
    FROM head,
        unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
            WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)
    ORDER BY e.ord
    RETURNING version, xid, position
)
-- The notification is delivered at commit, waking subscribers; a failed append sends none.
SELECT max(version), max(xid), max(position)
FROM appended, (SELECT pg_notify('boxoffice_events', $1)) AS wake
