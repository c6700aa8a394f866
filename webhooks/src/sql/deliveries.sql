-- An endpoint's deliveries, newest first: $2 how many, $3 only those after the delivery
-- with this id in that order (the previous page's last), $4 'waiting', 'delivered' or NULL
-- for both. Each with its attempts, oldest first.
SELECT d.delivery_id, d.event_id, d.kind, d.show_id, d.stream_version, d.created_at,
    d.delivered_at, d.next_attempt_at, d.last_status, d.last_error,
    coalesce((
        SELECT jsonb_agg(jsonb_build_object(
            'attempt', a.attempt, 'attempted_at', a.attempted_at, 'status', a.status,
            'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.attempt)
        FROM webhook_attempts a WHERE a.delivery_id = d.delivery_id
    ), '[]'::jsonb) AS attempts
FROM webhook_deliveries d
WHERE d.webhook_id = $1
    AND ($3::uuid IS NULL OR (d.created_at, d.delivery_id) < (
        SELECT created_at, delivery_id FROM webhook_deliveries
        WHERE delivery_id = $3 AND webhook_id = $1))
    AND ($4::text IS NULL
        OR ($4 = 'delivered' AND d.delivered_at IS NOT NULL)
        OR ($4 = 'waiting' AND d.delivered_at IS NULL))
ORDER BY d.created_at DESC, d.delivery_id DESC
LIMIT $2
