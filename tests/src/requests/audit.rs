//! Requests to the audit log (auditors): one stream, or the whole log in log order; a
//! stream's state at a point; the seals and their key; verifications of the read models and
//! the log. Tests read the log to check what a command appended (or that a refused one
//! appended nothing), and what auditors are told.

use super::Request;
use crate::server::Api;
use reqwest::Method;

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

    /// `GET /v1/audit/shows/{show}/state`: the show folded from the log, now or at the
    /// point `.query("at_version" | "at_position" | "at_time", ..)` names.
    pub fn show_state(&self, auditor: &str, show: &str) -> Request<'_> {
        self.get_request(format!("/v1/audit/shows/{show}/state"))
            .token(auditor)
    }

    /// `GET /v1/audit/streams/{stream}/state`: any stream folded from the log.
    pub fn stream_state(&self, auditor: &str, stream: &str) -> Request<'_> {
        self.get_request(format!("/v1/audit/streams/{stream}/state"))
            .token(auditor)
    }

    /// `GET /v1/audit/seals`: every seal, oldest first.
    pub fn seals(&self, auditor: &str) -> Request<'_> {
        self.get_request("/v1/audit/seals")
            .token(auditor)
            .query("limit", 1000)
    }

    /// `GET /v1/audit/actions`: who did what, in log order (filters by `.query(..)`).
    pub fn audit_actions(&self, auditor: &str) -> Request<'_> {
        self.get_request("/v1/audit/actions")
            .token(auditor)
            .query("limit", 1000)
    }

    /// `GET /v1/audit/public-key` (anyone).
    pub fn audit_public_key(&self) -> Request<'_> {
        self.get_request("/v1/audit/public-key")
    }

    /// `POST /v1/audit/verifications`: starts verifying the read models and the log.
    pub fn start_verification(&self, auditor: &str) -> Request<'_> {
        self.request(Method::POST, "/v1/audit/verifications")
            .token(auditor)
    }

    /// `GET /v1/audit/verifications/{verification}`: its status, progress and result.
    pub fn verification(&self, auditor: &str, verification: &str) -> Request<'_> {
        self.get_request(format!("/v1/audit/verifications/{verification}"))
            .token(auditor)
    }
}
