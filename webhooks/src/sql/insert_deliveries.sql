-- One delivery per event and active endpoint that asked for its kind and was registered
-- before the event was recorded. $1..$6 are parallel arrays, one element per event.
INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, kind, show_id, stream_version, body)
SELECT gen_random_uuid(), e.webhook_id, x.event_id, x.kind, x.show_id, x.stream_version, x.body
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::timestamptz[])
    AS x(event_id, kind, show_id, stream_version, body, recorded_at)
JOIN webhook_endpoints e
    ON e.disabled_at IS NULL AND x.kind = ANY (e.kinds) AND e.created_at <= x.recorded_at
ON CONFLICT (webhook_id, event_id) DO NOTHING
