//! Reading the actions: a page in log order, filtered by actor, command, stream and time.

use boxoffice_eventstore::Position;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

const ACTIONS_SQL: &str = include_str!("sql/actions.sql");

/// One command or system step, as auditors see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionView {
    pub stream: String,
    /// A customer id, `staff`'s subject, `partner:{key}`, or `system:{component}`.
    pub actor: Option<String>,
    /// Such as `HoldSeats`, `RefundOrder`, `CancelShow`, `SetRoles` (absent on events
    /// written before commands were named in the metadata).
    pub command: Option<String>,
    pub idempotency_key: Option<String>,
    /// The request it belongs to.
    pub correlation_id: Option<String>,
    /// The command or event that caused it.
    pub causation_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// Where its first event is in the log.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub position: Position,
    pub first_version: i64,
    pub last_version: i64,
    /// The events it appended, by type, in order.
    pub outcome: Vec<String>,
}

/// Which actions to read.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub actor: Option<String>,
    pub command: Option<String>,
    pub stream: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// After this position in the log (the previous page's last).
    pub after: Option<Position>,
}

/// Up to `limit` actions in log order.
pub async fn actions(
    client: &impl GenericClient,
    filter: &ActionFilter,
    limit: i64,
) -> Result<Vec<ActionView>, tokio_postgres::Error> {
    let (commit, prepare) = filter
        .after
        .and_then(Position::to_checkpoint)
        .unwrap_or((-1, -1));
    let rows = client
        .query(
            ACTIONS_SQL,
            &[
                &commit,
                &prepare,
                &filter.actor,
                &filter.command,
                &filter.stream,
                &filter.from,
                &filter.to,
                &limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ActionView {
            stream: row.get("stream"),
            actor: row.get("actor"),
            command: row.get("command"),
            idempotency_key: row.get("idempotency_key"),
            correlation_id: row.get("correlation_id"),
            causation_id: row.get("causation_id"),
            recorded_at: row.get("recorded_at"),
            position: Position::from_checkpoint(
                row.get("commit_position"),
                row.get("prepare_position"),
            ),
            first_version: row.get("first_version"),
            last_version: row.get("last_version"),
            outcome: row.get("outcome"),
        })
        .collect())
}
