//! The state of a show, or of any stream, at any point, folded from the log by the domain's
//! own rules: what an auditor asks when a sale is disputed ("what did this seat map look
//! like at 19:02?").

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_audit::state::{Point, ShowState, StateError, StreamState};
use boxoffice_domain::{ShowId, StreamName};
use boxoffice_eventstore::Position;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// At most one point; none means now.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PointParams {
    /// After the stream's event of this version.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    at_version: Option<u64>,
    /// After the stream's last event at or before this log position.
    #[param(value_type = Option<String>, pattern = "^[0-9]+-[0-9]+$")]
    at_position: Option<Position>,
    /// After the stream's events recorded at or before this instant (RFC 3339).
    at_time: Option<DateTime<Utc>>,
}

impl PointParams {
    fn point(&self) -> Result<Point, ApiError> {
        let at_version = super::super::log_number("at_version", self.at_version)?;
        match (at_version, self.at_position, self.at_time) {
            (None, None, None) => Ok(Point::Latest),
            (Some(version), None, None) => Ok(Point::Version(version)),
            (None, Some(position), None) => Ok(Point::Position(position)),
            (None, None, Some(time)) => Ok(Point::Time(time)),
            _ => Err(ApiError::validation(
                "at_version",
                "give at most one of at_version, at_position and at_time",
            )),
        }
    }
}

fn state_error(error: StateError, not_found: ApiError) -> ApiError {
    match error {
        StateError::NotFound => not_found,
        StateError::OutOfRange(detail) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "point_out_of_range",
            "No state at that point",
        )
        .detail(detail),
        StateError::Log(error) => error.into(),
        unreadable @ StateError::Unreadable { .. } => ApiError::internal(unreadable),
        broken @ StateError::Broken { .. } => ApiError::new(
            StatusCode::CONFLICT,
            "log_not_intact",
            "The stream's hash chain breaks before that point",
        )
        .detail(broken.to_string()),
    }
}

/// A show at a point of its history (auditor): every seat with its status and the hold or
/// order that has it, the holds, orders, waiting list, counts and money, and the version,
/// position, time and hash of the last event it includes.
#[utoipa::path(get, path = "/v1/audit/shows/{show_id}/state", tag = "audit",
    security(("bearer" = [])),
    params(("show_id" = Uuid, Path, description = "The show."), PointParams),
    responses(
        (status = 200, description = "The show as its events up to that point make it.", body = ShowState),
        (status = 404, description = "No such show (`show_not_found`).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The show's hash chain breaks at or before the point (`log_not_intact`): no state is folded from events the chain does not commit to; the detail names the version.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Two points at once (`validation_failed`), or a point before the show existed or past its last version (`point_out_of_range`).", body = crate::openapi::Problem, content_type = "application/problem+json")
    ))]
pub async fn show(
    State(state): State<AppState>,
    caller: Identity,
    Path(show_id): Path<Uuid>,
    Query(params): Query<PointParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let point = params.point()?;
    let show = state
        .states
        .show(state.log.as_ref(), ShowId(show_id), point)
        .await
        .map_err(|e| state_error(e, boxoffice_domain::DomainError::ShowNotFound.into()))?;
    Ok(axum::Json(show))
}

/// Any stream at a point of its history (auditor): its aggregate as the domain folds it
/// (a show as in `/v1/audit/shows/{show_id}/state`).
#[utoipa::path(get, path = "/v1/audit/streams/{stream}/state", tag = "audit",
    security(("bearer" = [])),
    params(("stream" = String, Path, description = "A stream name such as `cinema-{uuid}` or `cities`."), PointParams),
    responses(
        (status = 200, description = "The stream's state at that point.", body = StreamState),
        (status = 404, description = "Not one of the log's stream names, or a stream with no events (`not_found`).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The stream's hash chain breaks at or before the point (`log_not_intact`).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Two points at once, or a point outside the stream's history.", body = crate::openapi::Problem, content_type = "application/problem+json")
    ))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Identity,
    Path(stream): Path<String>,
    Query(params): Query<PointParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let point = params.point()?;
    let not_found = || ApiError::not_found(&format!("the stream `{stream}`"));
    let name = StreamName::parse(&stream).ok_or_else(not_found)?;
    let folded = state
        .states
        .stream(state.log.as_ref(), name, point)
        .await
        .map_err(|e| state_error(e, not_found()))?;
    Ok(axum::Json(folded))
}
