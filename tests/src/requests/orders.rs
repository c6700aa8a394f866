//! Requests about orders: refunds, exchanges in the show and transfers to another show of
//! the movie, the customer's own order history, and the sales report; the reads are what
//! tests check a command against.

use super::holds::names;
use super::Request;
use crate::server::Api;
use reqwest::Method;
use serde_json::json;

impl Api {
    /// `POST /v1/shows/{show}/orders/{order}/refunds` with `{"seats": [...]}`.
    pub fn refund_seats(
        &self,
        token: &str,
        show: &str,
        order: &str,
        seats: &[impl AsRef<str>],
    ) -> Request<'_> {
        self.refund_order(token, show, order)
            .json(&json!({ "seats": names(seats) }))
    }

    /// `POST /v1/shows/{show}/orders/{order}/refunds` with no body: the rest of the order.
    pub fn refund_order(&self, token: &str, show: &str, order: &str) -> Request<'_> {
        self.request(
            Method::POST,
            format!("/v1/shows/{show}/orders/{order}/refunds"),
        )
        .token(token)
    }

    /// `POST /v1/shows/{show}/orders/{order}/exchanges`: `give_back[i]` becomes `take[i]`.
    pub fn exchange_seats(
        &self,
        token: &str,
        show: &str,
        order: &str,
        give_back: &[&str],
        take: &[&str],
    ) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/orders/{order}/exchanges"),
            token,
            &json!({ "give_back": give_back, "take": take }),
        )
    }

    /// `POST /v1/shows/{show}/orders/{order}/transfers`: seats of the order for seats of
    /// `to_show`.
    pub fn transfer_seats(
        &self,
        token: &str,
        show: &str,
        order: &str,
        give_back: &[&str],
        to_show: &str,
        take: &[&str],
    ) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/orders/{order}/transfers"),
            token,
            &json!({ "give_back": give_back, "to_show_id": to_show, "take": take }),
        )
    }

    /// `GET /v1/me/orders`: the caller's orders, newest first.
    pub fn my_orders(&self, token: &str) -> Request<'_> {
        self.get_request("/v1/me/orders").token(token)
    }

    /// `GET /v1/me/orders/{order_id}`.
    pub fn my_order(&self, token: &str, order_id: &str) -> Request<'_> {
        self.get_request(format!("/v1/me/orders/{order_id}"))
            .token(token)
    }

    /// `GET /v1/me/holds/{hold_id}`.
    pub fn my_hold(&self, token: &str, hold_id: &str) -> Request<'_> {
        self.get_request(format!("/v1/me/holds/{hold_id}"))
            .token(token)
    }

    /// `GET /v1/me/payments/{payment_id}`.
    pub fn my_payment(&self, token: &str, payment_id: &str) -> Request<'_> {
        self.get_request(format!("/v1/me/payments/{payment_id}"))
            .token(token)
    }

    /// `GET /v1/reports/sales`.
    pub fn sales_report(&self, token: &str) -> Request<'_> {
        self.get_request("/v1/reports/sales").token(token)
    }
}
