-- The orders a pickup code was given to (one per cinema and day; a code comes back on other
-- days and at other cinemas).
SELECT order_id FROM ticket_orders WHERE pickup_code = $1
