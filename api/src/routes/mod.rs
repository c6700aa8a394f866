//! The routes, split by resource. Every route is registered through `routes!` from a handler
//! carrying `#[utoipa::path]`, so the OpenAPI document is built from the same list as the
//! router and cannot lack a route.

mod accounts;
mod audit;
mod catalogue;
mod discovery;
mod exchanges;
mod health;
mod holds;
mod live;
mod meta;
mod onsales;
mod orders;
mod payments;
mod projections;
mod promos;
mod reports;
mod sandbox;
mod shows;
mod tickets;
mod waitlist;
mod webhooks;

use crate::error::ApiError;
use crate::{AppState, Limits};
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::{Extension, Router};
use boxoffice_eventstore::Position;
use std::sync::Arc;
use std::time::Duration;
use tower::{BoxError, ServiceBuilder};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// Bodies of ordinary commands are small; a show's layout may list thousands of seats.
const BODY_LIMIT: usize = 64 * 1024;
const LAYOUT_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Scrapes (and `GET /v1/projections`) read the projection checkpoints and the log; a few at
/// once is plenty.
const METRICS_IN_FLIGHT: usize = 4;

/// Every route with its description, before state and the outer layers are added.
pub fn described(limits: &Limits) -> OpenApiRouter<AppState> {
    let command = |r| limited(r, limits.commands_in_flight, limits.request_timeout);
    let query = |r| limited(r, limits.queries_in_flight, limits.request_timeout);
    let audit = |r| limited(r, limits.audit_in_flight, limits.request_timeout);
    let (schemas, paths, schedule) = routes!(shows::schedule);
    let schedule = (
        schemas,
        paths,
        schedule.layer(DefaultBodyLimit::max(LAYOUT_BODY_LIMIT)),
    );
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(meta::docs))
        .routes(limited(
            routes!(meta::metrics),
            METRICS_IN_FLIGHT,
            limits.request_timeout,
        ))
        .routes(limited(
            routes!(projections::projections),
            METRICS_IN_FLIGHT,
            limits.request_timeout,
        ))
        .routes(command(schedule))
        .routes(command(routes!(shows::cancel)))
        .routes(command(routes!(shows::release_accessible)))
        .routes(command(routes!(catalogue::add_city)))
        .routes(command(routes!(
            catalogue::update_city,
            catalogue::retire_city
        )))
        .routes(command(routes!(catalogue::open_cinema)))
        .routes(query(routes!(catalogue::cinemas)))
        .routes(command(routes!(
            catalogue::update_cinema,
            catalogue::retire_cinema
        )))
        .routes(query(routes!(catalogue::cinema)))
        .routes(command(routes!(catalogue::add_hall)))
        .routes(command(routes!(
            catalogue::update_hall,
            catalogue::retire_hall
        )))
        .routes(command(routes!(catalogue::add_movie)))
        .routes(command(routes!(
            catalogue::update_movie,
            catalogue::retire_movie
        )))
        .routes(command(routes!(accounts::register)))
        .routes(command(routes!(accounts::login)))
        .routes(command(routes!(accounts::refresh)))
        .routes(query(routes!(accounts::me, accounts::update_me)))
        .routes(query(routes!(accounts::favorites)))
        .routes(command(routes!(
            accounts::add_favorite,
            accounts::remove_favorite
        )))
        .routes(command(routes!(accounts::set_roles)))
        .routes(command(routes!(
            accounts::create_api_key,
            accounts::api_keys
        )))
        .routes(command(routes!(accounts::revoke_api_key)))
        .routes(command(routes!(webhooks::register, webhooks::list)))
        .routes(command(routes!(webhooks::find, webhooks::disable)))
        .routes(query(routes!(webhooks::deliveries)))
        .routes(query(routes!(discovery::cities)))
        // GET beside `catalogue::add_movie`'s POST on `/v1/movies`: axum and the document
        // merge the two methods of the one path.
        .routes(query(routes!(discovery::movies)))
        .routes(query(routes!(discovery::city_movies)))
        .routes(query(routes!(discovery::search)))
        .routes(query(routes!(discovery::movie)))
        .routes(query(routes!(discovery::movie_shows)))
        .routes(query(routes!(discovery::show)))
        .routes(query(routes!(discovery::cinema_schedule)))
        .routes(query(routes!(shows::seat_map)))
        .routes(query(routes!(shows::seat_statuses)))
        .routes(query(routes!(live::live)))
        .routes(command(routes!(holds::hold)))
        .routes(command(routes!(holds::release)))
        .routes(command(routes!(holds::confirm)))
        .routes(command(routes!(orders::refund)))
        .routes(query(routes!(orders::quote)))
        .routes(command(routes!(payments::start)))
        .routes(command(routes!(payments::notify)))
        .routes(command(routes!(exchanges::exchange)))
        .routes(command(routes!(exchanges::transfer)))
        .routes(command(routes!(promos::create_promo)))
        .routes(query(routes!(promos::promo)))
        .routes(query(routes!(sandbox::pay_page, sandbox::pay)))
        .routes(query(routes!(orders::mine)))
        .routes(query(routes!(orders::find)))
        .routes(query(routes!(orders::my_order)))
        .routes(query(routes!(orders::my_hold)))
        .routes(query(routes!(orders::my_payment)))
        .routes(query(routes!(tickets::order_tickets)))
        .routes(query(routes!(tickets::order_tickets_pdf)))
        .routes(routes!(tickets::public_key))
        .routes(command(routes!(tickets::check_in)))
        .routes(query(routes!(tickets::attendance_of)))
        .routes(query(routes!(reports::sales)))
        .routes(query(routes!(reports::box_office)))
        .routes(query(routes!(reports::funnel)))
        .routes(query(routes!(reports::timeline)))
        .routes(command(routes!(waitlist::join)))
        .routes(limited(
            routes!(waitlist::follow),
            limits.queries_in_flight,
            limits.request_timeout + Duration::from_secs(waitlist::MAX_WAIT_SECONDS),
        ))
        .routes(command(routes!(waitlist::leave)))
        .routes(command(routes!(onsales::create, onsales::list)))
        .routes(query(routes!(onsales::find)))
        .routes(query(routes!(onsales::of_show)))
        .routes(command(routes!(onsales::end)))
        .routes(command(routes!(onsales::join)))
        .routes(limited(
            routes!(onsales::follow),
            limits.queue_follows_in_flight,
            limits.request_timeout + Duration::from_secs(onsales::MAX_WAIT_SECONDS),
        ))
        .routes(audit(routes!(audit::log::stream)))
        .routes(audit(routes!(audit::log::events)))
        .routes(audit(routes!(audit::log::export)))
        .routes(audit(routes!(audit::state::show)))
        .routes(audit(routes!(audit::state::stream)))
        .routes(audit(routes!(audit::seals::seals)))
        .routes(audit(routes!(audit::actions::actions)))
        .routes(audit(routes!(audit::verifications::start)))
        .routes(audit(routes!(audit::verifications::verification)))
        .routes(routes!(audit::seals::public_key))
}

/// The OpenAPI document of this server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::openapi::complete(described(&Limits::default()).into_openapi())
}

pub fn router(state: AppState) -> Router {
    let (router, api) = described(&state.settings.limits).split_for_parts();
    let api = Arc::new(crate::openapi::complete(api));
    let keys = axum::middleware::from_fn_with_state(state.clone(), crate::api_keys::enforce);
    let limits = state.settings.limits.clone();
    router
        .merge(crate::web::router(&state.settings.web_dir, move |r| {
            limit_method(r, limits.queries_in_flight, limits.request_timeout)
        }))
        .fallback(not_found)
        .layer(keys)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(Extension(api))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::from_fn(crate::web::security_headers))
        .with_state(state)
}

/// Every request's log lines carry its id (the `X-Request-Id` it sent, or the one generated).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        request_id,
    )
}

/// At most `in_flight` requests of this route at once, each answered within `timeout`; over
/// either, a 503 problem with `Retry-After`. A command cut off by the timeout still completes
/// in its writer, and a retry with the same `Idempotency-Key` returns its outcome.
fn limited(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
    in_flight: usize,
    timeout: Duration,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, limit_method(router, in_flight, timeout))
}

fn limit_method(
    router: MethodRouter<AppState>,
    in_flight: usize,
    timeout: Duration,
) -> MethodRouter<AppState> {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(limit_problem))
            .load_shed()
            .concurrency_limit(in_flight)
            .timeout(timeout),
    )
}

async fn limit_problem(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            "Request timed out",
        )
        .detail("the server did not finish in time; retry with the same Idempotency-Key")
        .retry_after(1)
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "Too busy")
            .detail("too many requests of this kind are in flight; retry shortly")
            .retry_after(1)
    } else {
        ApiError::internal(error)
    }
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
/// Returns the position the read model has reached. A position that no command handed out
/// is refused (400) rather than waited for.
/// Refuses (403) staff of some cinemas reading about a show of another (or of none); no
/// lookup for anyone else.
async fn require_show_cinema(
    state: &AppState,
    caller: &crate::auth::Identity,
    show_id: uuid::Uuid,
) -> Result<(), ApiError> {
    if caller.cinemas.is_none() {
        return Ok(());
    }
    let client = state.pool.get().await?;
    let show =
        boxoffice_projections::catalogue::show_detail(&client, show_id, chrono::Utc::now()).await?;
    caller.require_cinema(show.and_then(|s| s.cinema).map(|c| c.cinema_id))
}

async fn read_position(
    state: &AppState,
    projector: &str,
    min_position: Option<Position>,
) -> Result<Position, ApiError> {
    let reached = state.projections.position(projector).unwrap_or_default();
    let Some(wanted) = min_position else {
        return Ok(reached);
    };
    if reached >= wanted {
        return Ok(reached);
    }
    if !state.log.is_recorded(wanted).await? {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("min_position {wanted} is not a position of this log"),
        ));
    }
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

/// The comma-separated items of every `name` header, trimmed (`If-None-Match`,
/// `Cache-Control`, `Accept`).
fn header_items<'a>(
    headers: &'a HeaderMap,
    name: header::HeaderName,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// Whether the client's `If-None-Match` names `tag` (weak or strong).
fn etag_matches(headers: &HeaderMap, tag: &str) -> bool {
    header_items(headers, header::IF_NONE_MATCH).any(|v| v.trim_start_matches("W/") == tag)
}

/// 304 Not Modified with the ETag the client has.
fn not_modified(tag: String) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
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

/// A count the log keeps as a PostgreSQL `bigint` (a version, a seal's number): the API's
/// schema says int64, so a larger number is refused rather than read past the schema.
fn log_number(name: &str, value: Option<u64>) -> Result<Option<u64>, ApiError> {
    match value {
        Some(n) if n > i64::MAX as u64 => Err(ApiError::bad_request(
            "invalid_query",
            format!("{name} must be at most {}", i64::MAX),
        )),
        other => Ok(other),
    }
}

/// Marks a response as the remembered answer to an earlier try.
fn replayed_header(replayed: bool) -> [(&'static str, &'static str); 1] {
    [(
        "idempotent-replayed",
        if replayed { "true" } else { "false" },
    )]
}
