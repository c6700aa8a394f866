-- The shows of payments that failed in a batch.
SELECT payment_id, show_id FROM report_payments WHERE payment_id = ANY($1)
