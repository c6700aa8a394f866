-- One rebuild at a time: a lock held by the rebuild's session for as long as it runs, and
-- let go by PostgreSQL when the session ends, however the rebuild ended.
SELECT pg_try_advisory_lock(hashtext('boxoffice projections rebuild')) AS mine
