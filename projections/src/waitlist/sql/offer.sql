-- Seats were held for the entry: the offer to pay for.
UPDATE waitlist_entries SET status = 'offered', hold_id = $2, seats = $3, total_minor = $4,
    currency = $5, offer_expires_at = $6, updated_at = $7, version = version + 1
WHERE entry_id = $1
