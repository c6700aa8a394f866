//! The HTTP side of a virtual customer: one keep-alive client per server, tokens, and the
//! few requests the workload sends.

use anyhow::{bail, Context};
use boxoffice_api::auth::{JwtKeys, Role};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const JWT_SECRET: &str = "boxoffice-bench-secret";

#[derive(Clone)]
pub struct Http {
    pub base: String,
    client: reqwest::Client,
    keys: JwtKeys,
}

/// A reply: status, body bytes and how long it took.
pub struct Reply {
    pub status: StatusCode,
    pub body: bytes::Bytes,
    pub elapsed: Duration,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Http {
    pub fn new(base: String, connections: usize) -> Self {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .http1_only()
            .build()
            .expect("an HTTP client");
        Self {
            base,
            client,
            keys: JwtKeys::new(JWT_SECRET),
        }
    }

    pub fn token(&self, sub: &str, role: Role) -> String {
        self.keys.mint(sub, &[role], chrono::Duration::hours(12))
    }

    /// Sends a request; a transport failure is an error, any HTTP status is a reply.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        self.send_keyed(method, path, token, body, None).await
    }

    /// A command with an `Idempotency-Key`, so that a retry is recognised as the same one.
    pub async fn send_keyed(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let started = Instant::now();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        exchange(request, started).await
    }

    /// A GET that asks for an answer computed afresh (`Cache-Control: no-cache`), not one
    /// the server kept from another client's same question.
    pub async fn get_fresh(&self, path: &str) -> anyhow::Result<Reply> {
        let started = Instant::now();
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Cache-Control", "no-cache");
        exchange(request, started).await
    }

    /// Schedules a show as staff; returns its id and the position of its first event.
    pub async fn schedule(&self, staff: &str, show: &Value) -> anyhow::Result<(Uuid, String)> {
        for attempt in 0.. {
            let reply = self
                .send(Method::POST, "/v1/shows", Some(staff), Some(show))
                .await;
            match reply {
                Ok(reply) if reply.status == StatusCode::CREATED => {
                    let body = reply.json();
                    let id = body["show_id"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .context("a show id in the answer")?;
                    let position = body["position"].as_str().unwrap_or_default().to_owned();
                    return Ok((id, position));
                }
                // Overload answers are retried, like a client would.
                Ok(reply) if reply.status.is_server_error() && attempt < 20 => {}
                Err(_) if attempt < 20 => {}
                Ok(reply) => bail!(
                    "scheduling a show answered {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ),
                Err(error) => return Err(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        unreachable!("the loop returns")
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(reply) = self.send(Method::GET, "/readyz", None, None).await {
                if reply.status == StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("{} did not become ready in {timeout:?}", self.base);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A show of `rows` rows of `per_row` seats (premium rows in the middle, the first row
/// accessible), starting in a day. Row labels are A, B, ... then AA, AB, ...
pub fn show_body(title: &str, rows: usize, per_row: u32) -> Value {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(1);
    let mut seats = Vec::with_capacity(rows * per_row as usize);
    for r in 0..rows {
        let row = row_label(r);
        let category = if r == 0 {
            "accessible"
        } else if r >= rows / 3 && r < rows / 3 + rows.div_ceil(5) {
            "premium"
        } else {
            "regular"
        };
        for n in 1..=per_row {
            seats.push(json!({"seat_id": format!("{row}{n}"), "row": row, "number": n, "category": category}));
        }
    }
    json!({
        "movie_id": Uuid::new_v4(),
        "title": title,
        "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::minutes(150)).to_rfc3339(),
        "seats": seats,
        "prices": {
            "accessible": {"amount_minor": 4000, "currency": "CNY"},
            "premium": {"amount_minor": 9000, "currency": "CNY"},
            "regular": {"amount_minor": 6000, "currency": "CNY"},
        },
    })
}

pub fn row_label(mut index: usize) -> String {
    let mut label = Vec::new();
    loop {
        label.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    label.reverse();
    String::from_utf8(label).expect("ASCII")
}

/// The part of a seat map a customer looks at.
#[derive(Deserialize)]
pub struct SeatMapDoc {
    pub version: i64,
    pub seats: Vec<SeatDoc>,
}

#[derive(Deserialize)]
pub struct SeatDoc {
    pub seat_id: String,
    pub status: String,
}

/// Sends `request` (made at `started`) and reads the whole answer.
async fn exchange(request: reqwest::RequestBuilder, started: Instant) -> anyhow::Result<Reply> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    Ok(Reply {
        status,
        body,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn row_labels_run_past_z() {
        let labels: Vec<String> = [0, 25, 26, 27, 51, 52].map(super::row_label).into();
        assert_eq!(labels, ["A", "Z", "AA", "AB", "AZ", "BA"]);
    }
}
