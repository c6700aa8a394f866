//! Reads of the waiting lists.

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

pub async fn waitlist_entry(
    client: &impl GenericClient,
    show_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<WaitlistEntryView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT e.entry_id, e.show_id, e.customer_id, e.count, e.category, e.status,
                CASE WHEN e.status = 'waiting' THEN 1 + (
                    SELECT count(*) FROM waitlist_entries w
                    WHERE w.show_id = e.show_id AND w.status = 'waiting'
                      AND w.joined_version < e.joined_version) END,
                e.joined_at, e.waits_until, e.hold_id, e.seats, e.total_minor, e.currency,
                e.offer_expires_at, e.version
             FROM waitlist_entries e WHERE e.entry_id = $1 AND e.show_id = $2",
            &[&entry_id, &show_id],
        )
        .await?;
    Ok(row.map(|row| {
        let hold_id: Option<Uuid> = row.get(9);
        let offer = hold_id.map(|hold_id| WaitlistOfferView {
            hold_id,
            seats: row.get::<_, Option<Vec<String>>>(10).unwrap_or_default(),
            total: MoneyView {
                amount_minor: row.get::<_, Option<i64>>(11).unwrap_or_default(),
                currency: row.get::<_, Option<String>>(12).unwrap_or_default(),
            },
            expires_at: row.get::<_, Option<DateTime<Utc>>>(13).unwrap_or_default(),
        });
        WaitlistEntryView {
            entry_id: row.get(0),
            show_id: row.get(1),
            customer_id: row.get(2),
            count: row.get(3),
            category: row.get(4),
            status: row.get(5),
            place: row.get(6),
            joined_at: row.get(7),
            waits_until: row.get(8),
            offer,
            version: row.get(14),
        }
    }))
}
