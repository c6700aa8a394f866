//! Shows as staff schedule and cancel them, and the seat map ticket clients draw: in full,
//! or every seat's status in one compact string for frequent polling.

use super::read_position;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use boxoffice_commands::CatalogueShow;
use boxoffice_domain::{
    CinemaId, DomainError, FieldError, HallId, Money, MovieId, SeatSpec, ShowCommand, ShowEvent,
    ShowId,
};
use boxoffice_eventstore::Position;
use boxoffice_projections::catalogue;
use boxoffice_projections::seat_map::{self, SeatMapView};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A show of a movie, in one of two forms. From the catalogue: `movie_id`, `hall_id` and
/// `starts_at` (the title and end come from the movie, the layout and prices from the
/// hall, unless `prices` is given). Inline, for box-office tools: `movie_id`, `title`,
/// `starts_at`, `ends_at`, `seats` and `prices`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "movie_id": "5eed0000-0000-4000-8000-0000000000aa",
    "hall_id": "5eed0000-0000-4000-8000-0000000000bb",
    "starts_at": "2030-01-01T19:30:00+08:00"
}))]
pub struct ScheduleShow {
    /// Chosen by the client, or derived from the idempotency key.
    show_id: Option<Uuid>,
    movie_id: Uuid,
    /// Catalogue form: the hall it plays in. Refused if it would overlap another show of
    /// the hall (the cleaning gap included).
    hall_id: Option<Uuid>,
    /// Inline form: 1 to 300 characters.
    title: Option<String>,
    starts_at: DateTime<FixedOffset>,
    /// Inline form: after `starts_at`.
    ends_at: Option<DateTime<FixedOffset>>,
    /// Inline form: 1 to 10,000 seats with distinct ids.
    seats: Option<Vec<SeatSpec>>,
    /// The adult price of every seat category (catalogue form: the hall's when absent, at
    /// the cinema's matinee percentage if the show starts before its time).
    prices: Option<BTreeMap<String, Money>>,
    /// The other ticket types' prices: type, then category
    /// (`{"child": {"regular": {"amount_minor": 2250, "currency": "CNY"}}}`). Catalogue
    /// form: from the cinema's ticket types when absent; inline form: adult only.
    ticket_prices: Option<BTreeMap<String, BTreeMap<String, Money>>>,
    /// Inline form: the refund policy (absent: a full refund until the start). The
    /// catalogue form takes the cinema's.
    refund_policy: Option<boxoffice_domain::show::RefundPolicy>,
    /// Inline form: how wheelchair spaces and companion seats are kept for those who need
    /// them (absent: kept until two hours before the start or until the rest is sold, one
    /// companion per wheelchair space). The catalogue form takes the cinema's.
    accessible_seating: Option<boxoffice_domain::show::AccessibleSeating>,
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
        (status = 409, description = "A show with this id exists (`show_already_scheduled`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, the movie or hall unknown or retired (`validation_failed`), or the hall is busy then (`show_overlaps`).", body = Problem, content_type = "application/problem+json")
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
    let outcome = match body.hall_id {
        Some(hall_id) => {
            let inline: Vec<FieldError> = [
                ("title", body.title.is_some()),
                ("ends_at", body.ends_at.is_some()),
                ("seats", body.seats.is_some()),
                ("refund_policy", body.refund_policy.is_some()),
                ("accessible_seating", body.accessible_seating.is_some()),
            ]
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(field, _)| {
                FieldError::new(field, "comes from the catalogue when hall_id is given")
            })
            .collect();
            if !inline.is_empty() {
                return Err(DomainError::Validation(inline).into());
            }
            let cinema_id = cinema_of_hall(&state, hall_id).await?;
            let show = CatalogueShow {
                show_id: ShowId(show_id),
                movie_id: MovieId(body.movie_id),
                cinema_id: CinemaId(cinema_id),
                hall_id: HallId(hall_id),
                starts_at: body.starts_at.with_timezone(&Utc),
                prices: body.prices,
                ticket_prices: body.ticket_prices,
            };
            state
                .catalogue
                .schedule_show(
                    &state.writers,
                    show,
                    &state.settings.show_settings(),
                    &context,
                )
                .await?
        }
        None => {
            let missing: Vec<FieldError> = [
                ("title", body.title.is_none()),
                ("ends_at", body.ends_at.is_none()),
                ("seats", body.seats.is_none()),
                ("prices", body.prices.is_none()),
            ]
            .into_iter()
            .filter(|(_, absent)| *absent)
            .map(|(field, _)| FieldError::new(field, "required unless hall_id is given"))
            .collect();
            let (Some(title), Some(ends_at), Some(seats), Some(prices)) =
                (body.title, body.ends_at, body.seats, body.prices)
            else {
                return Err(DomainError::Validation(missing).into());
            };
            let command = ShowCommand::ScheduleShow {
                show_id,
                movie_id: body.movie_id,
                title,
                starts_at: body.starts_at.with_timezone(&Utc),
                ends_at: ends_at.with_timezone(&Utc),
                seats,
                prices,
                ticket_prices: body.ticket_prices.unwrap_or_default(),
                hold_ttl_seconds: state.settings.hold_ttl_seconds,
                expiry_grace_seconds: state.settings.expiry_grace_seconds,
                max_holds_per_customer: state.settings.max_holds_per_customer,
                waitlist_max_wait_seconds: state.settings.waitlist_max_wait_seconds,
                venue: None,
                refund_policy: body.refund_policy,
                accessible_seating: Some(body.accessible_seating.unwrap_or_default()),
            };
            state
                .writers
                .execute(ShowId(show_id), command, context)
                .await?
        }
    };
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

/// The cinema of a hall. A hall added moments ago may not be in the catalogue's read model
/// yet: then this waits (up to the read wait) for the read model to move on and looks again.
async fn cinema_of_hall(state: &AppState, hall_id: Uuid) -> Result<Uuid, ApiError> {
    let client = state.pool.get().await?;
    let deadline = tokio::time::Instant::now() + state.settings.read_wait;
    loop {
        let seen = state.projections.position("catalogue").unwrap_or_default();
        if let Some(cinema) = catalogue::cinema_of_hall(&client, hall_id).await? {
            return Ok(cinema);
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let next = Position::new(seen.commit, seen.prepare.saturating_add(1));
        if left.is_zero() || state.projections.wait_for("catalogue", next, left).await < next {
            return Err(
                DomainError::Validation(vec![FieldError::new("hall_id", "no such hall")]).into(),
            );
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelShow {
    /// Why, as customers will be told: 1 to 200 characters.
    reason: String,
}

/// Cancel a show: active holds are released, the waiting list closed, its hall time freed;
/// nothing more can be held or paid. Paid orders stay until refunded (staff).
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/cancel",
    tag = "shows",
    security(("bearer" = [])),
    params(("show_id" = Uuid, Path, description = "The show."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    request_body = CancelShow,
    responses(
        (status = 200, description = "Cancelled.", body = Scheduled),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`show_cancelled`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
    Json(body): Json<CancelShow>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let outcome = state
        .catalogue
        .cancel_show(&state.writers, ShowId(show_id), body.reason, &context)
        .await?;
    Ok((
        super::replayed_header(outcome.replayed),
        axum::Json(Scheduled {
            show_id,
            position: outcome.position,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AccessibleReleased {
    show_id: Uuid,
    /// Whether this request released them (false: they were not kept, or already released).
    released: bool,
    /// Why, when released now: `staff`, or `release_time` if that time had come anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(staff|release_time)$")]
    reason: Option<&'static str>,
    position: Position,
}

/// Release the wheelchair spaces and companion seats a show keeps for wheelchair users to
/// everyone, now (staff). They are released anyway at the show's release time and once the
/// rest of the hall is sold.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/accessible-seats/release",
    tag = "shows",
    security(("bearer" = [])),
    params(("show_id" = Uuid, Path, description = "The show."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    responses(
        (status = 200, description = "Released (or nothing was kept).", body = AccessibleReleased),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The show was cancelled (`show_cancelled`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn release_accessible(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let outcome = state
        .writers
        .execute(
            ShowId(show_id),
            ShowCommand::ReleaseAccessibleSeats { by_staff: true },
            context,
        )
        .await?;
    let reason = outcome.events.iter().find_map(|event| match event {
        ShowEvent::AccessibleSeatsReleased(e) => Some(e.reason.as_str()),
        _ => None,
    });
    Ok((
        super::replayed_header(outcome.replayed),
        axum::Json(AccessibleReleased {
            show_id,
            released: reason.is_some(),
            reason,
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
    let view = state
        .seat_maps
        .seat_map(&state.pool, show_id, position)
        .await?
        .ok_or(DomainError::ShowNotFound)?;
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
    counts: seat_map::SeatCountsView,
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
    let view = state
        .seat_maps
        .seat_statuses(&state.pool, show_id, position)
        .await?
        .ok_or(DomainError::ShowNotFound)?;
    Ok(axum::Json(SeatStatuses {
        show_id,
        position,
        version: view.version,
        counts: view.counts.clone(),
        statuses: &view.statuses,
    })
    .into_response())
}
