-- A new endpoint; nothing when one with this id exists (a retried registration).
INSERT INTO webhook_endpoints (webhook_id, url, kinds, description, secret)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (webhook_id) DO NOTHING
RETURNING webhook_id
