//! The waiting list: join, follow (long-poll) and leave.

use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::{
    CustomerId, Money, SeatId, ShowCommand, ShowEvent, ShowId, WaitlistEntryId,
};
use boxoffice_eventstore::Position;
use boxoffice_projections::waitlist::{waitlist_entry, WaitlistEntryView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The longest a client may ask `GET .../waitlist/{entry_id}` to wait for a change.
pub const MAX_WAIT_SECONDS: u64 = 60;

/// What to wait for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinWaitlist {
    /// 1 to 10 adjacent seats in one row.
    #[schema(minimum = 1, maximum = 10)]
    count: u32,
    /// Only seats of this category (such as `premium`).
    category: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Offer {
    hold_id: Uuid,
    seats: Vec<SeatId>,
    total: Money,
    expires_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Joined {
    entry_id: Uuid,
    show_id: Uuid,
    /// `waiting`, or `offered` when seats were free at once.
    status: &'static str,
    /// While waiting: 1 for the next in line.
    place: Option<u32>,
    waits_until: DateTime<Utc>,
    offer: Option<Offer>,
    position: Position,
}

/// Join the waiting list for `count` adjacent seats: when seats come free they are held for
/// the longest-waiting entry that fits, and the hold is the customer's to pay for.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/waitlist",
    tag = "waitlist",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer."),
        ("X-Request-Id" = Option<String>, Header, description = "Correlates logs and events.")
    ),
    request_body = JoinWaitlist,
    responses(
        (status = 201, description = "On the list (or offered seats at once).", body = Joined),
        (status = 404, description = "Unknown show.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already on this show's list (`waitlist_entry_exists`, with `entry_id`), the show can never meet it (`waitlist_cannot_be_met`), or it has started.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn join(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(show_id): Path<Uuid>,
    Json(body): Json<JoinWaitlist>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer])?;
    let context = headers.context(&caller);
    let entry_id = WaitlistEntryId(context.derive_id_in(&ShowId(show_id).stream(), "waitlist"));
    let command = ShowCommand::JoinWaitlist {
        entry_id,
        customer_id: CustomerId(caller.sub.clone()),
        count: body.count,
        category: body.category,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let joined = outcome.expect("WaitlistJoined", |e| match e {
        ShowEvent::WaitlistJoined(j) if j.entry_id == entry_id => Some(j),
        _ => None,
    })?;
    let offer = outcome.find(|e| match e {
        ShowEvent::WaitlistOffered(o) if o.entry_id == entry_id => Some(Offer {
            hold_id: o.hold_id.0,
            seats: o.seats.clone(),
            total: o.total.clone(),
            expires_at: o.expires_at,
        }),
        _ => None,
    });
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Joined {
            entry_id: entry_id.0,
            show_id,
            status: if offer.is_some() {
                "offered"
            } else {
                "waiting"
            },
            place: offer.is_none().then_some(joined.place),
            waits_until: joined.waits_until,
            offer,
            position: outcome.position,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowParams {
    /// The `version` the caller last saw: answer when the entry has another one.
    version: Option<i32>,
    /// Seconds to wait for a change (0 to 60, default 0: answer at once).
    #[param(minimum = 0, maximum = 60)]
    wait: Option<u64>,
    /// Wait (up to 5 s) until the read model has reached this position first.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct Followed {
    #[serde(flatten)]
    entry: WaitlistEntryView,
    position: Position,
}

/// A waiting-list entry: its status, place and offer. With `version` and `wait`, answers as
/// soon as the entry changes from that version, or after `wait` seconds with it unchanged.
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/waitlist/{entry_id}",
    tag = "waitlist",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("entry_id" = Uuid, Path, description = "The entry."),
        FollowParams
    ),
    responses(
        (status = 200, description = "The entry.", body = Followed),
        (status = 404, description = "Unknown entry, or someone else's (`waitlist_entry_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "As many long-polls are waiting as this server allows (`too_many_streams`); retry after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn follow(
    State(state): State<AppState>,
    caller: Identity,
    Path((show_id, entry_id)): Path<(Uuid, Uuid)>,
    Query(params): Query<FollowParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer, Role::Staff])?;
    super::require_show_cinema(&state, &caller, show_id).await?;
    let wait = params.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("wait must be 0 to {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut position = super::read_position(&state, "waitlist", params.min_position).await?;
    // Woken by the waiting-list projector when it changes this show's entries.
    let mut watching = match (wait, params.version) {
        (1.., Some(_)) => Some(state.waiting.watch(show_id)?),
        _ => None,
    };
    loop {
        if let Some(watching) = &mut watching {
            // Wakes from now on are not missed while the entry is read.
            watching.seen();
        }
        let entry = {
            let client = state.pool.get().await?;
            waitlist_entry(&client, show_id, entry_id).await?
        }
        .filter(|e| caller.has(Role::Staff) || e.customer_id == caller.sub)
        .ok_or_else(|| ApiError::from(boxoffice_domain::DomainError::WaitlistEntryNotFound))?;
        let now = tokio::time::Instant::now();
        // A stopping server answers at once: the client asks again, of another server.
        let stopping = *state.stopping.borrow();
        if params.version != Some(entry.version) || now >= deadline || stopping {
            return Ok(axum::Json(Followed { entry, position }));
        }
        if let Some(watching) = &mut watching {
            let mut stopping = state.stopping.clone();
            tokio::select! {
                () = watching.changed(deadline - now) => {}
                _ = stopping.wait_for(|stopping| *stopping) => {}
            }
        }
        position = position.max(state.projections.position("waitlist").unwrap_or_default());
    }
}

#[derive(Serialize, ToSchema)]
pub struct Left {
    entry_id: Uuid,
    show_id: Uuid,
    /// Always `left`.
    status: &'static str,
    position: Position,
}

/// Leave the waiting list (an offered hold goes back, to the next in line).
#[utoipa::path(
    delete,
    path = "/v1/shows/{show_id}/waitlist/{entry_id}",
    tag = "waitlist",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("entry_id" = Uuid, Path, description = "The entry."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")
    ),
    responses(
        (status = 200, description = "Left.", body = Left),
        (status = 404, description = "Unknown show or entry, or someone else's.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry has already ended (`waitlist_entry_ended`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn leave(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, entry_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = super::holds::requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::LeaveWaitlist {
        entry_id: WaitlistEntryId(entry_id),
        requester,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    Ok((
        super::replayed_header(outcome.replayed),
        axum::Json(Left {
            entry_id,
            show_id,
            status: "left",
            position: outcome.position,
        }),
    ))
}
