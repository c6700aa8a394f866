-- A task carried out: gone, unless another worker has claimed it since (its lease ran out);
-- that worker's run is then the one that counts (every task is idempotent).
DELETE FROM process_tasks WHERE task_id = $1 AND claim = $2
