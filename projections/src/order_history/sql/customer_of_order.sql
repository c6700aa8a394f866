-- Whose order it is.
SELECT customer_id FROM order_history WHERE order_id = $1
