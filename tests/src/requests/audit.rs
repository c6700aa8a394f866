//! Requests to the audit log (auditors): one stream, or the whole log in log order. Tests
//! read the log to check what a command appended (or that a refused one appended nothing).

use super::Request;
use crate::server::Api;

impl Api {
    /// `GET /v1/audit/streams/show-{show}`: the show's events, oldest first.
    pub fn show_stream(&self, auditor: &str, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/audit/streams/show-{show}"))
            .token(auditor)
    }

    /// `GET /v1/audit/events`: the whole log, a page at a time (`after`, `limit`).
    pub fn audit_events(&self, auditor: &str) -> Request<'_> {
        self.get_request("/v1/audit/events").token(auditor)
    }
}
