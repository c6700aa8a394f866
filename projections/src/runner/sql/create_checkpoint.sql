-- A projector's checkpoint at the start of the log, unless it has one.
INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING
