//! Paying for a hold through the payment provider, and the provider's signed notifications
//! of the outcome: what turns a hold into an order when the customer pays elsewhere.

use super::holds::requester;
use crate::auth::Identity;
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::sandbox::{self, NotificationBody};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_commands::payments::{Checkout, Notification};
use boxoffice_domain::payment::PaymentMethod;
use boxoffice_domain::{HoldId, Money, OrderId, PaymentRefusal, ShowId};
use boxoffice_eventstore::Position;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "alipay", "return_url": "https://app.example.cn/paid"}))]
pub struct StartPayment {
    method: PaymentMethod,
    /// Where the provider sends the customer back when they have paid or given up, with
    /// `payment_id` and `status` added to its query: an http(s) URL on this server's origin
    /// or one of `BOXOFFICE_RETURN_ORIGINS`.
    return_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentStarted {
    payment_id: Uuid,
    show_id: Uuid,
    hold_id: HoldId,
    /// The hold's total: what the customer pays.
    amount: Money,
    method: PaymentMethod,
    /// Where the customer pays (the sandbox's pay page here).
    pay_url: String,
    /// Until when the provider takes the payment.
    expires_at: DateTime<Utc>,
    /// The log position after the start: `GET /v1/me/payments/{payment_id}` with it as
    /// `min_position` finds the payment.
    position: Position,
}

/// Start paying for a hold through the payment provider: answers the pay URL to send the
/// customer to. The hold becomes an order when the provider's notification says the
/// payment succeeded.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/holds/{hold_id}/payments",
    tag = "payments",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("hold_id" = Uuid, Path, description = "The hold to pay for."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the same payment."),
    ),
    request_body = StartPayment,
    responses(
        (status = 201, description = "The payment, waiting at the provider.", body = PaymentStarted),
        (status = 404, description = "Unknown show or hold, or someone else's hold.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hold was paid or released, or the show started.", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The hold expired (`hold_expired`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn start(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, hold_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<StartPayment>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    if let Some(url) = &body.return_url {
        let allowed = crate::PaymentSettings::origin_of(url).is_some_and(|origin| {
            crate::PaymentSettings::origin_of(state.sandbox.base_url()).as_ref() == Some(&origin)
                || state.settings.payments.return_origins.contains(&origin)
        });
        if !allowed || url.len() > 2048 {
            return Err(ApiError::validation(
                "return_url",
                "must be an http(s) URL of at most 2,048 bytes on this server's origin or \
                 one of BOXOFFICE_RETURN_ORIGINS",
            ));
        }
    }
    let context = headers.context(&caller);
    let started = state
        .payments
        .start(
            ShowId(show_id),
            HoldId(hold_id),
            requester,
            Checkout {
                method: body.method,
                description: format!("Boxoffice tickets (hold {hold_id})"),
                return_url: body.return_url,
            },
            &context,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(started.replayed),
        axum::Json(PaymentStarted {
            payment_id: started.payment_id,
            show_id,
            hold_id: HoldId(hold_id),
            amount: started.amount,
            method: body.method,
            pay_url: started.pay_url,
            expires_at: started.expires_at,
            position: started.position,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct NotifyAnswer {
    payment_id: Uuid,
    /// The payment's status after this notification: `pending`, `succeeded` or `failed`.
    status: &'static str,
    /// The order the payment made.
    order_id: Option<OrderId>,
    /// Why the payment could not buy its seats (it is then refunded): `seats_taken`,
    /// `hold_already_paid`, `show_cancelled` or `show_started`.
    refused: Option<PaymentRefusal>,
}

/// The payment provider's notification of a payment's outcome. Signed: `X-Sandbox-Timestamp`
/// (Unix seconds, within 5 minutes of now) and `X-Sandbox-Signature` (`v1=` and the hex
/// HMAC-SHA256 of `{timestamp}.{body}`). A notification delivered again changes nothing and
/// gets the same answer.
#[utoipa::path(
    post,
    path = "/v1/payments/notify",
    tag = "payments",
    params(
        ("X-Sandbox-Timestamp" = String, Header, description = "Unix seconds when the provider signed."),
        ("X-Sandbox-Signature" = String, Header, description = "`v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}`."),
    ),
    request_body(content = String, description = "The provider's JSON notification: `event_id`, `payment_id`, `status` (`succeeded` or `failed`), `amount`, `detail`, `occurred_at`.", content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded (or recorded before).", body = NotifyAnswer),
        (status = 400, description = "Signed, but not a notification.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, wrong or stale signature (`invalid_signature`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The amount is not the payment's.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let settings = &state.settings.payments;
    let forged = |why: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "Invalid signature",
        )
        .detail(why)
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp: i64 = header(sandbox::TIMESTAMP_HEADER)
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| forged("X-Sandbox-Timestamp is missing or not a number"))?;
    let signature = header(sandbox::SIGNATURE_HEADER)
        .ok_or_else(|| forged("X-Sandbox-Signature is missing"))?;
    if !sandbox::verify(&settings.sandbox_secret, timestamp, &body, signature) {
        return Err(forged(
            "the signature does not match the timestamp and body",
        ));
    }
    let age = Utc::now().timestamp().saturating_sub(timestamp).abs();
    if age > settings.notify_tolerance.num_seconds() {
        return Err(forged("the timestamp is outside the accepted window"));
    }
    let note: NotificationBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("not a notification: {e}")))?;
    let succeeded = match note.status.as_str() {
        "succeeded" => true,
        "failed" => false,
        other => {
            return Err(ApiError::validation(
                "status",
                format!("`{other}` is neither `succeeded` nor `failed`"),
            ))
        }
    };
    let answer = state
        .payments
        .notified(&Notification {
            provider: "sandbox".into(),
            correlation_id: header("x-request-id").map(str::to_owned),
            event_id: note.event_id,
            payment_id: note.payment_id,
            succeeded,
            amount: note.amount,
            detail: if note.detail.is_empty() {
                "failed".into()
            } else {
                note.detail
            },
        })
        .await?;
    Ok(axum::Json(NotifyAnswer {
        payment_id: answer.payment_id,
        status: answer.status,
        order_id: answer.order_id,
        refused: answer.refused,
    }))
}
