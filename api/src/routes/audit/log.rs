//! The log as it is: a stream's events, the whole log in its order, and exports of either as
//! NDJSON with the hash chain, for auditors to check offline.

use super::super::page_limit;
use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_audit::export::{Exporter, Selection};
use boxoffice_eventstore::{Position, RecordedEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const MAX_STREAM_CHARS: usize = 200;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The first version to return (default 0).
    #[param(minimum = 0)]
    from_version: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StreamPage {
    events: Vec<RecordedEvent>,
    /// The `from_version` of the next page, or null at the end.
    next: Option<u64>,
}

/// One stream's events in version order (auditor). A stream never written is empty.
#[utoipa::path(
    get,
    path = "/v1/audit/streams/{stream}",
    tag = "audit",
    security(("bearer" = [])),
    params(("stream" = String, Path, description = "A stream name such as `show-{uuid}`."), StreamParams),
    responses(
        (status = 200, description = "A page of events.", body = StreamPage)
    )
)]
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
    let from = u64::try_from(params.from_version.unwrap_or(0))
        .map_err(|_| ApiError::bad_request("invalid_query", "from_version must be 0 or more"))?;
    let mut events = state.log.read_stream(&stream, from, limit + 1).await?;
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map_or(from, |e| e.version + 1)
    });
    Ok(axum::Json(StreamPage { events, next }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// Return events after this position (default: from the start).
    after: Option<Position>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    events: Vec<RecordedEvent>,
    /// The `after` of the next page, or null at the end of the log as it is now.
    next: Option<Position>,
}

/// The whole log in its total order (auditor).
#[utoipa::path(
    get,
    path = "/v1/audit/events",
    tag = "audit",
    security(("bearer" = [])),
    params(EventsParams),
    responses(
        (status = 200, description = "A page of events.", body = EventsPage)
    )
)]
pub async fn events(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<EventsParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = page_limit(params.limit, 100, 1000)? as usize;
    let after = params.after.unwrap_or(Position::START);
    let mut events = state.log.read_all(after, limit + 1).await?;
    if events.len() <= limit {
        // The last page: the end of the log as it is now, with no event recorded so far
        // held back by an older transaction still open elsewhere (see
        // `boxoffice_eventstore::readable`), or the auditor would take it for cut.
        boxoffice_eventstore::readable(state.log.as_ref()).await?;
        events = state.log.read_all(after, limit + 1).await?;
    }
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map_or(after, |e| e.position)
    });
    Ok(axum::Json(EventsPage { events, next }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// One stream, from its first event.
    stream: Option<String>,
    /// Or the whole log after this position (default: from the start).
    #[param(value_type = Option<String>, pattern = "^[0-9]+-[0-9]+$")]
    after: Option<Position>,
}

/// The log, or one stream, as NDJSON (auditor): a header line, one event per line in log
/// order with the hash of the event before it in its stream and its own, and an end line
/// counting them, so the file can be checked with no access to the system (`boxoffice audit verify-export`, or the few lines of Python in
/// docs/audit.md).
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", security(("bearer" = [])),
    params(ExportParams),
    responses(
        (status = 200, description = "NDJSON, one event a line.", content_type = "application/x-ndjson"),
        (status = 422, description = "Both `stream` and `after` given (`validation_failed`).", body = crate::openapi::Problem, content_type = "application/problem+json")
    ))]
pub async fn export(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<ExportParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let selection = match (params.stream, params.after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "stream",
                "give `stream` or `after`, not both",
            ))
        }
        (Some(stream), None) => {
            if stream.is_empty() || stream.chars().count() > MAX_STREAM_CHARS {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("a stream name has 1 to {MAX_STREAM_CHARS} characters"),
                ));
            }
            Selection::Stream(stream)
        }
        (None, after) => Selection::After(after.unwrap_or(Position::START)),
    };
    let exporter = Exporter::new(state.log.clone(), selection);
    let pages = futures_util::stream::unfold(Some(exporter), |exporter| async move {
        let mut exporter = exporter?;
        match exporter.next_chunk().await {
            Ok(None) => None,
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(exporter))),
            // The status line is sent already: cutting the body short is what is left to
            // say (the file then has no end line, which `verify-export` reports).
            Err(error) => Some((Err(std::io::Error::other(error)), None)),
        }
    });
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(pages),
    ))
}
