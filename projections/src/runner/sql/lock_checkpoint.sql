-- Where a projector has got to, locked until the transaction ends: whoever holds the lock
-- is the only one applying a batch of this projector.
SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1
FOR UPDATE
