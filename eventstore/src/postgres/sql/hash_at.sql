-- The hash of one event of a stream, which the next event chains to.
SELECT hash FROM events WHERE stream = $1 AND version = $2
