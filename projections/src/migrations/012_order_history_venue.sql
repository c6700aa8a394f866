-- An order's row names the cinema and hall of its show (a ticket client shows where to go).
-- The show's venue is in its scheduling event; the rows kept so far lack it, so the order
-- history is emptied and rebuilt from the log by its projector.
ALTER TABLE order_history_shows ADD COLUMN cinema_id uuid, ADD COLUMN hall_id uuid;
TRUNCATE order_history_shows, order_history, order_history_payments,
    order_history_settlements, order_history_timeline;
DELETE FROM projection_checkpoints WHERE name = 'order_history';
