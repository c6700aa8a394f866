//! The built-in sandbox provider's pay page: what a customer sees at the provider, with
//! buttons to pay or fail; pressing one makes the sandbox send its signed notification
//! (api/src/payments). It stands in for Alipay, WeChat Pay and card acquirers.

use crate::error::ApiError;
use crate::extract::Path;
use crate::openapi::Problem;
use crate::sandbox::Completed;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Html;
use axum::response::IntoResponse;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

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
        let back = payment.return_url.as_deref().map_or(String::new(), |url| {
            format!(
                r#"<p><a href="{}">Back to the merchant</a></p>"#,
                escape(&back_to(url, payment_id, &payment.status))
            )
        });
        format!("<p>This payment is {}.</p>{back}", escape(&payment.status))
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
        (status = 303, description = "Done, and the payment named a return URL: back to it, with `payment_id` and `status` (`succeeded`, `failed`) in its query.", content_type = "text/html"),
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
        Completed::Notified {
            status,
            answer,
            return_url: Some(url),
        } => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, back_to(&url, payment_id, &status))],
            Html(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sandbox payment</title></head>\
                 <body><h1>Payment {status}</h1><p>The merchant was notified (answer {answer}).</p></body></html>"
            )),
        )
            .into_response()),
        Completed::Notified { status, answer, .. } => Ok(Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sandbox payment</title></head>\
             <body><h1>Payment {status}</h1><p>The merchant was notified (answer {answer}).</p></body></html>"
        ))
        .into_response()),
    }
}

/// The merchant's return URL with what happened added to its query, as providers do.
fn back_to(url: &str, payment_id: Uuid, status: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("payment_id", &payment_id.to_string())
                .append_pair("status", status);
            url.into()
        }
        // Checked when the payment started; kept as given if it no longer parses.
        Err(_) => url.to_owned(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
