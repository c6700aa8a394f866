-- Sales per hour moved by the batch's sums, per show and rolled up per movie, cinema and
-- city (one row per scope, id, hour and currency).
INSERT INTO sales_timeline AS t (scope, scope_id, hour, currency, tickets_sold,
    tickets_refunded, tickets_net, net_revenue_minor)
SELECT scope, scope_id, hour, currency, sum(tickets_sold), sum(tickets_refunded),
    sum(tickets_net), sum(net_revenue_minor)
FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::text[], $5::int[], $6::int[],
    $7::int[], $8::bigint[])
    AS d(scope, scope_id, hour, currency, tickets_sold, tickets_refunded, tickets_net,
        net_revenue_minor)
GROUP BY scope, scope_id, hour, currency
ON CONFLICT (scope, scope_id, hour, currency) DO UPDATE SET
    tickets_sold = t.tickets_sold + excluded.tickets_sold,
    tickets_refunded = t.tickets_refunded + excluded.tickets_refunded,
    tickets_net = t.tickets_net + excluded.tickets_net,
    net_revenue_minor = t.net_revenue_minor + excluded.net_revenue_minor
