-- An entry with its place in the queue while waiting (1 for the next in line: the entries
-- still waiting that joined before it, by stream version, plus one) and its offer.
SELECT e.entry_id, e.show_id, e.customer_id, e.count, e.category, e.status,
    CASE WHEN e.status = 'waiting' THEN 1 + (
        SELECT count(*) FROM waitlist_entries w
        WHERE w.show_id = e.show_id AND w.status = 'waiting'
          AND w.joined_version < e.joined_version) END AS place,
    e.joined_at, e.waits_until, e.hold_id, e.seats, e.total_minor, e.currency,
    e.offer_expires_at, e.version
FROM waitlist_entries e WHERE e.entry_id = $1 AND e.show_id = $2
