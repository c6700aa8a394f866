//! Requests about payments: starting one for a hold, the sandbox provider's pay page (what a
//! customer presses), the provider's signed notification, and promo codes. The sandbox is
//! a form and a signed body rather than JSON with a token, which is easy to get wrong by hand.

use super::Request;
use crate::server::Api;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The sandbox's pay page after a button was pressed.
#[derive(Debug)]
pub struct SandboxPage {
    pub status: StatusCode,
    pub html: String,
}

impl Api {
    /// `POST /v1/shows/{show}/holds/{hold}/payments` with `{"method": method}`.
    pub fn start_payment(&self, token: &str, show: &str, hold: &str, method: &str) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/holds/{hold}/payments"),
            token,
            &json!({ "method": method }),
        )
    }

    /// Presses *Pay* (`"succeed"`) or *Fail* (`"fail"`) on the sandbox's pay page at
    /// `pay_url`, as the customer's browser would (a form POST); the sandbox then notifies
    /// the server before it answers.
    pub async fn press_in_sandbox(&self, pay_url: &str, outcome: &str) -> SandboxPage {
        let response = self
            .http()
            .post(pay_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("outcome={outcome}"))
            .send()
            .await
            .expect("the sandbox answers");
        SandboxPage {
            status: response.status(),
            html: response.text().await.unwrap_or_default(),
        }
    }

    /// `POST /v1/payments/notify`, as the provider sends it: `body` exactly as signed.
    pub fn notify_payment(&self, timestamp: i64, signature: &str, body: &str) -> Request<'_> {
        self.request(Method::POST, "/v1/payments/notify")
            .header("x-sandbox-timestamp", &timestamp.to_string())
            .header("x-sandbox-signature", signature)
            .json_text(body)
    }

    /// `POST /v1/promos`.
    pub fn create_promo(&self, staff: &str, promo: &Value) -> Request<'_> {
        self.post_request("/v1/promos", staff, promo)
    }

    /// `GET /v1/promos/{code}`.
    pub fn promo(&self, staff: &str, code: &str) -> Request<'_> {
        self.get_request(format!("/v1/promos/{code}")).token(staff)
    }
}
