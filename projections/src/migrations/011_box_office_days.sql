-- The facts' day rollup for the whole chain, per seat category and currency: a report's
-- totals with no city, cinema or movie named (and a national report by day or weekday) sum
-- a few rows a day here instead of one per city (projections/src/box_office/queries.rs).
-- Kept by the box-office projector beside the rollups per city and per movie; filled here
-- from the one per city, which counts every show once (shows without a city under the nil
-- city).
CREATE TABLE box_office_days (LIKE box_office_city_days INCLUDING DEFAULTS);
ALTER TABLE box_office_days DROP COLUMN city_id;
ALTER TABLE box_office_days ADD PRIMARY KEY (local_date, category, currency);
INSERT INTO box_office_days (local_date, weekday, category, currency, capacity, shows,
    shows_first, tickets_sold, tickets_refunded, tickets_exchanged_in, tickets_exchanged_out,
    gross_minor, discounts_minor, refunds_minor, fees_minor, exchanged_in_minor,
    exchanged_out_minor)
SELECT local_date, weekday, category, currency, sum(capacity), sum(shows), sum(shows_first),
    sum(tickets_sold), sum(tickets_refunded), sum(tickets_exchanged_in),
    sum(tickets_exchanged_out), sum(gross_minor), sum(discounts_minor), sum(refunds_minor),
    sum(fees_minor), sum(exchanged_in_minor), sum(exchanged_out_minor)
FROM box_office_city_days
GROUP BY local_date, weekday, category, currency;
