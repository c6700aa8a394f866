-- A new verification ($1, asked by $2), running under a lease of $3 seconds; no row when
-- another one is running (the unique index on running rows decides, across processes).
INSERT INTO audit_verifications (verification_id, status, requested_by, lease_until)
VALUES ($1, 'running', $2, now() + make_interval(secs => $3))
ON CONFLICT DO NOTHING
RETURNING verification_id
