-- Every checkpoint, by projector name.
SELECT name, commit_position, prepare_position, events_applied, updated_at
FROM projection_checkpoints ORDER BY name
