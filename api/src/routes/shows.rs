use super::read_position;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::seat_maps::{VersionCache, Versioned};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use boxoffice_domain::{Money, SeatSpec, ShowCommand, ShowId};
use boxoffice_eventstore::Position;
use boxoffice_projections::queries::{self, SeatMapView};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A show with a snapshot of its hall's layout and its prices.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "movie_id": "5eed0000-0000-4000-8000-0000000000aa",
    "title": "流浪地球3 The Wandering Earth III",
    "starts_at": "2030-01-01T19:30:00+08:00",
    "ends_at": "2030-01-01T21:45:00+08:00",
    "seats": [
        {"seat_id": "A1", "row": "A", "number": 1, "category": "regular"},
        {"seat_id": "A2", "row": "A", "number": 2, "category": "regular"},
        {"seat_id": "B1", "row": "B", "number": 1, "category": "premium"}
    ],
    "prices": {
        "regular": {"amount_minor": 4500, "currency": "CNY"},
        "premium": {"amount_minor": 6800, "currency": "CNY"}
    }
}))]
pub struct ScheduleShow {
    /// Chosen by the client, or derived from the idempotency key.
    show_id: Option<Uuid>,
    movie_id: Uuid,
    /// 1 to 200 characters.
    title: String,
    starts_at: DateTime<FixedOffset>,
    /// After `starts_at`.
    ends_at: DateTime<FixedOffset>,
    /// 1 to 5,000 seats with distinct ids.
    seats: Vec<SeatSpec>,
    /// A price for every category the seats use.
    prices: BTreeMap<String, Money>,
}

#[derive(Serialize, ToSchema)]
pub struct Scheduled {
    show_id: Uuid,
    position: Position,
}

/// Schedule a show (staff).
#[utoipa::path(
    post,
    path = "/v1/shows",
    tag = "shows",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer (1-200 visible ASCII characters); generated when absent."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and the events' metadata; generated when absent, echoed back.")
    ),
    request_body = ScheduleShow,
    responses(
        (status = 201, description = "Scheduled.", body = Scheduled,
            headers(("Location" = String, description = "The show's seat map.")),
            links(
                ("SeatMap" = (operation_id = "seat_map", parameters(("show_id" = "$response.body#/show_id")))),
                ("HoldSeats" = (operation_id = "hold", parameters(("show_id" = "$response.body#/show_id"))))
            )),
        (status = 409, description = "A show with this id exists (`show_already_scheduled`).", body = Problem, content_type = "application/problem+json")
    )
)]
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
        max_holds_per_customer: state.settings.max_holds_per_customer,
        waitlist_max_wait_seconds: state.settings.waitlist_max_wait_seconds,
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct SeatMap<'a> {
    position: Position,
    #[serde(flatten)]
    view: &'a SeatMapView,
}

/// Every seat of a show with its status (anyone).
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/seats",
    tag = "shows",
    params(("show_id" = Uuid, Path, description = "The show."), ReadParams),
    responses(
        (status = 200, description = "The seat map.", body = SeatMap),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn seat_map(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
    Query(params): Query<ReadParams>,
) -> Result<impl IntoResponse, ApiError> {
    let position = read_position(&state, "seat_map", params.min_position).await?;
    let view = current(&state, &state.seat_maps.maps, show_id, position).await?;
    Ok(axum::Json(SeatMap {
        position,
        view: &view,
    })
    .into_response())
}

/// Every seat's status, compactly: for clients that already have the layout (it never
/// changes once a show is scheduled) and only need to know what is free.
#[derive(Serialize, ToSchema)]
pub struct SeatStatuses<'a> {
    show_id: Uuid,
    position: Position,
    /// The version of the show's stream this reflects.
    version: i64,
    counts: queries::SeatCountsView,
    /// One character per seat, in the order of the seat map's `seats` (the layout's
    /// order): `a` available, `h` held, `s` sold.
    #[schema(pattern = "^[ahs]*$", example = "aahhsa")]
    statuses: &'a str,
}

/// Every seat's status as one character, in layout order (anyone).
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/seats/status",
    tag = "shows",
    params(("show_id" = Uuid, Path, description = "The show."), ReadParams),
    responses(
        (status = 200, description = "The statuses.", body = SeatStatuses),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn seat_statuses(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
    Query(params): Query<ReadParams>,
) -> Result<impl IntoResponse, ApiError> {
    let position = read_position(&state, "seat_map", params.min_position).await?;
    let view = current(&state, &state.seat_maps.statuses, show_id, position).await?;
    Ok(axum::Json(SeatStatuses {
        show_id,
        position,
        version: view.version,
        counts: view.counts.clone(),
        statuses: &view.statuses,
    })
    .into_response())
}

/// A seat map or the statuses as the read model has them at projector position `at` (or
/// later): from memory when known current (see `seat_maps`), else from the database.
async fn current<T: Versioned + Readable>(
    state: &AppState,
    cache: &VersionCache<T>,
    show_id: Uuid,
    at: Position,
) -> Result<Arc<T>, ApiError> {
    if let Some(value) = cache.fresh(show_id, at) {
        return Ok(value);
    }
    let not_found = || ApiError::from(boxoffice_domain::DomainError::ShowNotFound);
    let client = state.pool.get().await?;
    let version = queries::seat_map_version(&client, show_id)
        .await?
        .ok_or_else(not_found)?;
    if let Some(value) = cache.confirm(show_id, version, at) {
        return Ok(value);
    }
    let value = Arc::new(T::read(&client, show_id).await?.ok_or_else(not_found)?);
    cache.put(value.clone(), at);
    Ok(value)
}

/// How a kept value is read from the database.
trait Readable: Sized {
    async fn read(
        client: &deadpool_postgres::Client,
        show_id: Uuid,
    ) -> Result<Option<Self>, tokio_postgres::Error>;
}

impl Readable for SeatMapView {
    async fn read(
        client: &deadpool_postgres::Client,
        show_id: Uuid,
    ) -> Result<Option<Self>, tokio_postgres::Error> {
        queries::seat_map(client, show_id).await
    }
}

impl Readable for queries::SeatStatusesView {
    async fn read(
        client: &deadpool_postgres::Client,
        show_id: Uuid,
    ) -> Result<Option<Self>, tokio_postgres::Error> {
        queries::seat_statuses(client, show_id).await
    }
}
