-- A running verification's lease renewed for $2 seconds, with how far it has come; no row
-- when it is no longer running (another process ended it as abandoned).
UPDATE audit_verifications SET lease_until = now() + make_interval(secs => $2),
    events_rebuilt = $3, events_walked = $4
WHERE verification_id = $1 AND status = 'running'
