-- The position of the batch that last changed what a projector's ETag-bearing queries answer.
UPDATE projection_checkpoints SET etag_commit = $2, etag_prepare = $3 WHERE name = $1
