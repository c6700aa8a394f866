//! On-sales with a virtual waiting room: staff set one up and end it; customers line up,
//! follow their place (long-poll), and get an admission to hold with. See
//! [`crate::waiting_room`] for how the line is drawn and moved.

use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::waiting_room::store::{self, CreateError, Entry, Joined, NewOnSale, OnSale};
use crate::waiting_room::{tokens, Progress};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_commands::CommandError;
use boxoffice_domain::DomainError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The longest a client may ask `GET .../queue/{ticket}` to wait for a change.
pub const MAX_WAIT_SECONDS: u64 = 60;
/// Over how long the pre-queue's long-polls are answered after the draw.
const DRAW_SPREAD_MS: u64 = 5_000;
/// The most shows one on-sale may cover.
const MAX_SHOWS: usize = 10_000;

/// A high-demand on-sale: its shows sell through a waiting room from `opens_at`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "流浪地球3 首映", "movie_id": "0b0c6f4e-7f55-4d3e-a0c4-58d6f4a0c6b1",
    "opens_at": "2027-01-20T02:00:00Z", "admitted_per_minute": 600
}))]
pub struct CreateOnSale {
    /// 1 to 200 characters.
    title: String,
    /// The shows (1 to 10,000); or give `movie_id`.
    show_ids: Option<Vec<Uuid>>,
    /// A movie's opening: every show of it not yet started (from the catalogue).
    movie_id: Option<Uuid>,
    /// When the line starts moving; those who come before are shuffled then.
    opens_at: DateTime<Utc>,
    /// People let in per minute (1 to 1,000,000), or `"auto"`: set at the opening from
    /// what the shows' writers have been measured to get through.
    admitted_per_minute: Rate,
    /// How long an admission lets its customer hold (1 to 60, default 10).
    #[schema(minimum = 1, maximum = 60)]
    admission_minutes: Option<i32>,
    /// How long someone who stops asking about their place keeps it (10 to 86,400,
    /// default 120).
    #[schema(minimum = 10, maximum = 86_400)]
    grace_seconds: Option<i32>,
}

/// A rate: people per minute, or `"auto"`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Rate {
    PerMinute(i32),
    Automatic(Automatic),
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Automatic {
    Auto,
}

/// Set up a high-demand on-sale with a waiting room: from now on customers' holds on its
/// shows need an admission from its queue.
#[utoipa::path(
    post,
    path = "/v1/onsales",
    tag = "onsales",
    security(("bearer" = [])),
    request_body = CreateOnSale,
    responses(
        (status = 201, description = "Set up; its shows are under the queue.", body = OnSale),
        (status = 403, description = "Not staff of the whole chain.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A show is under another on-sale that has not ended (`onsale_conflict`, with `onsale_id` and `show_ids`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, a movie with no show to come, or unknown shows (`unknown_shows`, with `show_ids`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<CreateOnSale>,
) -> Result<impl IntoResponse, ApiError> {
    chain_staff(&caller)?;
    let room = &state.waiting_room;
    let now = room.clock.now();
    let title = body.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::validation("title", "1 to 200 characters"));
    }
    let admitted_per_minute = match body.admitted_per_minute {
        Rate::PerMinute(rate) if (1..=1_000_000).contains(&rate) => Some(rate),
        Rate::PerMinute(_) => {
            return Err(ApiError::validation(
                "admitted_per_minute",
                "1 to 1,000,000 people per minute, or \"auto\"",
            ))
        }
        Rate::Automatic(Automatic::Auto) => None,
    };
    let admission_minutes = body.admission_minutes.unwrap_or(10);
    if !(1..=60).contains(&admission_minutes) {
        return Err(ApiError::validation("admission_minutes", "1 to 60"));
    }
    if body.opens_at < now - Duration::days(1) || body.opens_at > now + Duration::days(366) {
        return Err(ApiError::validation(
            "opens_at",
            "from a day ago to a year ahead",
        ));
    }
    let grace_seconds = body.grace_seconds.unwrap_or(120);
    if !(10..=86_400).contains(&grace_seconds) {
        return Err(ApiError::validation("grace_seconds", "10 to 86,400"));
    }
    let show_ids = match (body.show_ids, body.movie_id) {
        (Some(shows), None) => {
            let distinct: BTreeSet<Uuid> = shows.iter().copied().collect();
            if shows.is_empty() || shows.len() > MAX_SHOWS || distinct.len() != shows.len() {
                return Err(ApiError::validation(
                    "show_ids",
                    format!("1 to {MAX_SHOWS} distinct show ids"),
                ));
            }
            shows
        }
        (None, Some(movie)) => {
            let client = state.pool.get().await?;
            let shows = store::shows_to_come(&client, movie, now, MAX_SHOWS as i64).await?;
            if shows.is_empty() {
                return Err(ApiError::validation(
                    "movie_id",
                    "the movie has no show to come in the catalogue",
                ));
            }
            shows
        }
        _ => {
            return Err(ApiError::validation(
                "show_ids",
                "give either `show_ids` or `movie_id`",
            ))
        }
    };
    let context = headers.context(&caller);
    let new = NewOnSale {
        onsale_id: context.derive_id("onsale"),
        title,
        movie_id: body.movie_id,
        show_ids,
        opens_at: body.opens_at,
        admitted_per_minute,
        admission_seconds: admission_minutes * 60,
        grace_seconds,
        created_by: caller.sub.clone(),
        created_at: now,
    };
    // A retry with the same Idempotency-Key finds the on-sale it made, and finishes
    // setting it up if the first try did not.
    let made = store::get(&state.pool.get().await?, new.onsale_id).await?;
    match made {
        Some(made) if made.shows_queued || made.ended_at.is_some() => {
            return Ok((StatusCode::CREATED, axum::Json(made)))
        }
        Some(_) => {}
        None => {
            match store::create(&mut state.pool.get().await?, &new).await {
                Ok(()) => {}
                Err(CreateError::Overlaps { onsale_id, shows }) => return Err(ApiError::from(
                    DomainError::OnSaleConflict { onsale_id },
                )
                .detail("some shows are under another on-sale's waiting room that has not ended")
                .with("show_ids", shows)),
                Err(CreateError::Db(error)) => return Err(error.into()),
            }
        }
    }
    let refused = room
        .tell_shows(new.onsale_id, &new.show_ids, false, &context, new.opens_at)
        .await;
    let (rejected, failed): (Vec<_>, Vec<_>) = refused
        .into_iter()
        .partition(|(_, error)| matches!(error, CommandError::Rejected(_)));
    if let Some((_, CommandError::Rejected(first))) = rejected.first() {
        // A show said no: nothing half set up stays. The on-sale ends (as refused) and the
        // shows that took it are lifted.
        let client = state.pool.get().await?;
        store::end(&client, new.onsale_id, "system:refused", now).await?;
        let lifted = room
            .tell_shows(new.onsale_id, &new.show_ids, true, &context, new.opens_at)
            .await;
        if lifted.is_empty() {
            store::mark_shows(&client, new.onsale_id, true).await?;
        }
        let unknown: Vec<Uuid> = rejected
            .iter()
            .filter(|(_, e)| matches!(e, CommandError::Rejected(DomainError::ShowNotFound)))
            .map(|(show, _)| *show)
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_shows",
                "Unknown shows",
            )
            .detail("these shows do not exist")
            .with("show_ids", unknown));
        }
        return Err(ApiError::from(first.clone()));
    }
    if let Some((show, error)) = failed.first() {
        // A show could not be reached: a retry with the same Idempotency-Key finishes the
        // set-up (and the admitters do, after a while, if nobody retries).
        tracing::warn!(onsale = %new.onsale_id, %show, %error,
            "waiting room: a show could not be put under the queue yet");
        return Err(ApiError::unavailable(
            "not every show could be put under the queue yet; retry with the same Idempotency-Key",
        ));
    }
    let client = state.pool.get().await?;
    store::mark_shows(&client, new.onsale_id, false).await?;
    let made = store::get(&client, new.onsale_id)
        .await?
        .ok_or_else(|| ApiError::internal("the on-sale just made is missing"))?;
    tracing::info!(onsale = %made.onsale_id, shows = made.show_ids.len(), opens_at = %made.opens_at,
        "waiting room: on-sale set up");
    Ok((StatusCode::CREATED, axum::Json(made)))
}

/// On-sales that have not ended, and those that ended in the last week.
#[utoipa::path(
    get,
    path = "/v1/onsales",
    tag = "onsales",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Soonest opening first.", body = [OnSale]),
        (status = 403, description = "Not staff of the whole chain.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    chain_staff(&caller)?;
    let client = state.pool.get().await?;
    let now = state.waiting_room.clock.now();
    Ok(axum::Json(store::list(&client, now).await?))
}

/// The on-sale whose waiting room the show sells through now, if any: a client asks before
/// offering seats, and sends the customer to the queue instead.
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/onsale",
    tag = "onsales",
    params(("show_id" = Uuid, Path, description = "The show.")),
    responses(
        (status = 200, description = "The on-sale the show's holds need an admission from.", body = OnSale),
        (status = 404, description = "The show sells without a queue now (`onsale_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn of_show(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let client = state.pool.get().await?;
    store::of_show(&client, show_id)
        .await?
        .map(axum::Json)
        .ok_or_else(not_found)
}

/// An on-sale: when it opens, its rate, how far its line has moved.
#[utoipa::path(
    get,
    path = "/v1/onsales/{onsale_id}",
    tag = "onsales",
    security(("bearer" = [])),
    params(("onsale_id" = Uuid, Path, description = "The on-sale.")),
    responses(
        (status = 200, description = "The on-sale.", body = OnSale),
        (status = 404, description = "Unknown on-sale (`onsale_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn find(
    State(state): State<AppState>,
    _caller: Identity,
    Path(onsale_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let client = state.pool.get().await?;
    Ok(axum::Json(onsale(&client, onsale_id).await?))
}

/// End the on-sale: its shows' holds need no admission any more, and nobody else lines up.
#[utoipa::path(
    post,
    path = "/v1/onsales/{onsale_id}/end",
    tag = "onsales",
    security(("bearer" = [])),
    params(("onsale_id" = Uuid, Path, description = "The on-sale.")),
    responses(
        (status = 200, description = "Ended (ending again changes nothing).", body = OnSale),
        (status = 403, description = "Not staff of the whole chain.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown on-sale (`onsale_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn end(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(onsale_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    chain_staff(&caller)?;
    let room = &state.waiting_room;
    let client = state.pool.get().await?;
    let ended = store::end(&client, onsale_id, &caller.sub, room.clock.now())
        .await?
        .ok_or_else(not_found)?;
    let context = headers.context(&caller);
    let failed = room
        .tell_shows(onsale_id, &ended.show_ids, true, &context, ended.opens_at)
        .await;
    if failed.is_empty() {
        store::mark_shows(&client, onsale_id, true).await?;
    }
    // Shows that could not be reached are lifted by the admitters' next passes.
    Ok(axum::Json(onsale(&client, onsale_id).await?))
}

/// A place in line, as its holder sees it.
#[derive(Serialize, ToSchema)]
pub struct QueuePlace {
    onsale_id: Uuid,
    /// The signed queue ticket: ask about the place with it (only its holder can).
    ticket: String,
    ticket_id: Uuid,
    /// `pre_queue` (came before the opening: the place is drawn at the opening),
    /// `waiting`, `admitted` (hold with `admission.token` until `admission.until`),
    /// `admission_expired` and `left` (line up again to get a new place at the back), or
    /// `ended` (the on-sale is over: hold without an admission).
    status: &'static str,
    arrived_at: DateTime<Utc>,
    opens_at: DateTime<Utc>,
    /// 1 for the next one in; absent in the pre-queue.
    position: Option<i64>,
    /// Waiting places ahead of this one.
    people_ahead: Option<i64>,
    /// The place's number in the whole line, those let in counted (absent in the
    /// pre-queue): it stays the same while the line moves.
    number_in_line: Option<i64>,
    /// In the pre-queue: how many are in it so far.
    pre_queue: Option<i64>,
    /// Seconds until this place is let in, at the on-sale's rate.
    estimated_wait_seconds: Option<i64>,
    admission: Option<AdmissionView>,
}

/// What the waiting room let its holder do.
#[derive(Serialize, ToSchema)]
pub struct AdmissionView {
    /// Give it as `admission_token` when holding seats of the on-sale's shows.
    token: String,
    until: DateTime<Utc>,
    /// This admission's number: 0 for the first one let in.
    number: i32,
}

/// Line up for the on-sale: a place in the pre-queue before the opening, at the back after
/// it. One place per account: asking again answers the place it has.
#[utoipa::path(
    post,
    path = "/v1/onsales/{onsale_id}/queue",
    tag = "onsales",
    security(("bearer" = [])),
    params(("onsale_id" = Uuid, Path, description = "The on-sale.")),
    responses(
        (status = 201, description = "A new place.", body = QueuePlace),
        (status = 200, description = "The place this account has already.", body = QueuePlace),
        (status = 404, description = "Unknown on-sale (`onsale_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The on-sale has ended (`onsale_ended`): hold without an admission.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn join(
    State(state): State<AppState>,
    caller: Identity,
    Path(onsale_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer])?;
    let room = &state.waiting_room;
    let now = room.clock.now();
    let joined = store::join(&mut state.pool.get().await?, onsale_id, &caller.sub, now).await?;
    let (status, entry) = match joined {
        Joined::New(entry) => (StatusCode::CREATED, entry),
        Joined::Existing(entry) => {
            // A second place for one account is what a bot farm asks for: refused (the
            // place it has is the answer), and logged.
            tracing::info!(onsale = %onsale_id, customer = %caller.sub,
                "waiting room: a second place refused; answered the first");
            metrics::counter!("boxoffice_onsale_second_places_refused_total").increment(1);
            (StatusCode::OK, entry)
        }
        Joined::NoSuchOnSale => return Err(not_found()),
        Joined::Ended => return Err(ended()),
        Joined::Raced => {
            return Err(ApiError::unavailable(
                "another request of this account lined up at the same moment; ask again",
            ))
        }
    };
    let client = state.pool.get().await?;
    let onsale = onsale(&client, onsale_id).await?;
    let place = place(&state, &client, &onsale, &entry, &caller.sub).await?;
    Ok((status, axum::Json(place)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowParams {
    /// Seconds to wait for the line to move (0 to 60, default 0: answer at once).
    #[param(minimum = 0, maximum = 60)]
    wait: Option<u64>,
}

/// A place in line: its position and estimated wait, and once let in, the admission. With
/// `wait`, answers as soon as the line moves, or after `wait` seconds. Asking keeps the
/// place: someone who stops asking for longer than the on-sale's grace gives it up.
#[utoipa::path(
    get,
    path = "/v1/onsales/{onsale_id}/queue/{ticket}",
    tag = "onsales",
    security(("bearer" = [])),
    params(
        ("onsale_id" = Uuid, Path, description = "The on-sale."),
        ("ticket" = String, Path, description = "The signed queue ticket."),
        FollowParams
    ),
    responses(
        (status = 200, description = "The place.", body = QueuePlace),
        (status = 404, description = "Not a ticket of this on-sale, or someone else's (`queue_ticket_not_found`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn follow(
    State(state): State<AppState>,
    caller: Identity,
    Path((onsale_id, ticket)): Path<(Uuid, String)>,
    Query(params): Query<FollowParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Customer])?;
    let wait = params.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("wait must be 0 to {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let room = &state.waiting_room;
    let ticket = room
        .tokens
        .open_ticket(&ticket)
        .filter(|t| t.onsale_id == onsale_id && t.sub == caller.sub)
        .ok_or_else(ticket_not_found)?;
    let mut moves = room.follow(onsale_id);
    let mut waited = false;
    loop {
        let client = state.pool.get().await?;
        let onsale = onsale(&client, onsale_id).await?;
        let entry = store::entry(&client, onsale_id, ticket.ticket_id)
            .await?
            .ok_or_else(ticket_not_found)?;
        store::seen(&client, onsale_id, &entry, room.clock.now()).await?;
        let place = place(&state, &client, &onsale, &entry, &caller.sub).await?;
        if waited || wait == 0 || !matches!(place.status, "pre_queue" | "waiting") {
            return Ok(axum::Json(place));
        }
        drop(client);
        waited = true;
        wait_for_turn(&state, &mut moves, onsale_id, &entry, wait).await?;
    }
}

/// Waits until something changes this place's answer: its turn (the line let in through
/// its place), the end, or `wait` seconds. A pre-queue place learns where the draw put it
/// (one lookup, spread over a few seconds after the draw, so a pre-queue of thousands does
/// not ask all at once while the first admitted customers hold) and goes on waiting for its
/// turn.
async fn wait_for_turn(
    state: &AppState,
    moves: &mut tokio::sync::watch::Receiver<Progress>,
    onsale_id: Uuid,
    entry: &Entry,
    wait: u64,
) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
    let mut drawn = entry.place;
    loop {
        let turn = |progress: &Progress| {
            progress.ended
                || match drawn {
                    Some(place) => progress.through >= place,
                    None => progress.shuffled,
                }
        };
        // A stopping server answers at once: the client asks again, of another server.
        let mut stopping = state.stopping.clone();
        let woken = tokio::select! {
            woken = tokio::time::timeout_at(deadline, moves.wait_for(turn)) => {
                woken.is_ok_and(|seen| seen.is_ok())
            }
            _ = stopping.wait_for(|stopping| *stopping) => false,
        };
        if !woken || drawn.is_some() || moves.borrow().ended {
            return Ok(());
        }
        let spread = Uuid::new_v4().as_u128() % u128::from(DRAW_SPREAD_MS);
        let at = tokio::time::Instant::now() + std::time::Duration::from_millis(spread as u64);
        tokio::time::sleep_until(at.min(deadline)).await;
        let client = state.pool.get().await?;
        drawn = store::entry(&client, onsale_id, entry.ticket_id)
            .await?
            .and_then(|entry| entry.place);
        if drawn.is_none() {
            return Ok(());
        }
    }
}

/// The admission a hold carries: from `token`, when it is a valid admission of this
/// deployment issued to the caller (staff sell at the counter and need none). Anything
/// else is no admission, which a show under a queue refuses (`queue_required`).
pub(super) fn admission(
    state: &AppState,
    caller: &Identity,
    token: Option<&str>,
) -> Option<boxoffice_domain::show::Admission> {
    if caller.has(Role::Staff) {
        return Some(boxoffice_domain::show::Admission::Counter);
    }
    let opened = state.waiting_room.tokens.open_admission(token?);
    match opened {
        Some(admission) if admission.sub == caller.sub => {
            Some(boxoffice_domain::show::Admission::Queue {
                onsale_id: admission.onsale_id,
                until: admission.until,
            })
        }
        Some(admission) => {
            tracing::warn!(holder = %admission.sub, caller = %caller.sub, onsale = %admission.onsale_id,
                "waiting room: an admission used by another account refused");
            metrics::counter!("boxoffice_onsale_admissions_misused_total").increment(1);
            None
        }
        None => {
            tracing::info!(caller = %caller.sub, "waiting room: a hold's admission token is not valid");
            None
        }
    }
}

fn chain_staff(caller: &Identity) -> Result<(), ApiError> {
    caller.require(&[Role::Staff])?;
    if caller.cinemas.is_some() {
        return Err(ApiError::forbidden(
            "on-sales are set up by staff of the whole chain",
        ));
    }
    Ok(())
}

fn ticket_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "queue_ticket_not_found",
        "Queue ticket not found",
    )
    .detail("not a queue ticket of this on-sale issued to this account")
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "onsale_not_found",
        "On-sale not found",
    )
    .detail("there is no such on-sale")
}

fn ended() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "onsale_ended", "On-sale ended")
        .detail("the on-sale is over; its shows sell without a queue")
}

async fn onsale(
    client: &impl deadpool_postgres::GenericClient,
    onsale_id: Uuid,
) -> Result<OnSale, ApiError> {
    store::get(client, onsale_id).await?.ok_or_else(not_found)
}

/// How `entry` stands in `onsale`'s line.
async fn place(
    state: &AppState,
    client: &impl deadpool_postgres::GenericClient,
    onsale: &OnSale,
    entry: &Entry,
    sub: &str,
) -> Result<QueuePlace, ApiError> {
    let room = &state.waiting_room;
    let now = room.clock.now();
    let rate = i64::from(
        onsale
            .admitted_per_minute
            .unwrap_or_else(|| room.automatic_rate())
            .max(1),
    );
    let until_open = (onsale.opens_at - now).num_seconds().max(0);
    let mut place = QueuePlace {
        onsale_id: onsale.onsale_id,
        ticket: room.tokens.ticket(&tokens::Ticket {
            sub: sub.to_owned(),
            onsale_id: onsale.onsale_id,
            ticket_id: entry.ticket_id,
        }),
        ticket_id: entry.ticket_id,
        status: "waiting",
        arrived_at: entry.arrived_at,
        opens_at: onsale.opens_at,
        position: None,
        people_ahead: None,
        number_in_line: None,
        pre_queue: None,
        estimated_wait_seconds: None,
        admission: None,
    };
    if onsale.ended_at.is_some() {
        place.status = "ended";
    } else if let (Some(number), Some(at)) = (entry.admission, entry.admitted_at) {
        let until = at + Duration::seconds(onsale.admission_seconds.into());
        if until > now {
            place.status = "admitted";
            place.admission = Some(AdmissionView {
                token: room.tokens.admission(&tokens::Admission {
                    sub: sub.to_owned(),
                    onsale_id: onsale.onsale_id,
                    until,
                }),
                until,
                number,
            });
        } else {
            place.status = "admission_expired";
        }
    } else if entry.left_at.is_some() {
        place.status = "left";
    } else if let Some(at) = entry.place {
        let (mut ahead, mut number) = store::standing(client, onsale.onsale_id, at).await?;
        if onsale.shuffled_at.is_none() {
            // Opened a moment ago: the pre-queue, not drawn yet, is all ahead.
            let drawn_later = store::pre_queue(client, onsale.onsale_id).await?;
            ahead += drawn_later;
            number += drawn_later;
        }
        place.number_in_line = Some(number);
        place.position = Some(ahead + 1);
        place.people_ahead = Some(ahead);
        place.estimated_wait_seconds = Some(until_open + ahead * 60 / rate);
    } else {
        place.status = "pre_queue";
        let size = store::pre_queue(client, onsale.onsale_id).await?;
        place.pre_queue = Some(size);
        // On average, half the pre-queue is drawn ahead.
        place.estimated_wait_seconds = Some(until_open + size / 2 * 60 / rate);
    }
    Ok(place)
}
