//! Reads of the sales facts for reports: a page of shows, and totals per currency over every
//! show the filter matches (never over a cut page).

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
const SALES_TOTALS_SQL: &str = include_str!("sql/sales_totals.sql");

/// A page of sales per show, the totals over every matching show, and where the next page
/// starts (the last show's start and id), if there is one.
#[derive(Debug, Clone)]
pub struct SalesPage {
    pub shows: Vec<SalesRow>,
    pub totals: Vec<SalesTotal>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

/// Up to `page_size` shows by start time after `after`, and totals per currency over every
/// show the filter matches.
pub async fn sales_by_show(
    client: &impl GenericClient,
    filter: &SalesFilter,
    page_size: i64,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> Result<SalesPage, tokio_postgres::Error> {
    let (after_at, after_id) = (after.map(|a| a.0), after.map(|a| a.1));
    let rows = client
        .query(
            SALES_BY_SHOW_SQL,
            &[
                &filter.show_id,
                &filter.movie_id,
                &filter.starts_from,
                &filter.starts_before,
                &after_id,
                &after_at,
                &(page_size + 1),
            ],
        )
        .await?;
    let mut shows = Vec::with_capacity(rows.len());
    let mut next = None;
    for row in rows {
        if shows.len() as i64 == page_size {
            next = shows.last().map(|s: &SalesRow| (s.starts_at, s.show_id));
            break;
        }
        let currency: String = row.get("currency");
        let gross: i64 = row.get("gross_minor");
        let refunds: i64 = row.get("refunds_minor");
        let money = |amount_minor| MoneyView {
            amount_minor,
            currency: currency.clone(),
        };
        shows.push(SalesRow {
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
        });
    }
    let totals = client
        .query(
            SALES_TOTALS_SQL,
            &[
                &filter.show_id,
                &filter.movie_id,
                &filter.starts_from,
                &filter.starts_before,
            ],
        )
        .await?
        .iter()
        .map(|row| {
            let gross: i64 = row.get("gross_minor");
            let refunds: i64 = row.get("refunds_minor");
            SalesTotal {
                currency: row.get("currency"),
                shows: row.get("shows"),
                orders: row.get("orders"),
                tickets_sold: row.get("tickets_sold"),
                tickets_refunded: row.get("tickets_refunded"),
                gross_minor: gross,
                refunds_minor: refunds,
                net_minor: gross - refunds,
            }
        })
        .collect();
    Ok(SalesPage {
        shows,
        totals,
        next,
    })
}
