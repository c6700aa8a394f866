-- One scope's sales per hour or day of sale time (days in the time zone $4), with running
-- totals from its first sale, within the sale dates $5 to $6 (in $4) when given.
WITH b AS (
    SELECT CASE WHEN $3 = 'day' THEN date_trunc('day', to_timestamp(hour * 3600), $4)
                ELSE to_timestamp(hour * 3600) END AS bucket,
        currency,
        sum(tickets_sold)::bigint AS tickets_sold,
        sum(tickets_refunded)::bigint AS tickets_refunded,
        sum(tickets_net)::bigint AS tickets_net,
        sum(net_revenue_minor)::bigint AS net_revenue_minor
    FROM sales_timeline
    WHERE scope = $1 AND scope_id = $2
    GROUP BY 1, 2
), c AS (
    SELECT b.*,
        (sum(tickets_net) OVER w)::bigint AS cumulative_tickets_net,
        (sum(net_revenue_minor) OVER w)::bigint AS cumulative_net_revenue_minor
    FROM b
    WINDOW w AS (PARTITION BY currency ORDER BY bucket)
)
SELECT * FROM c
WHERE ($5::date IS NULL OR bucket >= ($5::date::timestamp AT TIME ZONE $4))
    AND ($6::date IS NULL OR bucket < (($6::date + 1)::timestamp AT TIME ZONE $4))
ORDER BY bucket, currency
