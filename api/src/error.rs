//! Every failure the API reports, as an RFC 9457 problem: `application/problem+json` with a
//! stable machine-readable `code` and the details a client needs to act on it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use boxoffice_commands::CommandError;
use boxoffice_domain::DomainError;
use serde_json::{json, Map, Value};

/// Every `code` a problem response can carry; the OpenAPI document lists them, and
/// [`ApiError::new`] refuses (in debug builds, so in every test) a code missing here.
pub const PROBLEM_CODES: &[&str] = &[
    // The request cannot be read.
    "malformed_json",
    "unreadable_body",
    "invalid_path",
    "invalid_query",
    "invalid_idempotency_key",
    "invalid_header",
    "payload_too_large",
    "unsupported_media_type",
    "method_not_allowed",
    "not_found",
    "web_app_not_built",
    // Who is asking.
    "unauthorized",
    "forbidden",
    // The request is readable but not valid.
    "validation_failed",
    "idempotency_key_reused",
    "unknown_id",
    // Decided by the show aggregate (`DomainError::code`).
    "show_not_found",
    "show_already_scheduled",
    "seats_unavailable",
    "show_started",
    "hold_not_found",
    "hold_expired",
    "hold_released",
    "hold_already_confirmed",
    "hold_not_expirable",
    "amount_mismatch",
    "duplicate_id",
    "order_not_found",
    "seats_not_in_order",
    "order_fully_refunded",
    "hold_exists",
    "waitlist_entry_exists",
    "waitlist_entry_not_found",
    "waitlist_entry_ended",
    "waitlist_cannot_be_met",
    "waitlist_entry_not_expirable",
    "show_cancelled",
    "city_not_found",
    "cinema_not_found",
    "hall_not_found",
    "movie_not_found",
    "retired",
    "show_overlaps",
    "promo_not_found",
    "promo_not_applicable",
    "promo_used_up",
    "promo_customer_limit",
    "payment_not_found",
    "ticket_not_found",
    "ticket_void",
    "already_checked_in",
    "check_in_not_open",
    "show_ended",
    "seats_checked_in",
    "seats_reserved",
    "not_released_yet",
    "queue_required",
    "onsale_conflict",
    // The waiting room.
    "onsale_not_found",
    "onsale_ended",
    "queue_ticket_not_found",
    "unknown_shows",
    // At the door, before the show is asked.
    "ticket_forged",
    "ticket_for_another_show",
    "invalid_signature",
    "payment_provider_error",
    "invalid_cursor",
    "email_taken",
    "invalid_credentials",
    "too_many_attempts",
    "too_many_streams",
    "invalid_refresh_token",
    "account_not_found",
    "quota_exceeded",
    // Auditors.
    "point_out_of_range",
    "log_not_intact",
    "verification_running",
    // The server cannot answer now.
    "service_unavailable",
    "overloaded",
    "request_timeout",
    "projection_lagging",
    "internal_error",
];

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        debug_assert!(
            PROBLEM_CODES.contains(&code),
            "problem code `{code}` is missing from PROBLEM_CODES"
        );
        Self {
            status,
            code,
            title,
            detail: title.to_owned(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.extra.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found")
            .detail(format!("{what} does not exist"))
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request").detail(detail)
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request is invalid",
        )
        .detail(format!("{field}: {message}"))
        .with("errors", [json!({ "field": field, "message": message })])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        )
        .detail(detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Temporarily unavailable",
        )
        .detail(detail)
        .retry_after(1)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
        )
        .detail("the server failed; the failure was logged")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("urn:boxoffice:problem:{}", self.code)),
        );
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        body.extend(self.extra);
        let mut response = (self.status, axum::Json(Value::Object(body))).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A live stream or long-poll past the process's cap (`BOXOFFICE_LIVE_STREAMS_MAX`).
impl From<boxoffice_projections::watchers::TooManyWatchers> for ApiError {
    fn from(full: boxoffice_projections::watchers::TooManyWatchers) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            "Too many live streams",
        )
        .detail(full.to_string())
        .retry_after(5)
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let detail = error.to_string();
        let code = error.code();
        let conflict = |title| ApiError::new(StatusCode::CONFLICT, code, title).detail(&detail);
        match error {
            DomainError::ShowNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Show not found").detail(detail)
            }
            DomainError::HoldNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Hold not found").detail(detail)
            }
            DomainError::OrderNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Order not found").detail(detail)
            }
            DomainError::Validation(errors) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "The request is invalid",
            )
            .detail(detail)
            .with("errors", errors),
            DomainError::SeatsUnavailable { seats, reason } => conflict("Seats unavailable")
                .with("unavailable_seats", seats)
                .with("reason", reason),
            DomainError::HoldExpired { expires_at } => {
                ApiError::new(StatusCode::GONE, code, "Hold expired")
                    .detail(detail)
                    .with("expires_at", expires_at)
            }
            DomainError::HoldAlreadyConfirmed { order_id } => {
                conflict("Hold already paid").with("order_id", order_id)
            }
            DomainError::HoldNotExpirable { expirable_at } => {
                conflict("Hold not expired yet").with("expirable_at", expirable_at)
            }
            DomainError::AmountMismatch { expected, paid } => conflict("Amount mismatch")
                .with("expected", expected)
                .with("paid", paid),
            DomainError::SeatsNotInOrder(seats) => {
                conflict("Seats not in order").with("seats", seats)
            }
            DomainError::ShowAlreadyScheduled => conflict("Show already scheduled"),
            DomainError::ShowStarted => conflict("Show has started"),
            DomainError::HoldReleased => conflict("Hold released"),
            DomainError::DuplicateId(_) => conflict("Identifier in use"),
            DomainError::OrderFullyRefunded => conflict("Order already refunded"),
            DomainError::WaitlistEntryExists { entry_id } => {
                conflict("Already on the waiting list").with("entry_id", entry_id)
            }
            DomainError::WaitlistEntryNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Waiting-list entry not found")
                    .detail(detail)
            }
            DomainError::WaitlistEntryEnded => conflict("Waiting-list entry ended"),
            DomainError::WaitlistCannotBeMet => conflict("Waiting cannot help"),
            DomainError::WaitlistEntryNotExpirable { expirable_at } => {
                conflict("Waiting-list entry not expired yet").with("expirable_at", expirable_at)
            }
            DomainError::HoldExists { hold_id } => {
                conflict("Customer already holds seats").with("hold_id", hold_id)
            }
            DomainError::ShowCancelled => conflict("Show cancelled"),
            DomainError::CityNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "City not found").detail(detail)
            }
            DomainError::CinemaNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Cinema not found").detail(detail)
            }
            DomainError::HallNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Hall not found").detail(detail)
            }
            DomainError::MovieNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Movie not found").detail(detail)
            }
            DomainError::Retired(_) => conflict("Retired"),
            DomainError::PromoNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Promo code not found").detail(detail)
            }
            DomainError::PromoNotApplicable(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "Promo code not valid here",
            )
            .detail(detail),
            DomainError::PromoUsedUp => conflict("Promo code used up"),
            DomainError::PromoCustomerLimit { limit } => {
                conflict("Promo code already used").with("limit", limit)
            }
            DomainError::PaymentNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Payment not found").detail(detail)
            }
            DomainError::ShowOverlaps {
                show_id,
                starts_at,
                free_at,
            } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "The hall is busy then",
            )
            .detail(&detail)
            .with(
                "errors",
                [json!({ "field": "starts_at", "message": detail })],
            )
            .with("conflicting_show_id", show_id)
            .with("busy_from", starts_at)
            .with("busy_until", free_at),
            DomainError::TicketNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, code, "Ticket not found").detail(detail)
            }
            DomainError::TicketVoid => conflict("Ticket void"),
            DomainError::AlreadyCheckedIn { at, door } => conflict("Already checked in")
                .with("checked_in_at", at)
                .with("door", door),
            DomainError::CheckInNotOpen { opens_at } => {
                conflict("Doors not open yet").with("opens_at", opens_at)
            }
            DomainError::ShowEnded => conflict("Show has ended"),
            DomainError::SeatsCheckedIn(seats) => {
                conflict("Seats already let in").with("seats", seats)
            }
            DomainError::SeatsReserved(seats) => conflict("Seats kept for wheelchair users")
                .with("reserved_seats", seats)
                .with("reserved_for", "wheelchair"),
            DomainError::NotReleasedYet { release_at } => {
                conflict("Accessible seats not due for release").with("release_at", release_at)
            }
            DomainError::QueueRequired {
                onsale_id,
                opens_at,
                ..
            } => ApiError::new(StatusCode::FORBIDDEN, code, "Queue required")
                .detail(detail)
                .with("onsale_id", onsale_id)
                .with("opens_at", opens_at),
            DomainError::OnSaleConflict { onsale_id } => {
                conflict("Show already in a waiting room").with("onsale_id", onsale_id)
            }
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Rejected(domain) => domain.into(),
            CommandError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
            )
            .detail("this Idempotency-Key was already used for a different request; use a new key"),
            CommandError::Unavailable(reason) => ApiError::unavailable(reason),
            CommandError::Failed(reason) => ApiError::internal(reason),
            CommandError::Forbidden(reason) => ApiError::forbidden(reason),
        }
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(error: tokio_postgres::Error) -> Self {
        match boxoffice_eventstore::postgres::db_error(error) {
            boxoffice_eventstore::EventLogError::Unavailable(reason) => {
                ApiError::unavailable(reason)
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        ApiError::unavailable(format!("no database connection: {error}"))
    }
}

impl From<boxoffice_projections::ProjectionError> for ApiError {
    fn from(error: boxoffice_projections::ProjectionError) -> Self {
        match error {
            boxoffice_projections::ProjectionError::Log(error) => error.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<boxoffice_eventstore::EventLogError> for ApiError {
    fn from(error: boxoffice_eventstore::EventLogError) -> Self {
        match error {
            boxoffice_eventstore::EventLogError::Unavailable(reason) => {
                ApiError::unavailable(reason)
            }
            other => ApiError::internal(other),
        }
    }
}
