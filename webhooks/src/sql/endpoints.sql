-- Endpoints ($1: one, or every one when NULL), each with how its deliveries stand.
SELECT e.webhook_id, e.url, e.kinds, e.description, e.created_at, e.disabled_at,
    coalesce(c.delivered, 0) AS delivered,
    coalesce(c.waiting, 0) AS waiting,
    coalesce(c.failing, 0) AS failing
FROM webhook_endpoints e
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
        count(*) FILTER (WHERE delivered_at IS NULL) AS waiting,
        count(*) FILTER (WHERE delivered_at IS NULL AND attempts > 0) AS failing
    FROM webhook_deliveries d
    WHERE d.webhook_id = e.webhook_id
) c ON true
WHERE $1::uuid IS NULL OR e.webhook_id = $1
ORDER BY e.created_at, e.webhook_id
