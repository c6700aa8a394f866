-- Records one attempt of delivery $1 by deliverer $2 and releases the claim: delivered when
-- $3, else due again in $6 seconds. Nothing happens if the lease was lost meanwhile (another
-- deliverer took it over and records its own attempt).
WITH attempted AS (
    UPDATE webhook_deliveries
    SET attempts = attempts + 1,
        delivered_at = CASE WHEN $3 THEN now() END,
        next_attempt_at = CASE WHEN $3 THEN next_attempt_at
                               ELSE now() + make_interval(secs => $6) END,
        last_status = $4,
        last_error = $5,
        lease = NULL,
        leased_until = NULL
    WHERE delivery_id = $1 AND lease = $2
    RETURNING delivery_id, attempts
)
INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status, error, duration_ms)
SELECT delivery_id, attempts, $7, $4, $5, $8 FROM attempted
