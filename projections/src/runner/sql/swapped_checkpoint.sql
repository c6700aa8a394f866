-- A rebuilt read model was swapped in, having folded $4 events up to $2, $3: the checkpoint
-- moves there (never back: the swap applied whatever the live one had applied first), and
-- so does the position at which its ETag-bearing answers last changed, since the rebuilt
-- model may answer differently.
UPDATE projection_checkpoints SET commit_position = $2, prepare_position = $3,
    events_applied = $4, etag_commit = $2, etag_prepare = $3, updated_at = now()
WHERE name = $1
