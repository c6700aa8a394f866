//! Requests about holds: chosen seats, best available, with a promo code; releasing one; and
//! the counter (staff) confirming one. Nearly every end-to-end test holds seats, so the
//! body shapes docs/api.md gives for them live here and nowhere else.

use super::Request;
use crate::server::Api;
use serde_json::{json, Value};

impl Api {
    /// `POST /v1/shows/{show}/holds` with `{"seats": [...]}`.
    pub fn hold_seats(&self, token: &str, show: &str, seats: &[impl AsRef<str>]) -> Request<'_> {
        self.hold(token, show, &json!({ "seats": names(seats) }))
    }

    /// `POST /v1/shows/{show}/holds` with `{"seats": [...], "accessible": true}`: a wheelchair
    /// user's party, which may take the seats kept for it.
    pub fn hold_for_wheelchair(
        &self,
        token: &str,
        show: &str,
        seats: &[impl AsRef<str>],
    ) -> Request<'_> {
        self.hold(
            token,
            show,
            &json!({ "seats": names(seats), "accessible": true }),
        )
    }

    /// `POST /v1/shows/{show}/holds` with `{"seats": [...], "promo_code": code}`.
    pub fn hold_seats_with_code(
        &self,
        token: &str,
        show: &str,
        seats: &[impl AsRef<str>],
        code: &str,
    ) -> Request<'_> {
        self.hold(
            token,
            show,
            &json!({ "seats": names(seats), "promo_code": code }),
        )
    }

    /// `POST /v1/shows/{show}/holds` with `{"count": n}` and the category when one is given:
    /// the server picks the seats.
    pub fn hold_best_available(
        &self,
        token: &str,
        show: &str,
        count: u32,
        category: Option<&str>,
    ) -> Request<'_> {
        let mut body = json!({ "count": count });
        if let Some(category) = category {
            body["category"] = json!(category);
        }
        self.hold(token, show, &body)
    }

    /// `POST /v1/shows/{show}/holds` with any body (for the ones the server must refuse).
    pub fn hold(&self, token: &str, show: &str, body: &Value) -> Request<'_> {
        self.post_request(format!("/v1/shows/{show}/holds"), token, body)
    }

    /// `DELETE /v1/shows/{show}/holds/{hold}`.
    pub fn release_hold(&self, token: &str, show: &str, hold: &str) -> Request<'_> {
        self.delete_request(format!("/v1/shows/{show}/holds/{hold}"), token)
    }

    /// `POST /v1/shows/{show}/holds/{hold}/confirm`: the counter sells the hold for `amount`
    /// (money as JSON, `{"amount_minor", "currency"}`).
    pub fn confirm_hold(
        &self,
        staff: &str,
        show: &str,
        hold: &str,
        payment_reference: &str,
        amount: &Value,
    ) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/holds/{hold}/confirm"),
            staff,
            &json!({ "payment_reference": payment_reference, "amount": amount }),
        )
    }
}

/// Seat ids as the JSON array the server takes.
pub(super) fn names(seats: &[impl AsRef<str>]) -> Vec<&str> {
    seats.iter().map(AsRef::as_ref).collect()
}
