-- A stream's last version and that event's hash (none for a stream never written).
SELECT s.version, e.hash
FROM streams s JOIN events e ON e.stream = s.stream AND e.version = s.version
WHERE s.stream = $1
