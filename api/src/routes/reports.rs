use super::read_position;
use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_eventstore::Position;
use boxoffice_projections::queries::{sales as sales_by_show, SalesFilter, SalesRow, SalesTotal};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesParams {
    show_id: Option<Uuid>,
    movie_id: Option<Uuid>,
    /// Shows starting at or after this instant.
    from: Option<DateTime<FixedOffset>>,
    /// Shows starting before this instant.
    to: Option<DateTime<FixedOffset>>,
    min_position: Option<Position>,
}

#[derive(Serialize)]
struct SalesReport {
    shows: Vec<SalesRow>,
    totals: Vec<SalesTotal>,
    position: Position,
}

/// `GET /v1/reports/sales` (analyst or staff): tickets, gross, refunds and net per show,
/// and totals per currency.
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
