//! Reads of the order history: a customer's orders page by page or one at a time, one of
//! their payments, and whose an order is.
//! Other crates read the order history's tables through these functions only.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// Where the show plays (none for a show scheduled with an inline layout); the names
    /// as the catalogue has them now.
    pub cinema_id: Option<Uuid>,
    pub cinema_name: Option<String>,
    pub hall_id: Option<Uuid>,
    pub hall_name: Option<String>,
    /// The seats it holds or owns now.
    pub seats: Vec<String>,
    /// Those of its paid seats that are not adult tickets, with their type
    /// (`{"A2": "child"}`).
    pub ticket_types: BTreeMap<String, String>,
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

const ORDERS_OF_SQL: &str = concat!(
    include_str!("sql/order_rows.sql"),
    include_str!("sql/orders_of.sql")
);
const ORDERS_BY_HOLD_SQL: &str = concat!(
    include_str!("sql/order_rows.sql"),
    include_str!("sql/orders_by_hold.sql")
);
const ORDERS_MATCHING_SQL: &str = include_str!("sql/orders_matching.sql");
const CUSTOMER_OF_ORDER_SQL: &str = include_str!("sql/customer_of_order.sql");

/// A customer's orders, newest first, each with its timeline; `limit` per page.
pub async fn orders_of(
    client: &impl GenericClient,
    customer_id: &str,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<(Vec<OrderView>, Option<OrderCursor>), tokio_postgres::Error> {
    let (created_at, hold_id) =
        after.map_or((None, None), |c| (Some(c.created_at), Some(c.hold_id)));
    let none: Option<Uuid> = None;
    let rows = client
        .query(
            ORDERS_OF_SQL,
            &[
                &customer_id,
                &created_at,
                &hold_id,
                &(limit + 1),
                &none,
                &none,
            ],
        )
        .await?;
    Ok(page(&rows, limit))
}

/// A page of `limit` orders from `rows` (one more than the page when another follows), and
/// where the next page starts.
fn page(rows: &[tokio_postgres::Row], limit: i64) -> (Vec<OrderView>, Option<OrderCursor>) {
    let mut orders: Vec<OrderView> = rows.iter().map(order_view).collect();
    let next = if orders.len() as i64 > limit {
        orders.truncate(limit.max(0) as usize);
        orders.last().map(|o| OrderCursor {
            created_at: o.created_at,
            hold_id: o.hold_id,
        })
    } else {
        None
    };
    (orders, next)
}

/// What staff look orders up by (one or more, all of which must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderSearch {
    pub customer_id: Option<String>,
    pub show_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    /// Only these orders (a pickup code's, found in the tickets' read model).
    pub order_ids: Option<Vec<Uuid>>,
    /// Only of these cinemas' shows (staff of some cinemas).
    pub cinema_ids: Option<Vec<Uuid>>,
}

/// Anyone's purchases that match, newest first, each with its timeline; `limit` per page.
pub async fn orders_matching(
    client: &impl GenericClient,
    search: &OrderSearch,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<(Vec<OrderView>, Option<OrderCursor>), tokio_postgres::Error> {
    let (created_at, hold_id) =
        after.map_or((None, None), |c| (Some(c.created_at), Some(c.hold_id)));
    let holds: Vec<Uuid> = client
        .query(
            ORDERS_MATCHING_SQL,
            &[
                &search.customer_id,
                &search.show_id,
                &search.payment_id,
                &search.order_ids,
                &created_at,
                &hold_id,
                &(limit + 1),
                &search.cinema_ids,
            ],
        )
        .await?
        .iter()
        .map(|row| row.get("hold_id"))
        .collect();
    let rows = client.query(ORDERS_BY_HOLD_SQL, &[&holds]).await?;
    Ok(page(&rows, limit))
}

/// Which one of a customer's purchases to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKey {
    Hold(Uuid),
    Order(Uuid),
}

/// One of a customer's purchases, by its hold or its order; None when the customer has no
/// such one (someone else's is none too).
pub async fn order_of(
    client: &impl GenericClient,
    customer_id: &str,
    key: OrderKey,
) -> Result<Option<OrderView>, tokio_postgres::Error> {
    let (hold_id, order_id) = match key {
        OrderKey::Hold(id) => (Some(id), None),
        OrderKey::Order(id) => (None, Some(id)),
    };
    let no_cursor: (Option<DateTime<Utc>>, Option<Uuid>) = (None, None);
    let row = client
        .query_opt(
            ORDERS_OF_SQL,
            &[
                &customer_id,
                &no_cursor.0,
                &no_cursor.1,
                &1_i64,
                &hold_id,
                &order_id,
            ],
        )
        .await?;
    Ok(row.as_ref().map(order_view))
}

/// One provider payment of a customer's: what a client asks after the pay page sends the
/// customer back, to say whether the seats are theirs. Read from the purchase it was
/// started for (its steps are that purchase's timeline entries naming it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    pub payment_id: Uuid,
    /// The hold it was started for.
    pub hold_id: Uuid,
    /// The order the hold became, once paid (by this payment or another).
    pub order_id: Option<Uuid>,
    pub show_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(alipay|wechat_pay)$"))]
    pub method: String,
    /// What the provider was asked to take.
    pub amount: MoneyView,
    /// `pending` (the provider has not said), `succeeded` (paid, and the hold is an
    /// order), `failed` (the provider declined) or `refused` (paid, but the show could not
    /// sell the seats any more: the money goes back, see `refunded`).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(pending|succeeded|failed|refused)$")
    )]
    pub status: String,
    /// Paid back through this payment so far (refunds of the order, or a refused payment).
    pub refunded: MoneyView,
    /// Collected through it later (exchanges to dearer seats).
    pub charged: MoneyView,
    /// Its steps, newest first (as in the order's timeline).
    pub steps: Vec<TimelineEntry>,
}

impl PaymentView {
    /// `payment_id` as `order`'s timeline tells it; `None` if it never started there.
    fn of(order: &OrderView, payment_id: Uuid) -> Option<Self> {
        let id = payment_id.to_string();
        let steps: Vec<TimelineEntry> = order
            .timeline
            .iter()
            .filter(|step| step.detail["payment_id"].as_str() == Some(id.as_str()))
            .cloned()
            .collect();
        let started = steps.iter().find(|s| s.kind == "payment_started")?;
        let money = |amount_minor: i64| MoneyView {
            amount_minor,
            currency: order.total.currency.clone(),
        };
        let sum = |kind: &str| {
            steps
                .iter()
                .filter(|s| s.kind == kind)
                .filter_map(|s| s.detail["amount_minor"].as_i64())
                .sum::<i64>()
        };
        // The newest step that says how it stands (steps are newest first).
        let status = steps
            .iter()
            .find_map(|s| match s.kind.as_str() {
                "payment_started" => Some("pending"),
                "payment_succeeded" => Some("succeeded"),
                "payment_failed" => Some("failed"),
                "payment_refused" => Some("refused"),
                _ => None,
            })
            .unwrap_or("pending");
        Some(Self {
            payment_id,
            hold_id: order.hold_id,
            order_id: order.order_id,
            show_id: order.show_id,
            method: started.detail["method"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            amount: money(started.detail["amount_minor"].as_i64().unwrap_or_default()),
            status: status.to_owned(),
            refunded: money(sum("refund_paid_out")),
            charged: money(sum("charge_collected")),
            steps,
        })
    }
}

/// One of a customer's payments; None when the customer has no such one (someone else's is
/// none too).
pub async fn payment_of(
    client: &impl GenericClient,
    customer_id: &str,
    payment_id: Uuid,
) -> Result<Option<PaymentView>, tokio_postgres::Error> {
    let Some(row) = client
        .query_opt(
            "SELECT hold_id FROM order_history_payments WHERE payment_id = $1",
            &[&payment_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let order = order_of(client, customer_id, OrderKey::Hold(row.get(0))).await?;
    Ok(order.and_then(|order| PaymentView::of(&order, payment_id)))
}

fn order_view(row: &tokio_postgres::Row) -> OrderView {
    let currency: String = row.get("currency");
    let money = |column: &str| MoneyView {
        amount_minor: row.get(column),
        currency: currency.clone(),
    };
    OrderView {
        hold_id: row.get("hold_id"),
        order_id: row.get("order_id"),
        show_id: row.get("show_id"),
        show_title: row.get("show_title"),
        starts_at: row.get("starts_at"),
        cinema_id: row.get("cinema_id"),
        cinema_name: row.get("cinema_name"),
        hall_id: row.get("hall_id"),
        hall_name: row.get("hall_name"),
        seats: row.get("seats"),
        ticket_types: serde_json::from_value(row.get("ticket_types")).unwrap_or_default(),
        refunded_seats: row.get("refunded_seats"),
        status: row.get("status"),
        total: money("total_minor"),
        discount: money("discount_minor"),
        promo_code: row.get("promo_code"),
        refunded: money("refunded_minor"),
        fees: money("fees_minor"),
        payment_reference: row.get("payment_reference"),
        payment_id: row.get("payment_id"),
        payment_status: row.get("payment_status"),
        expires_at: row.get("expires_at"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        timeline: timeline_of(row.get("timeline")),
    }
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

/// The customer who owns the order; None for an order the history does not know.
pub async fn customer_of_order(
    client: &impl GenericClient,
    order_id: Uuid,
) -> Result<Option<String>, tokio_postgres::Error> {
    let row = client
        .query_opt(CUSTOMER_OF_ORDER_SQL, &[&order_id])
        .await?;
    Ok(row.map(|row| row.get("customer_id")))
}
