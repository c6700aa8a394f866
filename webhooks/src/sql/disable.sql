-- Stops an endpoint: nothing more is made for it or sent to it.
UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, now())
WHERE webhook_id = $1
RETURNING webhook_id
