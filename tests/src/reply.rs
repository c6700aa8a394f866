//! What the server answered, and the assertions a test makes about an answer before it looks
//! inside: the status it must have, or the problem it must be.
//!
//! They exist so that a test says `reply.expect_problem(404, "hold_not_found")` in one line
//! that checks everything a client relies on (status, media type, `code`) and, when it
//! fails, prints the whole answer rather than one mismatched field. They only read: nothing
//! here sends a request or waits.

use reqwest::StatusCode;
use serde_json::Value;

/// A response: status, headers and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// The request it answers (`POST http://...`), for failure messages.
    pub request: String,
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// A status as a test writes it: `404` or `StatusCode::NOT_FOUND`.
pub trait Status {
    fn status(self) -> StatusCode;
}

impl Status for u16 {
    #[track_caller]
    fn status(self) -> StatusCode {
        StatusCode::from_u16(self).unwrap_or_else(|_| panic!("{self} is not an HTTP status"))
    }
}

impl Status for StatusCode {
    fn status(self) -> StatusCode {
        self
    }
}

impl std::fmt::Display for Reply {
    /// The request, the status, the headers and the body as indented JSON: what a failed assertion shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} -> {}", self.request, self.status)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", value.to_str().unwrap_or("(not text)"))?;
        }
        let body = serde_json::to_string_pretty(&self.body).unwrap_or_default();
        write!(f, "{body}")
    }
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `code` of an error response ("" when there is none).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the answer has `status`; returns its body.
    #[track_caller]
    pub fn expect_status(&self, status: impl Status) -> &Value {
        let status = status.status();
        assert_eq!(self.status, status, "expected {status}, got {self}");
        &self.body
    }

    /// Asserts a 200; returns the body.
    #[track_caller]
    pub fn expect_ok(&self) -> &Value {
        self.expect_status(StatusCode::OK)
    }

    /// Asserts a 201; returns the body.
    #[track_caller]
    pub fn expect_created(&self) -> &Value {
        self.expect_status(StatusCode::CREATED)
    }

    /// Asserts the answer is the RFC 9457 problem `code` with `status`: the status, the
    /// `application/problem+json` media type, and the body's `code`, `type` and `status`
    /// members. Returns the body, for the problem's extra members.
    #[track_caller]
    pub fn expect_problem(&self, status: impl Status, code: &str) -> &Value {
        let status = status.status();
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "expected the problem {status} {code}, got {self}"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "a problem's media type: {self}"
        );
        assert_eq!(
            self.body["type"],
            format!("urn:boxoffice:problem:{code}"),
            "{self}"
        );
        assert_eq!(self.body["status"], status.as_u16(), "{self}");
        &self.body
    }

    /// The string member `name` of the body; panics, showing the answer, when there is none.
    #[track_caller]
    pub fn text(&self, name: &str) -> &str {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{name}` in {self}"))
    }

    /// The log position a command answered with, for a later read's `min_position`.
    #[track_caller]
    pub fn position(&self) -> &str {
        self.text("position")
    }

    /// The string member `name` of a 201 answer, such as the id of what it made.
    #[track_caller]
    pub fn created(&self, name: &str) -> String {
        self.expect_created();
        self.text(name).to_owned()
    }

    /// The fields a `validation_failed` problem names, in its order (`errors[].field`).
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<&str> {
        self.expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {self}"))
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default())
            .collect()
    }

    /// The seat `seat_id` of a seat-map answer (`{"seats": [...]}`).
    #[track_caller]
    pub fn seat(&self, seat_id: &str) -> &Value {
        self.body["seats"]
            .as_array()
            .and_then(|seats| seats.iter().find(|s| s["seat_id"] == seat_id))
            .unwrap_or_else(|| panic!("no seat {seat_id} in {self}"))
    }
}
