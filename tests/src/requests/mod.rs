//! Typed requests: one method on [`Api`] for each request the end-to-end tests make again
//! and again, grouped by the resource it acts on, so a test says what it asks
//! (`api.hold_seats(&alice, &show, &["B1"])`) and each path, token and JSON body is spelled
//! once, here, as docs/api.md describes it.
//!
//! A request is a value until it is awaited; `.idempotency_key(..)`, `.header(..)`,
//! `.min_position(..)` and `.query(..)` adjust it first. Awaiting it sends it and gives the
//! [`Reply`]. These helpers never assert: what the answer must be is the test's to say (with
//! [`Reply::expect_problem`] and friends), and a test that waits for something says so with
//! [`crate::wait::eventually`]. The one retry is a read of one's own write that the server
//! answers "not yet" ([`Request::send`]).

mod accounts;
mod audit;
mod catalogue;
mod holds;
mod orders;
mod payments;
mod shows;
mod tickets;
mod waitlist;
mod webhooks;

pub use payments::SandboxPage;

use crate::reply::Reply;
use crate::server::Api;
use crate::wait::PATIENCE;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::fmt::Display;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

/// One request to the server, not yet sent.
#[must_use = "a request is sent when it is awaited"]
pub struct Request<'a> {
    api: &'a Api,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    token: Option<String>,
    body: Option<Body>,
    headers: Vec<(String, String)>,
    timeout: Option<Duration>,
    reads_own_write: bool,
}

enum Body {
    Json(Value),
    /// Bytes exactly as written, with this `Content-Type` if any.
    Raw(Option<&'static str>, String),
}

impl<'a> Request<'a> {
    pub(crate) fn new(api: &'a Api, method: Method, path: String) -> Self {
        Self {
            api,
            method,
            path,
            query: Vec::new(),
            token: None,
            body: None,
            headers: Vec::new(),
            timeout: None,
            reads_own_write: false,
        }
    }

    /// Sent with `Authorization: Bearer {token}`.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// `body` as the JSON body (in place of any the helper built).
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(Body::Json(body.clone()));
        self
    }

    /// `body`, JSON already written out (or not quite JSON), sent byte for byte as
    /// `application/json`.
    pub fn json_text(mut self, body: &str) -> Self {
        self.body = Some(Body::Raw(Some("application/json"), body.to_owned()));
        self
    }

    /// `body` with no `Content-Type` at all.
    pub fn untyped_body(mut self, body: &str) -> Self {
        self.body = Some(Body::Raw(None, body.to_owned()));
        self
    }

    /// Sent with `X-Api-Key: {key}`: a partner's identity instead of a token.
    pub fn api_key(self, key: &str) -> Self {
        self.header("x-api-key", key)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `Idempotency-Key` a retry repeats.
    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("idempotency-key", key)
    }

    /// A query parameter, appended as written (percent-encode it first where it needs it).
    pub fn query(mut self, name: &str, value: impl Display) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// How long the client waits for the answer, in place of the client's 30 s (for a long
    /// poll that may take longer).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Read at least as far as the log position a command answered with.
    pub fn min_position(mut self, position: &str) -> Self {
        self.reads_own_write = true;
        self.query("min_position", position)
    }

    /// Sends the request. A read of one's own write (`min_position`) is sent again while
    /// the server answers 503 `projection_lagging`: it waits only 5 s for the projectors per
    /// request, and a loaded machine may need longer (the answer after [`PATIENCE`] is
    /// returned as it is).
    pub async fn send(self) -> Reply {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let reply = self.api.raw(self.build()).await;
            let lagging = reply.status == StatusCode::SERVICE_UNAVAILABLE
                && reply.code() == "projection_lagging";
            if !(self.reads_own_write && lagging && Instant::now() < deadline) {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn build(&self) -> reqwest::RequestBuilder {
        let mut url = format!("{}{}", self.api.base(), self.path);
        for (index, (name, value)) in self.query.iter().enumerate() {
            let separator = if index == 0 && !self.path.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push_str(&format!("{separator}{name}={value}"));
        }
        let mut request = self.api.http().request(self.method.clone(), url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match &self.body {
            Some(Body::Json(body)) => request = request.json(body),
            Some(Body::Raw(content_type, body)) => {
                if let Some(content_type) = content_type {
                    request = request.header("content-type", *content_type);
                }
                request = request.body(body.clone());
            }
            None => {}
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        request
    }
}

impl<'a> IntoFuture for Request<'a> {
    type Output = Reply;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Api {
    /// Any request: the typed helpers are built on this, and a test uses it directly for a
    /// request that is deliberately unusual.
    pub fn request(&self, method: Method, path: impl Into<String>) -> Request<'_> {
        Request::new(self, method, path.into())
    }

    fn get_request(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::GET, path)
    }

    fn post_request(&self, path: impl Into<String>, token: &str, body: &Value) -> Request<'_> {
        self.request(Method::POST, path).token(token).json(body)
    }

    fn delete_request(&self, path: impl Into<String>, token: &str) -> Request<'_> {
        self.request(Method::DELETE, path).token(token)
    }
}
