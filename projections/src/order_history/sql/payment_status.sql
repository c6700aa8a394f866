-- What the provider said of a payment, on the row of its hold if it is the payment shown.
UPDATE order_history o SET payment_status = $2,
    updated_at = greatest(o.updated_at, $3)
FROM order_history_payments p
WHERE p.payment_id = $1 AND o.hold_id = p.hold_id AND o.payment_id = $1
