//! Requests about tickets: the customer's tickets, the key scanners check them with, and
//! the door letting them in.

use super::Request;
use crate::server::Api;
use serde_json::json;

impl Api {
    /// `GET /v1/me/orders/{order}/tickets`.
    pub fn order_tickets(&self, token: &str, order: &str) -> Request<'_> {
        self.get_request(format!("/v1/me/orders/{order}/tickets"))
            .token(token)
    }

    /// `GET /v1/me/orders/{order}/tickets.pdf`: send it with [`Api::http`] to keep the bytes.
    pub fn order_tickets_pdf_url(&self, order: &str) -> String {
        format!("{}/v1/me/orders/{order}/tickets.pdf", self.base())
    }

    /// `GET /v1/tickets/public-key` (anyone).
    pub fn ticket_public_key(&self) -> Request<'_> {
        self.get_request("/v1/tickets/public-key")
    }

    /// `POST /v1/shows/{show}/check-ins` with a ticket's QR code text, at `door`.
    pub fn check_in_qr(&self, token: &str, show: &str, qr: &str, door: &str) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/check-ins"),
            token,
            &json!({ "qr": qr, "door": door }),
        )
    }

    /// `POST /v1/shows/{show}/check-ins` with an order's pickup code, at `door`.
    pub fn check_in_code(&self, token: &str, show: &str, code: &str, door: &str) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/check-ins"),
            token,
            &json!({ "pickup_code": code, "door": door }),
        )
    }

    /// `GET /v1/orders?{name}={value}`: the staff desk's search.
    pub fn find_orders(&self, staff: &str, name: &str, value: &str) -> Request<'_> {
        self.get_request("/v1/orders")
            .token(staff)
            .query(name, value)
    }

    /// `GET /v1/shows/{show}/check-ins`: who is in, who is expected.
    pub fn attendance(&self, token: &str, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/shows/{show}/check-ins"))
            .token(token)
    }
}
