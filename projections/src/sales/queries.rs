//! Reads of the sales facts for reports: per show, and totals per currency (summed here,
//! over the rows read, so that the totals always match the rows).

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

const SALES_BY_SHOW_SQL: &str = include_str!("sql/sales_by_show.sql");

/// Sales per show (by start time) and totals per currency.
pub async fn sales_by_show(
    client: &impl GenericClient,
    filter: &SalesFilter,
) -> Result<(Vec<SalesRow>, Vec<SalesTotal>), tokio_postgres::Error> {
    let rows = client
        .query(
            SALES_BY_SHOW_SQL,
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
        let currency: String = row.get("currency");
        let gross: i64 = row.get("gross_minor");
        let refunds: i64 = row.get("refunds_minor");
        let money = |amount_minor| MoneyView {
            amount_minor,
            currency: currency.clone(),
        };
        let show = SalesRow {
            show_id: row.get("show_id"),
            movie_id: row.get("movie_id"),
            title: row.get("title"),
            starts_at: row.get("starts_at"),
            orders: row.get("orders"),
            tickets_sold: row.get("tickets_sold"),
            tickets_refunded: row.get("tickets_refunded"),
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
