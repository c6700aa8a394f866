//! How far each projector has come: its checkpoint, the events it has applied and how far
//! behind the log it is, for the dashboard and for operators without Prometheus (the same
//! figures `/metrics` exports as `boxoffice_projection_lag_*`). It only reads the checkpoints
//! and the log; it never moves a checkpoint. What projectors have applied says how busy the
//! whole chain is, so staff of some cinemas only may not read it.

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use boxoffice_eventstore::Position;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Projections {
    /// Every projector, by name.
    projectors: Vec<ProjectorProgress>,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectorProgress {
    /// The projector's name (`seat_map`, `catalogue`, `sales`, ...): what `min_position`
    /// waits for and `boxoffice projections rebuild` names.
    projector: String,
    /// Its checkpoint: the log position its read model reflects.
    position: Position,
    /// Events it has applied since its read model was built.
    events_applied: i64,
    /// When its checkpoint last moved.
    updated_at: DateTime<Utc>,
    /// Events in the log after its checkpoint: 0 exactly when it has applied every readable
    /// event, otherwise an estimate.
    lag_events: u64,
    /// How long the oldest event it has not applied has waited (0 when caught up).
    lag_seconds: f64,
}

/// Every projector's checkpoint and lag behind the log, by name (staff of every cinema,
/// analyst, auditor, admin).
#[utoipa::path(
    get,
    path = "/v1/projections",
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The projectors' progress.", body = Projections)
    )
)]
pub async fn projections(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<Json<Projections>, ApiError> {
    caller.require(&[Role::Staff, Role::Analyst, Role::Auditor, Role::Admin])?;
    let chain_wide = [Role::Analyst, Role::Auditor, Role::Admin];
    if !chain_wide.iter().any(|role| caller.has(*role)) {
        caller.require_every_cinema()?;
    }
    let projectors = boxoffice_projections::status(state.log.as_ref(), &state.pool)
        .await?
        .into_iter()
        .map(|status| ProjectorProgress {
            projector: status.name,
            position: status.position,
            events_applied: status.events_applied,
            updated_at: status.updated_at,
            lag_events: status.lag_events,
            lag_seconds: status.lag_seconds,
        })
        .collect();
    Ok(Json(Projections { projectors }))
}
