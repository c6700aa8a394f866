-- A verification's end: its status, result or error, and how far it came (never less than
-- a renewal said); only while it is still the running one.
UPDATE audit_verifications SET status = $2, result = $3, error = $4, finished_at = now(),
    lease_until = NULL, events_rebuilt = greatest(events_rebuilt, $5),
    events_walked = greatest(events_walked, $6)
WHERE verification_id = $1 AND status = 'running'
