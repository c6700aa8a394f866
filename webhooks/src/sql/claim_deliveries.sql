-- Claims up to $2 deliveries for deliverer $1 until now + $3 seconds, in one short
-- statement. Only the oldest undelivered delivery of each endpoint and show can be claimed,
-- so a show's events reach an endpoint in their stream's order; a failing one holds back
-- the ones after it on its show only. A claim whose lease ran out (its deliverer died) is
-- claimed again. The outer condition re-checks the lease on the row itself, so two
-- deliverers never both claim one delivery.
UPDATE webhook_deliveries d
SET lease = $1, leased_until = now() + make_interval(secs => $3)
FROM (
    SELECT head.delivery_id, e.url, e.secret
    FROM (
        SELECT DISTINCT ON (webhook_id, show_id)
            delivery_id, webhook_id, next_attempt_at, leased_until
        FROM webhook_deliveries
        WHERE delivered_at IS NULL
        ORDER BY webhook_id, show_id, stream_version
    ) head
    JOIN webhook_endpoints e ON e.webhook_id = head.webhook_id AND e.disabled_at IS NULL
    WHERE head.next_attempt_at <= now()
        AND (head.leased_until IS NULL OR head.leased_until < now())
    ORDER BY head.next_attempt_at
    LIMIT $2
) due
WHERE d.delivery_id = due.delivery_id
    AND d.delivered_at IS NULL
    AND (d.leased_until IS NULL OR d.leased_until < now())
RETURNING d.delivery_id, due.url, due.secret, d.body, d.attempts
