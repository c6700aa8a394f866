//! Box-office figures for analysts and staff, read from the sales read model.

use super::read_position;
use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_eventstore::Position;
use boxoffice_projections::sales::{sales_by_show, SalesFilter, SalesRow, SalesTotal};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesParams {
    /// Only this show.
    show_id: Option<Uuid>,
    /// Only shows of this movie.
    movie_id: Option<Uuid>,
    /// Shows starting at or after this instant.
    from: Option<DateTime<FixedOffset>>,
    /// Shows starting before this instant.
    to: Option<DateTime<FixedOffset>>,
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct SalesReport {
    shows: Vec<SalesRow>,
    totals: Vec<SalesTotal>,
    position: Position,
}

/// Tickets, gross, refunds and net per show, and totals per currency (analyst or staff).
#[utoipa::path(
    get,
    path = "/v1/reports/sales",
    tag = "reports",
    security(("bearer" = [])),
    params(SalesParams),
    responses(
        (status = 200, description = "The report.", body = SalesReport)
    )
)]
pub async fn sales(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<SalesParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Analyst, Role::Staff])?;
    let position = read_position(&state, "sales", params.min_position).await?;
    let filter = SalesFilter {
        show_id: params.show_id,
        movie_id: params.movie_id,
        starts_from: params.from.map(|t| t.with_timezone(&Utc)),
        starts_before: params.to.map(|t| t.with_timezone(&Utc)),
    };
    let client = state.pool.get().await?;
    let (shows, totals) = sales_by_show(&client, &filter).await?;
    Ok(axum::Json(SalesReport {
        shows,
        totals,
        position,
    }))
}
