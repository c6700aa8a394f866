use super::page_limit;
use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_eventstore::{Position, RecordedEvent};
use serde::{Deserialize, Serialize};

const MAX_STREAM_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    from_version: Option<u64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct StreamPage {
    events: Vec<RecordedEvent>,
    /// The `from_version` of the next page, or null at the end.
    next: Option<u64>,
}

/// `GET /v1/audit/streams/{stream}` (auditor): one stream's events in version order.
pub async fn stream(
    State(state): State<AppState>,
    caller: Identity,
    Path(stream): Path<String>,
    Query(params): Query<StreamParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    if stream.is_empty() || stream.chars().count() > MAX_STREAM_CHARS {
        return Err(ApiError::bad_request(
            "invalid_path",
            format!("a stream name has 1 to {MAX_STREAM_CHARS} characters"),
        ));
    }
    let limit = page_limit(params.limit, 100, 1000)? as usize;
    let from = params.from_version.unwrap_or(0);
    let mut events = state.log.read_stream(&stream, from, limit + 1).await?;
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map_or(from, |e| e.version + 1)
    });
    Ok(axum::Json(StreamPage { events, next }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    after: Option<Position>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct EventsPage {
    events: Vec<RecordedEvent>,
    /// The `after` of the next page, or null at the end of the log as it is now.
    next: Option<Position>,
}

/// `GET /v1/audit/events` (auditor): the whole log in its total order.
pub async fn events(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<EventsParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = page_limit(params.limit, 100, 1000)? as usize;
    let after = params.after.unwrap_or(Position::START);
    let mut events = state.log.read_all(after, limit + 1).await?;
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map_or(after, |e| e.position)
    });
    Ok(axum::Json(EventsPage { events, next }))
}
