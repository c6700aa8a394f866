-- The positions at which the named projectors' ETag-bearing answers last changed.
SELECT name, etag_commit, etag_prepare FROM projection_checkpoints
WHERE name = ANY($1) ORDER BY name
