-- Transfers a batch undoes.
SELECT t.show_id, t.exchange_id, t.seat_ids, t.seat_categories, t.paid_minor
FROM report_transfers t JOIN unnest($1::uuid[], $2::uuid[]) AS k(show_id, exchange_id)
    ON t.show_id = k.show_id AND t.exchange_id = k.exchange_id
