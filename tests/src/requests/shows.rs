//! Requests about shows: scheduling and cancelling (staff), and the seat map and statuses
//! anyone reads, which most tests consult to see what a command did to the seats.

use super::Request;
use crate::server::Api;
use serde_json::{json, Value};

impl Api {
    /// `POST /v1/shows`: `show` is either form (inline seats, or a catalogue hall).
    pub fn schedule_show(&self, staff: &str, show: &Value) -> Request<'_> {
        self.post_request("/v1/shows", staff, show)
    }

    /// `GET /v1/shows/{show}`: the show's page (anyone).
    pub fn show_page(&self, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/shows/{show}"))
    }

    /// `GET /v1/cinemas/{cinema}/shows`: a cinema's schedule (give `date`).
    pub fn cinema_schedule(&self, cinema: &str) -> Request<'_> {
        self.get_request(format!("/v1/cinemas/{cinema}/shows"))
    }

    /// `POST /v1/shows/{show}/cancel`.
    pub fn cancel_show(&self, staff: &str, show: &str, reason: &str) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/cancel"),
            staff,
            &json!({ "reason": reason }),
        )
    }

    /// `POST /v1/shows/{show}/accessible-seats/release`: staff release the kept wheelchair
    /// spaces and companion seats to everyone.
    pub fn release_accessible_seats(&self, staff: &str, show: &str) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/accessible-seats/release"),
            staff,
            &json!({}),
        )
    }

    /// `GET /v1/shows/{show}/seats`: the full seat map.
    pub fn seat_map(&self, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/shows/{show}/seats"))
    }

    /// `GET /v1/shows/{show}/seats/status`: one character per seat.
    pub fn seat_statuses(&self, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/shows/{show}/seats/status"))
    }
}
