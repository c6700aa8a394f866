-- Back to the start of the log: the projector's tables were emptied for a rebuild.
UPDATE projection_checkpoints SET commit_position = 0, prepare_position = 0,
    events_applied = 0, updated_at = now()
WHERE name = $1
