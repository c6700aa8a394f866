//! Reads of the sales facts.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesRow {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub orders: i32,
    pub tickets_sold: i32,
    pub tickets_refunded: i32,
    pub gross: MoneyView,
    pub refunds: MoneyView,
    pub net: MoneyView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesTotal {
    pub currency: String,
    pub shows: i64,
    pub orders: i64,
    pub tickets_sold: i64,
    pub tickets_refunded: i64,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub net_minor: i64,
}

#[derive(Debug, Clone, Default)]
pub struct SalesFilter {
    pub show_id: Option<Uuid>,
    pub movie_id: Option<Uuid>,
    pub starts_from: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

/// Sales per show (by start time) and totals per currency.
pub async fn sales_by_show(
    client: &impl GenericClient,
    filter: &SalesFilter,
) -> Result<(Vec<SalesRow>, Vec<SalesTotal>), tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT show_id, movie_id, title, starts_at, currency, orders, tickets_sold,
                tickets_refunded, gross_minor, refunds_minor
             FROM sales_by_show
             WHERE ($1::uuid IS NULL OR show_id = $1)
                AND ($2::uuid IS NULL OR movie_id = $2)
                AND ($3::timestamptz IS NULL OR starts_at >= $3)
                AND ($4::timestamptz IS NULL OR starts_at < $4)
             ORDER BY starts_at, show_id
             LIMIT 10000",
            &[
                &filter.show_id,
                &filter.movie_id,
                &filter.starts_from,
                &filter.starts_before,
            ],
        )
        .await?;
    let mut shows = Vec::with_capacity(rows.len());
    let mut totals: Vec<SalesTotal> = Vec::new();
    for row in rows {
        let currency: String = row.get(4);
        let gross: i64 = row.get(8);
        let refunds: i64 = row.get(9);
        let money = |amount_minor| MoneyView {
            amount_minor,
            currency: currency.clone(),
        };
        let show = SalesRow {
            show_id: row.get(0),
            movie_id: row.get(1),
            title: row.get(2),
            starts_at: row.get(3),
            orders: row.get(5),
            tickets_sold: row.get(6),
            tickets_refunded: row.get(7),
            gross: money(gross),
            refunds: money(refunds),
            net: money(gross - refunds),
        };
        let index = match totals.iter().position(|t| t.currency == currency) {
            Some(index) => index,
            None => {
                totals.push(SalesTotal {
                    currency: currency.clone(),
                    shows: 0,
                    orders: 0,
                    tickets_sold: 0,
                    tickets_refunded: 0,
                    gross_minor: 0,
                    refunds_minor: 0,
                    net_minor: 0,
                });
                totals.len() - 1
            }
        };
        let total = &mut totals[index];
        total.shows += 1;
        total.orders += i64::from(show.orders);
        total.tickets_sold += i64::from(show.tickets_sold);
        total.tickets_refunded += i64::from(show.tickets_refunded);
        total.gross_minor += gross;
        total.refunds_minor += refunds;
        total.net_minor += gross - refunds;
        shows.push(show);
    }
    Ok((shows, totals))
}
