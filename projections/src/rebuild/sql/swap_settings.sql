-- The swap's own settings. Locking a live table waits for the queries reading it to end,
-- and queries that arrive meanwhile wait behind the lock: so it waits at most a second
-- before giving up (to try again later) rather than stall every reader behind one long
-- one. And its commit waits for disk, as any change of what serves should.
SET LOCAL lock_timeout = '1s';
SET LOCAL synchronous_commit = on
