-- A customer joined the queue (version 1 of the entry).
INSERT INTO waitlist_entries (entry_id, show_id, customer_id, count, category, status,
    joined_version, joined_at, waits_until, updated_at, version)
VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $7, $8, $7, 1)
