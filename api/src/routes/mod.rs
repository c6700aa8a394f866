//! The routes, split by resource.

mod audit;
mod health;
mod holds;
mod orders;
mod reports;
mod shows;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use boxoffice_eventstore::Position;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Bodies of ordinary commands are small; a show's layout may list thousands of seats.
const BODY_LIMIT: usize = 64 * 1024;
const LAYOUT_BODY_LIMIT: usize = 4 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/v1/shows",
            post(shows::schedule).layer(DefaultBodyLimit::max(LAYOUT_BODY_LIMIT)),
        )
        .route("/v1/shows/{show_id}/seats", get(shows::seat_map))
        .route("/v1/shows/{show_id}/holds", post(holds::hold))
        .route(
            "/v1/shows/{show_id}/holds/{hold_id}",
            delete(holds::release),
        )
        .route(
            "/v1/shows/{show_id}/holds/{hold_id}/confirm",
            post(holds::confirm),
        )
        .route(
            "/v1/shows/{show_id}/orders/{order_id}/refunds",
            post(orders::refund),
        )
        .route("/v1/me/orders", get(orders::mine))
        .route("/v1/reports/sales", get(reports::sales))
        .route("/v1/audit/streams/{stream}", get(audit::stream))
        .route("/v1/audit/events", get(audit::events))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("this resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .detail("this resource does not accept that method")
}

/// Read-your-writes: waits until `projector` has applied the log up to `min_position`.
/// Returns the position the read model has reached.
async fn read_position(
    state: &AppState,
    projector: &str,
    min_position: Option<Position>,
) -> Result<Position, ApiError> {
    let Some(wanted) = min_position else {
        return Ok(state.projections.position(projector).unwrap_or_default());
    };
    let reached = state
        .projections
        .wait_for(projector, wanted, state.settings.read_wait)
        .await;
    if reached >= wanted {
        Ok(reached)
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "projection_lagging",
            "Read model behind",
        )
        .detail(format!(
            "the {projector} read model has reached {reached}, not yet {wanted}; retry shortly"
        ))
        .with("position", reached)
        .retry_after(1))
    }
}

/// A page size from the query string.
fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {max}"),
        )),
    }
}

/// Marks a response as the remembered answer to an earlier try.
fn replayed_header(replayed: bool) -> [(&'static str, &'static str); 1] {
    [(
        "idempotent-replayed",
        if replayed { "true" } else { "false" },
    )]
}
