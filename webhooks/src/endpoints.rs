//! Registering, listing and disabling endpoints, and reading their deliveries: what the
//! HTTP API's webhook routes answer.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

const REGISTER_SQL: &str = include_str!("sql/register.sql");
const ENDPOINTS_SQL: &str = include_str!("sql/endpoints.sql");
const DISABLE_SQL: &str = include_str!("sql/disable.sql");
const DELIVERIES_SQL: &str = include_str!("sql/deliveries.sql");

/// An endpoint, without its secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub webhook_id: Uuid,
    pub url: String,
    /// The kinds of events it is sent.
    pub kinds: Vec<String>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    /// When it was disabled; nothing is sent to it after that.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries it acknowledged with a 2xx answer.
    pub delivered: i64,
    /// Deliveries not acknowledged yet.
    pub waiting: i64,
    /// Of those waiting, the ones already tried and failed.
    pub failing: i64,
}

impl WebhookView {
    fn from_row(row: &Row) -> Self {
        Self {
            webhook_id: row.get("webhook_id"),
            url: row.get("url"),
            kinds: row.get("kinds"),
            description: row.get("description"),
            created_at: row.get("created_at"),
            disabled_at: row.get("disabled_at"),
            delivered: row.get("delivered"),
            waiting: row.get("waiting"),
            failing: row.get("failing"),
        }
    }
}

/// One event sent (or to send) to one endpoint.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// Sent as `webhook-id` on every attempt: the receiver deduplicates by it.
    pub delivery_id: Uuid,
    /// The event of the log it carries.
    pub event_id: Uuid,
    pub kind: String,
    pub show_id: Uuid,
    /// The event's version in its show's stream: a show's deliveries go in this order.
    pub stream_version: i64,
    pub created_at: DateTime<Utc>,
    /// `delivered` or `waiting`.
    pub status: &'static str,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When a waiting delivery is next tried (it may wait behind an earlier one of its
    /// show).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; absent when none came (refused, reset, timed out).
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

impl DeliveryView {
    fn from_row(row: &Row) -> Result<Self, serde_json::Error> {
        let delivered_at: Option<DateTime<Utc>> = row.get("delivered_at");
        Ok(Self {
            delivery_id: row.get("delivery_id"),
            event_id: row.get("event_id"),
            kind: row.get("kind"),
            show_id: row.get("show_id"),
            stream_version: row.get("stream_version"),
            created_at: row.get("created_at"),
            status: if delivered_at.is_some() {
                "delivered"
            } else {
                "waiting"
            },
            next_attempt_at: delivered_at.is_none().then(|| row.get("next_attempt_at")),
            delivered_at,
            last_status: row.get("last_status"),
            last_error: row.get("last_error"),
            attempts: serde_json::from_value(row.get("attempts"))?,
        })
    }
}

/// A new endpoint (`kinds` already checked against [`crate::kinds::ALL`]); `None` when
/// `webhook_id` is taken (the request was made before).
pub async fn register(
    client: &impl GenericClient,
    webhook_id: Uuid,
    url: &str,
    kinds: &[String],
    description: &str,
    secret: &str,
) -> Result<Option<WebhookView>, tokio_postgres::Error> {
    let made = client
        .query_opt(
            REGISTER_SQL,
            &[&webhook_id, &url, &kinds, &description, &secret],
        )
        .await?;
    match made {
        Some(_) => find(client, webhook_id).await,
        None => Ok(None),
    }
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<WebhookView>, tokio_postgres::Error> {
    let none: Option<Uuid> = None;
    let rows = client.query(ENDPOINTS_SQL, &[&none]).await?;
    Ok(rows.iter().map(WebhookView::from_row).collect())
}

pub async fn find(
    client: &impl GenericClient,
    webhook_id: Uuid,
) -> Result<Option<WebhookView>, tokio_postgres::Error> {
    let row = client
        .query_opt(ENDPOINTS_SQL, &[&Some(webhook_id)])
        .await?;
    Ok(row.as_ref().map(WebhookView::from_row))
}

/// Disables an endpoint (again: no change); `None` when there is none.
pub async fn disable(
    client: &impl GenericClient,
    webhook_id: Uuid,
) -> Result<Option<WebhookView>, tokio_postgres::Error> {
    match client.query_opt(DISABLE_SQL, &[&webhook_id]).await? {
        Some(_) => find(client, webhook_id).await,
        None => Ok(None),
    }
}

/// Which of an endpoint's deliveries to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Waiting,
    Delivered,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Delivered => "delivered",
        }
    }
}

/// An endpoint's deliveries, newest first: `limit` of them, after the delivery `after`.
pub async fn deliveries(
    client: &impl GenericClient,
    webhook_id: Uuid,
    limit: i64,
    after: Option<Uuid>,
    status: Option<DeliveryStatus>,
) -> Result<Vec<DeliveryView>, DeliveriesError> {
    let status = status.map(DeliveryStatus::as_str);
    let rows = client
        .query(DELIVERIES_SQL, &[&webhook_id, &limit, &after, &status])
        .await?;
    Ok(rows
        .iter()
        .map(DeliveryView::from_row)
        .collect::<Result<_, _>>()?)
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveriesError {
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
    #[error("a delivery's attempts cannot be read: {0}")]
    Attempts(#[from] serde_json::Error),
}
