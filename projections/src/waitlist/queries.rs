//! Reads of the waiting lists: an entry as its customer sees it, and the entries the expiry
//! scheduler closes. Other crates read the waiting lists' table through these functions only.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

/// A waiting-list entry as its customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistEntryView {
    pub entry_id: Uuid,
    pub show_id: Uuid,
    pub customer_id: String,
    pub count: i32,
    pub category: Option<String>,
    /// `waiting` or `offered` while open; else why it ended: `left`, `fulfilled`,
    /// `offer_expired`, `offer_declined`, `timed_out`, `cannot_be_met`.
    pub status: String,
    /// While waiting: 1 for the next in line.
    pub place: Option<i64>,
    pub joined_at: DateTime<Utc>,
    /// When it is closed if no offer has come.
    pub waits_until: DateTime<Utc>,
    /// The hold offered: pay for it before `expires_at`.
    pub offer: Option<WaitlistOfferView>,
    /// Bumped on every change; pass it back as `version` to long-poll for the next one.
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistOfferView {
    pub hold_id: Uuid,
    pub seats: Vec<String>,
    pub total: MoneyView,
    pub expires_at: DateTime<Utc>,
}

/// An entry that has waited as long as its show allows: the scheduler closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverdueEntry {
    pub show_id: Uuid,
    pub entry_id: Uuid,
}

const WAITLIST_ENTRY_SQL: &str = include_str!("sql/waitlist_entry.sql");
const OVERDUE_ENTRIES_SQL: &str = include_str!("sql/overdue_entries.sql");

pub async fn waitlist_entry(
    client: &impl GenericClient,
    show_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<WaitlistEntryView>, tokio_postgres::Error> {
    let row = client
        .query_opt(WAITLIST_ENTRY_SQL, &[&entry_id, &show_id])
        .await?;
    Ok(row.map(|row| {
        let hold_id: Option<Uuid> = row.get("hold_id");
        let offer = hold_id.map(|hold_id| WaitlistOfferView {
            hold_id,
            seats: row
                .get::<_, Option<Vec<String>>>("seats")
                .unwrap_or_default(),
            total: MoneyView {
                amount_minor: row.get::<_, Option<i64>>("total_minor").unwrap_or_default(),
                currency: row.get::<_, Option<String>>("currency").unwrap_or_default(),
            },
            expires_at: row
                .get::<_, Option<DateTime<Utc>>>("offer_expires_at")
                .unwrap_or_default(),
        });
        WaitlistEntryView {
            entry_id: row.get("entry_id"),
            show_id: row.get("show_id"),
            customer_id: row.get("customer_id"),
            count: row.get("count"),
            category: row.get("category"),
            status: row.get("status"),
            place: row.get("place"),
            joined_at: row.get("joined_at"),
            waits_until: row.get("waits_until"),
            offer,
            version: row.get("version"),
        }
    }))
}

/// Up to `limit` entries still waiting whose `waits_until` is at or before `now`, the
/// longest overdue first: the expiry scheduler's timetable.
pub async fn overdue_entries(
    client: &impl GenericClient,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OverdueEntry>, tokio_postgres::Error> {
    let rows = client.query(OVERDUE_ENTRIES_SQL, &[&now, &limit]).await?;
    Ok(rows
        .iter()
        .map(|row| OverdueEntry {
            show_id: row.get("show_id"),
            entry_id: row.get("entry_id"),
        })
        .collect())
}
