-- Moves a checkpoint past a batch ($2, $3; $4 events), only if it is still where the runner
-- left it ($5, $6): no row changes if another process or a rebuild moved it meanwhile.
UPDATE projection_checkpoints SET commit_position = $2, prepare_position = $3,
    events_applied = events_applied + $4, updated_at = now()
WHERE name = $1 AND commit_position = $5 AND prepare_position = $6
