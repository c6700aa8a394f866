-- The verification running now, if any.
SELECT verification_id FROM audit_verifications WHERE status = 'running'
