-- One verification as auditors see it. A running one whose lease has passed is reported as
-- the error it is ($2 says why) before anyone ends it.
SELECT verification_id, requested_by, started_at, finished_at, events_rebuilt, events_walked,
    result,
    CASE WHEN status = 'running' AND lease_until < now() THEN 'error' ELSE status END
        AS status,
    CASE WHEN status = 'running' AND lease_until < now() THEN $2 ELSE error END AS error
FROM audit_verifications
WHERE verification_id = $1
