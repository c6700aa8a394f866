//! Paying through the provider, its notifications, exchanges, promo codes, and the
//! sandbox provider's pay page.

use super::holds::requester;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::payments::{self, Completed, NotificationBody};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use boxoffice_commands::payments::Notification;
use boxoffice_domain::payment::PaymentMethod;
use boxoffice_domain::promo::{Discount, PromoCode, PromoScope, PromoTerms};
use boxoffice_domain::show::SeatMove;
use boxoffice_domain::{
    HoldId, Money, OrderId, PaymentRefusal, SeatId, ShowCommand, ShowEvent, ShowId,
};
use boxoffice_eventstore::Position;
use boxoffice_projections::{order_history, seat_map};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "alipay"}))]
pub struct StartPayment {
    method: PaymentMethod,
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
    let context = headers.context(&caller);
    let started = state
        .payments
        .start(
            ShowId(show_id),
            HoldId(hold_id),
            requester,
            body.method,
            format!("Boxoffice tickets (hold {hold_id})"),
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
    let timestamp: i64 = header(payments::TIMESTAMP_HEADER)
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| forged("X-Sandbox-Timestamp is missing or not a number"))?;
    let signature = header(payments::SIGNATURE_HEADER)
        .ok_or_else(|| forged("X-Sandbox-Signature is missing"))?;
    if !payments::verify(&settings.sandbox_secret, timestamp, &body, signature) {
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"give_back": ["A1"], "take": ["B5"]}))]
pub struct Exchange {
    /// Seats of the order to give back (1 to 10).
    give_back: Vec<SeatId>,
    /// The free seats to take instead, one for each seat given back, in the same order.
    take: Vec<SeatId>,
}

#[derive(Serialize, ToSchema)]
pub struct Exchanged {
    exchange_id: Uuid,
    order_id: OrderId,
    show_id: Uuid,
    #[schema(value_type = Vec<Object>)]
    moves: Vec<SeatMove>,
    /// Charged through the payment provider (dearer seats).
    charge: Money,
    /// Refunded through the payment provider (cheaper seats).
    refund: Money,
    position: Position,
}

/// Move seats of an order to other free seats of the same show in one step; the price
/// difference is charged or refunded through the order's payment.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/orders/{order_id}/exchanges",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show."),
        ("order_id" = Uuid, Path, description = "The order."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer."),
    ),
    request_body = Exchange,
    responses(
        (status = 201, description = "Exchanged.", body = Exchanged),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats not in the order, new seats taken, or the show started.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad seat lists.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<Exchange>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    let context = headers.context(&caller);
    let command = ShowCommand::ExchangeSeats {
        order_id: OrderId(order_id),
        exchange_id: context.derive_id_in(&ShowId(show_id).stream(), "exchange"),
        requester,
        give_back: body.give_back,
        take: body.take,
    };
    let outcome = state
        .writers
        .execute(ShowId(show_id), command, context)
        .await?;
    let exchanged = outcome.expect("SeatsExchanged", |e| match e {
        ShowEvent::SeatsExchanged(e) => Some(e),
        _ => None,
    })?;
    Ok((
        StatusCode::CREATED,
        super::replayed_header(outcome.replayed),
        axum::Json(Exchanged {
            exchange_id: exchanged.exchange_id,
            order_id: exchanged.order_id,
            show_id,
            moves: exchanged.moves.clone(),
            charge: exchanged.charge.clone(),
            refund: exchanged.refund.clone(),
            position: outcome.position,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"give_back": ["A1", "A2"], "to_show_id": "5eed0000-0000-4000-8000-000000000002", "take": ["C5", "C6"]}))]
pub struct NewTransfer {
    /// Seats of the order to give back (1 to 10).
    give_back: Vec<SeatId>,
    /// Another show of the same movie.
    to_show_id: Uuid,
    /// Free seats of that show, as many as are given back.
    take: Vec<SeatId>,
}

#[derive(Serialize, ToSchema)]
pub struct Transferred {
    exchange_id: Uuid,
    from_show_id: Uuid,
    from_order_id: OrderId,
    to_show_id: Uuid,
    /// The new order on the other show.
    order_id: OrderId,
    hold_id: HoldId,
    seats: Vec<SeatId>,
    /// What the seats given back had been paid: it pays for the new ones.
    credit: Money,
    /// Charged through the order's payment (dearer seats).
    charge: Money,
    /// Refunded through the order's payment (cheaper seats).
    refund: Money,
    position: Position,
}

/// Exchange seats of an order for seats of another show of the same movie: the new seats
/// are held, the old ones leave the order, and the new order is paid with their value, the
/// difference charged or refunded. If the last step fails, the first two are undone.
#[utoipa::path(
    post,
    path = "/v1/shows/{show_id}/orders/{order_id}/transfers",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("show_id" = Uuid, Path, description = "The show of the order."),
        ("order_id" = Uuid, Path, description = "The order."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer."),
    ),
    request_body = NewTransfer,
    responses(
        (status = 201, description = "Exchanged: the new order.", body = Transferred),
        (status = 404, description = "Unknown show or order, or someone else's order.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats not in the order, new seats taken, a hold already there, or a show started.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad seat lists, or a show of another movie.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((show_id, order_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<NewTransfer>,
) -> Result<impl IntoResponse, ApiError> {
    let requester = requester(&caller)?;
    if body.give_back.is_empty() || body.give_back.len() > boxoffice_domain::MAX_SEATS_PER_HOLD {
        return Err(ApiError::validation("give_back", "give back 1 to 10 seats"));
    }
    if body.take.len() != body.give_back.len() {
        return Err(ApiError::validation(
            "take",
            "name one new seat for each seat given back",
        ));
    }
    if body.to_show_id == show_id {
        return Err(ApiError::validation(
            "to_show_id",
            "to exchange within the show, use .../exchanges",
        ));
    }
    let client = state.pool.get().await?;
    let movies = seat_map::movies_of_shows(&client, &[show_id, body.to_show_id]).await?;
    let movie_of = |id: Uuid| movies.iter().find(|m| m.show_id == id).map(|m| m.movie_id);
    let (Some(from_movie), Some(to_movie)) = (movie_of(show_id), movie_of(body.to_show_id)) else {
        return Err(boxoffice_domain::DomainError::ShowNotFound.into());
    };
    if from_movie != to_movie {
        return Err(ApiError::validation(
            "to_show_id",
            "an exchange is to another show of the same movie",
        ));
    }
    let customer_id = if caller.has(Role::Staff) {
        let owner = order_history::customer_of_order(&client, order_id)
            .await?
            .ok_or(boxoffice_domain::DomainError::OrderNotFound)?;
        boxoffice_domain::CustomerId(owner)
    } else {
        boxoffice_domain::CustomerId(caller.sub.clone())
    };
    drop(client);
    let context = headers.context(&caller);
    let done = state
        .exchanges
        .transfer(
            boxoffice_commands::exchanges::Transfer {
                from_show: ShowId(show_id),
                order_id: OrderId(order_id),
                requester,
                customer_id,
                give_back: body.give_back,
                to_show: ShowId(body.to_show_id),
                take: body.take,
            },
            &context,
        )
        .await?;
    let into = done
        .into
        .events
        .iter()
        .find_map(|e| match e {
            ShowEvent::OrderTransferredIn(e) => Some(e),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a transfer produced no OrderTransferredIn event"))?;
    let seats = done
        .into
        .events
        .iter()
        .find_map(|e| match e {
            ShowEvent::HoldConfirmed(e) => Some(e.seats.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        axum::Json(Transferred {
            exchange_id: done.exchange_id,
            from_show_id: show_id,
            from_order_id: OrderId(order_id),
            to_show_id: body.to_show_id,
            order_id: into.order_id,
            hold_id: into.hold_id,
            seats,
            credit: into.credit.clone(),
            charge: into.charge.clone(),
            refund: into.refund.clone(),
            position: done.into.position,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "SPRING25",
    "discount": {"percent": 25},
    "scope": {"movie_id": null, "cinema_id": null, "show_id": null},
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2027-01-01T00:00:00Z",
    "usage_limit": 100,
    "per_customer_limit": 1
}))]
pub struct NewPromo {
    /// 3 to 32 letters, digits, `-` or `_`; case does not matter.
    #[schema(value_type = String)]
    code: PromoCode,
    discount: Discount,
    #[serde(default, deserialize_with = "object")]
    scope: PromoScope,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    usage_limit: u32,
    per_customer_limit: u32,
}

#[derive(Serialize, ToSchema)]
pub struct PromoView {
    #[schema(value_type = String)]
    code: PromoCode,
    terms: PromoTerms,
    /// Uses held now (holds and paid orders).
    uses: usize,
}

/// Create a promo code (staff).
#[utoipa::path(
    post,
    path = "/v1/promos",
    tag = "promos",
    security(("bearer" = [])),
    request_body = NewPromo,
    responses(
        (status = 201, description = "Created.", body = PromoView),
        (status = 200, description = "It existed with the same terms.", body = PromoView),
        (status = 409, description = "The code exists with other terms (`duplicate_id`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_promo(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewPromo>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff, Role::Admin])?;
    let context = headers.context(&caller);
    let terms = PromoTerms {
        discount: body.discount,
        scope: body.scope,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        usage_limit: body.usage_limit,
        per_customer_limit: body.per_customer_limit,
    };
    let created = state
        .promos
        .create(body.code.clone(), terms.clone(), &context)
        .await?;
    let uses = state.promos.get(&body.code).await?.uses();
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(PromoView {
            code: body.code,
            terms,
            uses,
        }),
    ))
}

/// A promo code's terms and how often it is used now (staff).
#[utoipa::path(
    get,
    path = "/v1/promos/{code}",
    tag = "promos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The code.")),
    responses(
        (status = 200, description = "The code.", body = PromoView),
        (status = 404, description = "No such code.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn promo(
    State(state): State<AppState>,
    caller: Identity,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff, Role::Admin, Role::Analyst])?;
    let code = PromoCode::parse(&code)
        .ok_or_else(|| ApiError::from(boxoffice_domain::DomainError::PromoNotFound))?;
    let promo = state.promos.get(&code).await?;
    let terms = promo
        .terms()
        .cloned()
        .ok_or(boxoffice_domain::DomainError::PromoNotFound)?;
    Ok(axum::Json(PromoView {
        code,
        terms,
        uses: promo.uses(),
    }))
}

/// The sandbox provider's pay page: what is paid, and buttons to pay or fail.
#[utoipa::path(
    get,
    path = "/sandbox/pay/{payment_id}",
    tag = "sandbox",
    params(("payment_id" = Uuid, Path, description = "The payment.")),
    responses(
        (status = 200, description = "The pay page.", content_type = "text/html"),
        (status = 404, description = "No such payment.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn pay_page(
    State(state): State<AppState>,
    Path(payment_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let payment = state
        .sandbox
        .payment(payment_id)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .ok_or(boxoffice_domain::DomainError::PaymentNotFound)?;
    let buttons = if payment.status == "pending" && Utc::now() < payment.expires_at {
        format!(
            r#"<form method="post" action="/sandbox/pay/{payment_id}">
<button name="outcome" value="succeed">Pay</button>
<button name="outcome" value="fail">Fail</button>
</form>"#
        )
    } else {
        format!("<p>This payment is {}.</p>", escape(&payment.status))
    };
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox payment</title></head>
<body>
<h1>Sandbox payment provider</h1>
<p>{description}</p>
<p>Amount: {amount} minor units of {currency}, by {method}</p>
<p>Status: {status}; pay before {expires}</p>
{buttons}
</body></html>"#,
        description = escape(&payment.description),
        amount = payment.amount_minor,
        currency = escape(&payment.currency),
        method = escape(&payment.method),
        status = escape(&payment.status),
        expires = payment.expires_at.to_rfc3339(),
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayForm {
    /// `succeed` or `fail`.
    outcome: String,
}

/// The pay page's buttons: the sandbox records the outcome and notifies the server.
#[utoipa::path(
    post,
    path = "/sandbox/pay/{payment_id}",
    tag = "sandbox",
    params(("payment_id" = Uuid, Path, description = "The payment.")),
    request_body(content = PayForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Done: the page says what the server answered.", content_type = "text/html"),
        (status = 404, description = "No such payment.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The payment is no longer pending, or expired.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither `succeed` nor `fail`.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn pay(
    State(state): State<AppState>,
    Path(payment_id): Path<Uuid>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: PayForm = serde_urlencoded::from_bytes(&body)
        .map_err(|e| ApiError::bad_request("unreadable_body", format!("not a pay form: {e}")))?;
    let succeed = match form.outcome.as_str() {
        "succeed" => true,
        "fail" => false,
        _ => {
            return Err(ApiError::validation(
                "outcome",
                "must be `succeed` or `fail`",
            ))
        }
    };
    match state
        .sandbox
        .complete(payment_id, succeed)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
    {
        Completed::NotFound => Err(boxoffice_domain::DomainError::PaymentNotFound.into()),
        Completed::Closed(why) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "payment_provider_error",
            "Payment closed",
        )
        .detail(why)),
        Completed::Notified { status, answer } => Ok(Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sandbox payment</title></head>\
             <body><h1>Payment {status}</h1><p>The merchant was notified (answer {answer}).</p></body></html>"
        ))),
    }
}

/// A JSON object only: serde would also read a struct from an array of its fields.
fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match serde_json::Value::deserialize(deserializer)? {
        value @ serde_json::Value::Object(_) => {
            serde_json::from_value(value).map_err(D::Error::custom)
        }
        _ => Err(D::Error::custom("expected an object")),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
