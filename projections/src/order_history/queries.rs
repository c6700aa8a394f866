//! Reads of the order history.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

/// One purchase of a customer: a hold, and the order it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub hold_id: Uuid,
    /// Set once paid.
    pub order_id: Option<Uuid>,
    pub show_id: Uuid,
    pub show_title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    /// The seats it holds or owns now.
    pub seats: Vec<String>,
    pub refunded_seats: Vec<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(held|released|expired|paid|partially_refunded|refunded|exchanged)$")
    )]
    pub status: String,
    /// What it costs: list prices less the discount, plus what exchanges charged.
    pub total: MoneyView,
    pub discount: MoneyView,
    pub promo_code: Option<String>,
    /// Paid back so far (after fees).
    pub refunded: MoneyView,
    /// Kept as refund fees.
    pub fees: MoneyView,
    pub payment_reference: Option<String>,
    pub payment_id: Option<Uuid>,
    /// The last provider payment's status: `pending`, `succeeded` or `failed`.
    pub payment_status: Option<String>,
    /// Until when the hold may be paid.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What happened, newest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `held`, `payment_started`, `payment_succeeded`, `payment_failed`, `paid`,
    /// `paid_after_expiry`, `payment_refused`, `released`, `expired`, `refunded`,
    /// `refund_paid_out`, `exchanged`, `charge_collected`, `payment_notification_ignored`.
    pub kind: String,
    /// The facts of the step (amounts in minor units of the order's currency).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// Where the next page of a customer's orders starts: after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: DateTime<Utc>,
    pub hold_id: Uuid,
}

impl OrderCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}_{}",
            self.created_at.timestamp_micros(),
            self.hold_id.simple()
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('_')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            hold_id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// A customer's orders, newest first, each with its timeline; `limit` per page.
pub async fn orders_of(
    client: &impl GenericClient,
    customer_id: &str,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<(Vec<OrderView>, Option<OrderCursor>), tokio_postgres::Error> {
    let (created_at, hold_id) =
        after.map_or((None, None), |c| (Some(c.created_at), Some(c.hold_id)));
    let rows = client
        .query(
            "SELECT o.hold_id, o.order_id, o.show_id, s.title, s.starts_at, o.seats,
                o.refunded_seats, o.status, o.total_minor, o.discount_minor, o.promo_code,
                o.refunded_minor, o.fees_minor, o.currency, o.payment_reference, o.payment_id,
                o.payment_status, o.expires_at, o.created_at, o.updated_at,
                (SELECT jsonb_agg(jsonb_build_object('at', t.at, 'kind', t.kind,
                        'detail', t.detail) ORDER BY t.c DESC, t.p DESC)
                    FROM (
                        SELECT at, kind, detail, commit_position AS c, prepare_position AS p
                        FROM order_history_timeline WHERE hold_id = o.hold_id
                        UNION ALL
                        SELECT o.created_at, 'held', o.held_detail, o.held_commit,
                            o.held_prepare
                        UNION ALL
                        SELECT o.paid_at,
                            CASE WHEN o.paid_after_expiry THEN 'paid_after_expiry'
                                ELSE 'paid' END,
                            jsonb_build_object('order_id', o.order_id,
                                'total_minor', o.paid_total_minor),
                            o.paid_commit, o.paid_prepare
                        WHERE o.paid_at IS NOT NULL
                        UNION ALL
                        SELECT o.ended_at, o.ended_as, '{}'::jsonb, o.ended_commit,
                            o.ended_prepare
                        WHERE o.ended_at IS NOT NULL) t)
             FROM order_history o
             LEFT JOIN order_history_shows s ON s.show_id = o.show_id
             WHERE o.customer_id = $1
                AND ($2::timestamptz IS NULL OR (o.created_at, o.hold_id) < ($2, $3::uuid))
             ORDER BY o.created_at DESC, o.hold_id DESC
             LIMIT $4",
            &[&customer_id, &created_at, &hold_id, &(limit + 1)],
        )
        .await?;
    let mut orders: Vec<OrderView> = rows
        .iter()
        .map(|row| {
            let currency: String = row.get(13);
            let money = |minor: i64| MoneyView {
                amount_minor: minor,
                currency: currency.clone(),
            };
            let timeline: serde_json::Value = row.get(20);
            OrderView {
                hold_id: row.get(0),
                order_id: row.get(1),
                show_id: row.get(2),
                show_title: row.get(3),
                starts_at: row.get(4),
                seats: row.get(5),
                refunded_seats: row.get(6),
                status: row.get(7),
                total: money(row.get(8)),
                discount: money(row.get(9)),
                promo_code: row.get(10),
                refunded: money(row.get(11)),
                fees: money(row.get(12)),
                payment_reference: row.get(14),
                payment_id: row.get(15),
                payment_status: row.get(16),
                expires_at: row.get(17),
                created_at: row.get(18),
                updated_at: row.get(19),
                timeline: timeline_of(timeline),
            }
        })
        .collect();
    let next = if orders.len() as i64 > limit {
        orders.truncate(limit.max(0) as usize);
        orders.last().map(|o| OrderCursor {
            created_at: o.created_at,
            hold_id: o.hold_id,
        })
    } else {
        None
    };
    Ok((orders, next))
}

fn timeline_of(value: serde_json::Value) -> Vec<TimelineEntry> {
    let serde_json::Value::Array(entries) = value else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|mut entry| {
            let at = entry.get("at")?.as_str()?.parse().ok()?;
            let kind = entry.get("kind")?.as_str()?.to_owned();
            Some(TimelineEntry {
                at,
                kind,
                detail: entry.get_mut("detail").map(serde_json::Value::take)?,
            })
        })
        .collect()
}
