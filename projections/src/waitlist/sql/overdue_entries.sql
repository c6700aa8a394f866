-- Entries still waiting whose time to wait has run out, the longest overdue first.
SELECT show_id, entry_id FROM waitlist_entries
WHERE status = 'waiting' AND waits_until <= $1
ORDER BY waits_until
LIMIT $2
