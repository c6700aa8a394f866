use super::read_position;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use boxoffice_domain::{Money, SeatSpec, ShowCommand, ShowId};
use boxoffice_eventstore::Position;
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleShow {
    show_id: Option<Uuid>,
    movie_id: Uuid,
    title: String,
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    seats: Vec<SeatSpec>,
    prices: BTreeMap<String, Money>,
}

#[derive(Serialize)]
struct Scheduled {
    show_id: Uuid,
    position: Position,
}

/// `POST /v1/shows` (staff): schedules a show with a snapshot of its hall's layout.
pub async fn schedule(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<ScheduleShow>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let show_id = body.show_id.unwrap_or_else(|| context.derive_id("show"));
    let command = ShowCommand::ScheduleShow {
        show_id,
        movie_id: body.movie_id,
        title: body.title,
        starts_at: body.starts_at.with_timezone(&Utc),
        ends_at: body.ends_at.with_timezone(&Utc),
        seats: body.seats,
        prices: body.prices,
        hold_ttl_seconds: state.settings.hold_ttl_seconds,
        expiry_grace_seconds: state.settings.expiry_grace_seconds,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/shows/{show_id}/seats"))],
        super::replayed_header(outcome.replayed),
        axum::Json(Scheduled {
            show_id,
            position: outcome.position,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    min_position: Option<Position>,
}

#[derive(Serialize)]
struct SeatMap {
    position: Position,
    #[serde(flatten)]
    view: boxoffice_projections::queries::SeatMapView,
}

/// `GET /v1/shows/{show_id}/seats`: every seat with its status. Open to anyone.
pub async fn seat_map(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
    Query(params): Query<ReadParams>,
) -> Result<impl IntoResponse, ApiError> {
    let position = read_position(&state, "seat_map", params.min_position).await?;
    let client = state.pool.get().await?;
    let view = boxoffice_projections::queries::seat_map(&client, show_id)
        .await?
        .ok_or_else(|| ApiError::from(boxoffice_domain::DomainError::ShowNotFound))?;
    Ok(axum::Json(SeatMap { position, view }))
}
