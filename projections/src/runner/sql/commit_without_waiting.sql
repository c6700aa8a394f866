-- Read models are derived from the log and move with their checkpoint in one transaction:
-- a crash that loses the commit loses both, and the batch is applied again. So the commit
-- need not wait to reach disk (the log's appends do wait).
SET LOCAL synchronous_commit = off
