//! Requests about the waiting list: joining, following an entry (a long poll with
//! `version` and `wait`) and leaving.

use super::Request;
use crate::server::Api;
use serde_json::json;

impl Api {
    /// `POST /v1/shows/{show}/waitlist` with `{"count": count}`.
    pub fn join_waitlist(&self, token: &str, show: &str, count: u32) -> Request<'_> {
        self.post_request(
            format!("/v1/shows/{show}/waitlist"),
            token,
            &json!({ "count": count }),
        )
    }

    /// `GET /v1/shows/{show}/waitlist/{entry}`; add `version` and `wait` to long-poll.
    pub fn waitlist_entry(&self, token: &str, show: &str, entry: &str) -> Request<'_> {
        self.get_request(format!("/v1/shows/{show}/waitlist/{entry}"))
            .token(token)
    }

    /// `DELETE /v1/shows/{show}/waitlist/{entry}`.
    pub fn leave_waitlist(&self, token: &str, show: &str, entry: &str) -> Request<'_> {
        self.delete_request(format!("/v1/shows/{show}/waitlist/{entry}"), token)
    }
}
