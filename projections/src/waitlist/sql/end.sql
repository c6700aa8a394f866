-- The entry ended (left, fulfilled, expired, declined, timed out or impossible).
UPDATE waitlist_entries SET status = $2, updated_at = $3, version = version + 1
WHERE entry_id = $1
