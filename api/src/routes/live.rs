//! The live seat map: Server-Sent Events with a snapshot, then every change to the show's
//! seats in stream order. Each message's id is the stream version it brings the client to; a
//! client that reconnects with `Last-Event-ID` gets every change after it, read from the log
//! itself, so nothing is skipped or repeated. A stream looks at the log when the seat-map
//! projector has changed its show (or was moved by another process), and every few seconds
//! anyway; a process keeps at most `BOXOFFICE_LIVE_STREAMS_MAX` streams open.

use crate::error::ApiError;
use crate::extract::Path;
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use boxoffice_domain::{SeatId, ShowEvent, ShowId, StoredEvent};
use boxoffice_eventstore::EventLog;
use boxoffice_projections::watchers::Watching;
use futures_util::stream::{self, Stream};
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

/// The most events read from the log per wake-up.
const PAGE: usize = 500;
/// How long the stream sleeps without news before looking at the log anyway.
const IDLE: Duration = Duration::from_secs(5);

/// One message of the live seat map after the snapshot: seats whose status changed.
#[derive(Serialize, ToSchema)]
pub struct SeatChanges {
    /// The stream version this change brings the client to (also the message id).
    version: u64,
    /// The event that changed them (`SeatsHeld`, `HoldReleased`, ...).
    cause: String,
    changes: Vec<SeatChange>,
}

#[derive(Serialize, ToSchema)]
pub struct SeatChange {
    seat_id: SeatId,
    /// `available`, `held` or `sold`.
    status: &'static str,
}

/// Seat-map changes as Server-Sent Events (anyone). Without `Last-Event-ID` the first message
/// (`event: snapshot`) is the seat map as `GET .../seats` returns it; then `event: seats`
/// messages list the seats each change touched. Reconnect with `Last-Event-ID` set to the last
/// id seen to resume without gaps.
#[utoipa::path(
    get,
    path = "/v1/shows/{show_id}/seats/live",
    tag = "shows",
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this stream version.")
    ),
    responses(
        (status = 200, description = "An event stream: `snapshot` (a seat map), then `seats` messages (SeatChanges).", content_type = "text/event-stream"),
        (status = 404, description = "Unknown show (`show_not_found`).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "As many live streams are open as this server allows (`too_many_streams`); retry after `Retry-After` seconds.", body = crate::openapi::Problem, content_type = "application/problem+json")
    )
)]
pub async fn live(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v < i64::MAX as u64)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_header",
                        "Last-Event-ID must be a stream version (a whole number)",
                    )
                })?,
        ),
    };
    let watching = state.watchers.watch(show_id)?;
    let client = state.pool.get().await?;
    let view = boxoffice_projections::seat_map::seat_map(&client, show_id)
        .await?
        .ok_or_else(|| ApiError::from(boxoffice_domain::DomainError::ShowNotFound))?;
    drop(client);
    let mut first = VecDeque::new();
    let next_version = match resume {
        Some(seen) => seen + 1,
        None => {
            let version = u64::try_from(view.version).unwrap_or_default();
            let data = serde_json::to_string(&view).map_err(ApiError::internal)?;
            first.push_back(
                Event::default()
                    .event("snapshot")
                    .id(version.to_string())
                    .data(data),
            );
            version + 1
        }
    };
    let follower = Follower {
        state,
        stream: ShowId(show_id).stream(),
        next_version,
        pending: first,
        watching,
    };
    let events = stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

struct Follower {
    state: AppState,
    stream: String,
    next_version: u64,
    pending: VecDeque<Event>,
    watching: Watching,
}

impl Follower {
    /// The next message: pending ones first, else whatever the log gains next. None once
    /// the server begins to stop: a stream is endless until the client leaves, and a
    /// graceful shutdown waits for every connection, so it ends then (woken with every other
    /// stream; the client reconnects elsewhere with Last-Event-ID).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.state.stopping.borrow() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            // Wakes from now on are not missed while the log is read.
            self.watching.seen();
            match read(self.state.log.clone(), &self.stream, self.next_version).await {
                Ok(changes) if !changes.is_empty() => {
                    for change in changes {
                        self.next_version = change.version + 1;
                        if change.changes.is_empty() {
                            continue;
                        }
                        let data = serde_json::to_string(&change).unwrap_or_default();
                        self.pending.push_back(
                            Event::default()
                                .event("seats")
                                .id(change.version.to_string())
                                .data(data),
                        );
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(stream = %self.stream, %error, "live seat map"),
            }
            // Sleep until the seat-map projector changes this show, or a while.
            self.watching.changed(IDLE).await;
        }
    }
}

async fn read(log: Arc<dyn EventLog>, stream: &str, from: u64) -> Result<Vec<SeatChanges>, String> {
    let stored = log
        .read_stream(stream, from, PAGE)
        .await
        .map_err(|e| e.to_string())?;
    stored
        .iter()
        .map(|e| {
            let event = ShowEvent::from_stored(&e.event_type, e.schema_version, &e.data)
                .map_err(|e| e.to_string())?;
            let (seats, status): (&[SeatId], &'static str) = match &event {
                ShowEvent::SeatsHeld(x) => (&x.seats, "held"),
                ShowEvent::HoldReleased(x) => (&x.seats, "available"),
                ShowEvent::HoldExpired(x) => (&x.seats, "available"),
                ShowEvent::HoldConfirmed(x) => (&x.seats, "sold"),
                ShowEvent::OrderRefunded(x) => (&x.seats, "available"),
                _ => (&[], ""),
            };
            Ok(SeatChanges {
                version: e.version,
                cause: e.event_type.clone(),
                changes: seats
                    .iter()
                    .map(|seat_id| SeatChange {
                        seat_id: seat_id.clone(),
                        status,
                    })
                    .collect(),
            })
        })
        .collect()
}
