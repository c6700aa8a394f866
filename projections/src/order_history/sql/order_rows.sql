-- Order rows as clients see them (the WHERE clause follows in the statements that use it:
-- `orders_of.sql`, `orders_by_hold.sql`). Each row's timeline folds the
-- steps kept in the row (held, paid, ended) and its timeline rows, newest first by log
-- position. The cinema's and hall's names are the catalogue's (as it is now).
SELECT o.hold_id, o.order_id, o.show_id, s.title AS show_title, s.starts_at, s.cinema_id,
    c.name AS cinema_name, s.hall_id, h.name AS hall_name, o.seats, o.ticket_types,
    o.refunded_seats, o.status, o.total_minor, o.discount_minor, o.promo_code,
    o.refunded_minor, o.fees_minor, o.currency, o.payment_reference, o.payment_id,
    o.payment_status, o.expires_at, o.created_at, o.updated_at,
    (SELECT jsonb_agg(jsonb_build_object('at', t.at, 'kind', t.kind, 'detail', t.detail)
            ORDER BY t.c DESC, t.p DESC)
        FROM (
            SELECT at, kind, detail, commit_position AS c, prepare_position AS p
            FROM order_history_timeline WHERE hold_id = o.hold_id
            UNION ALL
            SELECT o.created_at, 'held', o.held_detail, o.held_commit, o.held_prepare
            UNION ALL
            SELECT o.paid_at,
                CASE WHEN o.paid_after_expiry THEN 'paid_after_expiry' ELSE 'paid' END,
                jsonb_build_object('order_id', o.order_id, 'total_minor', o.paid_total_minor),
                o.paid_commit, o.paid_prepare
            WHERE o.paid_at IS NOT NULL
            UNION ALL
            SELECT o.ended_at, o.ended_as, '{}'::jsonb, o.ended_commit, o.ended_prepare
            WHERE o.ended_at IS NOT NULL) t) AS timeline
FROM order_history o
LEFT JOIN order_history_shows s ON s.show_id = o.show_id
LEFT JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id
LEFT JOIN catalogue_halls h ON h.hall_id = s.hall_id
