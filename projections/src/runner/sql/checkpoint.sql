-- Where a projector has got to.
SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1
