-- Ends, as an error ($1 says why), a running verification whose process stopped renewing its
-- lease: it died, and the next verification may start.
UPDATE audit_verifications SET status = 'error', error = $1, finished_at = now(),
    lease_until = NULL
WHERE status = 'running' AND lease_until < now()
