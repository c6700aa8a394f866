//! Sending deliveries.
//!
//! A round claims the due deliveries (only the oldest waiting one of each endpoint and
//! show) in one short statement, sends them concurrently with no transaction open, and
//! records each attempt. A 2xx answer delivers; anything else (another status, a refused
//! or reset connection, no answer within the timeout) is tried again after 1 s, 2 s, 4 s,
//! ... up to the configured longest delay, for as long as the endpoint is enabled. A
//! deliverer killed mid-round leaves its claims until their lease runs out; then they are
//! sent again under the same id, which is what makes delivery at-least-once.

use crate::signature;
use chrono::Utc;
use deadpool_postgres::Pool;
use futures_util::future::join_all;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

const CLAIM_SQL: &str = include_str!("sql/claim_deliveries.sql");
const ATTEMPTED_SQL: &str = include_str!("sql/attempted.sql");

/// Deliveries claimed at once (sent concurrently).
const PER_ROUND: i64 = 32;
/// The longest error text kept per attempt.
const ERROR_CHARS: usize = 500;

#[derive(Debug, Clone)]
pub struct DelivererConfig {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The longest wait between two attempts of one delivery.
    pub max_retry_delay: Duration,
}

impl Default for DelivererConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_retry_delay: Duration::from_secs(3600),
        }
    }
}

impl DelivererConfig {
    /// How long a claim keeps other deliverers off: the timeout and a margin.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(10)
    }

    /// The wait after the `attempts`-th failed attempt.
    fn retry_delay(&self, attempts: i32) -> Duration {
        Duration::from_secs(1u64 << attempts.clamp(0, 20)).min(self.max_retry_delay)
    }
}

/// Sends deliveries until told to stop.
pub struct Deliverer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl Deliverer {
    /// Starts sending; `wake` is notified when new deliveries are made.
    pub fn start(pool: Pool, config: DelivererConfig, wake: Arc<Notify>) -> Self {
        let (stop, mut stopping) = watch::channel(false);
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Boxoffice-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client without TLS settings always builds");
        let task = tokio::spawn(async move {
            loop {
                let claimed = match round(&pool, &http, &config).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(%error, "webhooks: cannot read the deliveries");
                        0
                    }
                };
                if claimed > 0 {
                    // Each one sent lets the next of its show go.
                    continue;
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stopping.changed() => return,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the round in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Claimed {
    delivery_id: Uuid,
    url: String,
    secret: String,
    body: String,
    attempts: i32,
}

/// What one attempt came to.
struct Attempt {
    delivered: bool,
    status: Option<i32>,
    error: Option<String>,
    at: chrono::DateTime<Utc>,
    took: Duration,
}

/// Claims the due deliveries and sends them; returns how many it claimed.
async fn round(
    pool: &Pool,
    http: &reqwest::Client,
    config: &DelivererConfig,
) -> Result<usize, Failure> {
    let claim = Uuid::new_v4();
    let lease = config.lease().as_secs_f64();
    let claimed: Vec<Claimed> = pool
        .get()
        .await?
        .query(CLAIM_SQL, &[&claim, &PER_ROUND, &lease])
        .await?
        .iter()
        .map(|row| Claimed {
            delivery_id: row.get("delivery_id"),
            url: row.get("url"),
            secret: row.get("secret"),
            body: row.get("body"),
            attempts: row.get("attempts"),
        })
        .collect();
    let attempts = join_all(claimed.iter().map(|delivery| send(http, delivery))).await;
    let client = pool.get().await?;
    for (delivery, attempt) in claimed.iter().zip(attempts) {
        if !attempt.delivered {
            tracing::info!(delivery_id = %delivery.delivery_id, status = ?attempt.status,
                error = ?attempt.error, attempts = delivery.attempts + 1,
                "webhooks: a delivery failed; will try again");
        }
        let retry_in = config.retry_delay(delivery.attempts).as_secs_f64();
        let millis = i32::try_from(attempt.took.as_millis()).unwrap_or(i32::MAX);
        client
            .execute(
                ATTEMPTED_SQL,
                &[
                    &delivery.delivery_id,
                    &claim,
                    &attempt.delivered,
                    &attempt.status,
                    &attempt.error,
                    &retry_in,
                    &attempt.at,
                    &millis,
                ],
            )
            .await?;
    }
    Ok(claimed.len())
}

async fn send(http: &reqwest::Client, delivery: &Claimed) -> Attempt {
    let at = Utc::now();
    let started = Instant::now();
    let id = delivery.delivery_id.to_string();
    let timestamp = at.timestamp();
    let Some(signature) =
        signature::sign(&delivery.secret, &id, timestamp, delivery.body.as_bytes())
    else {
        return Attempt {
            delivered: false,
            status: None,
            error: Some("the endpoint's secret cannot sign".to_owned()),
            at,
            took: started.elapsed(),
        };
    };
    let sent = http
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let (delivered, status, error) = match sent {
        Ok(response) => {
            let status = response.status();
            let error = (!status.is_success()).then(|| format!("answered {status}"));
            (status.is_success(), Some(i32::from(status.as_u16())), error)
        }
        Err(error) => (false, None, Some(describe(&error))),
    };
    Attempt {
        delivered,
        status,
        error,
        at,
        took: started.elapsed(),
    }
}

/// The error and its causes, shortened.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(ERROR_CHARS).collect()
}
