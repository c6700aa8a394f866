//! Who did what: every command that changed the log, with its actor, time, command, stream,
//! idempotency key and the events it appended, read from the actions read model (which is
//! made from the events' metadata and verified against the log like any other).

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_eventstore::Position;
use boxoffice_projections::actions::{self, ActionFilter, ActionView};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionParams {
    /// Only this actor's (a customer id, a staff subject, `partner:{key}`, `system:{...}`).
    actor: Option<String>,
    /// Only this command (`RefundOrder`, `ConfirmPayment`, `CancelShow`, `SetRoles`, ...).
    command: Option<String>,
    /// Only this stream's.
    stream: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    from: Option<DateTime<FixedOffset>>,
    /// Recorded before this instant.
    to: Option<DateTime<FixedOffset>>,
    /// After this position (the previous page's `next`).
    #[param(value_type = Option<String>, pattern = "^[0-9]+-[0-9]+$")]
    after: Option<Position>,
    /// Wait (up to 5 s) until the actions read model has reached this position.
    #[param(value_type = Option<String>, pattern = "^[0-9]+-[0-9]+$")]
    min_position: Option<Position>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionPage {
    actions: Vec<ActionView>,
    /// The `after` of the next page, or null at the end.
    #[schema(value_type = Option<String>)]
    next: Option<Position>,
}

/// Every command and system step that changed the log, in log order (auditor).
#[utoipa::path(get, path = "/v1/audit/actions", tag = "audit", security(("bearer" = [])),
    params(ActionParams),
    responses((status = 200, description = "A page of actions.", body = ActionPage)))]
pub async fn actions(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<ActionParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = super::super::page_limit(params.limit, 100, 1000)?;
    super::super::read_position(&state, "actions", params.min_position).await?;
    let filter = ActionFilter {
        actor: params.actor,
        command: params.command,
        stream: params.stream,
        from: params.from.map(|t| t.with_timezone(&Utc)),
        to: params.to.map(|t| t.with_timezone(&Utc)),
        after: params.after,
    };
    let client = state.pool.get().await?;
    let mut page = actions::actions(&client, &filter, limit + 1).await?;
    let next = (page.len() as i64 > limit).then(|| {
        page.truncate(limit as usize);
        page.last().map_or(Position::START, |a| a.position)
    });
    Ok(axum::Json(ActionPage {
        actions: page,
        next,
    }))
}
