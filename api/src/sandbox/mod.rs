//! The built-in sandbox payment provider.
//!
//! The sandbox behaves like a real provider: it keeps its own records of payments, refunds
//! and charges (its tables, not the event log), shows a pay page with pay and fail
//! buttons, and tells the server the outcome with a notification POSTed to
//! `/v1/payments/notify`, signed with HMAC-SHA256 over `{timestamp}.{body}`.

use boxoffice_commands::payments::{PaymentOrder, PaymentProvider, ProviderError};
use boxoffice_domain::Money;
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::OnceLock;
use uuid::Uuid;

pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/001_sandbox.sql"),
    include_str!("sql/002_sandbox_return_url.sql"),
];

/// Headers of a sandbox notification.
pub const TIMESTAMP_HEADER: &str = "x-sandbox-timestamp";
pub const SIGNATURE_HEADER: &str = "x-sandbox-signature";

/// The body of a sandbox notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    pub event_id: String,
    pub payment_id: Uuid,
    /// `succeeded` or `failed`.
    pub status: String,
    pub amount: Money,
    #[serde(default)]
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
}

/// `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let bytes = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// Whether `signature` is this server's signature of `{timestamp}.{body}` (compared in
/// constant time).
pub fn verify(secret: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.trim().strip_prefix("v1=") else {
        return false;
    };
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let bytes: Vec<u8> = (0..32)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    mac(secret, timestamp, body).verify_slice(&bytes).is_ok()
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The sandbox provider.
pub struct Sandbox {
    pool: Pool,
    secret: String,
    /// Where pay pages and the notify endpoint are reached; set once the server listens.
    base_url: OnceLock<String>,
    http: reqwest::Client,
}

/// What happened when the customer pressed a button on the pay page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completed {
    /// The notification was sent; the server answered with this status.
    Notified {
        status: String,
        answer: u16,
        /// Where to send the customer back, if the merchant said.
        return_url: Option<String>,
    },
    /// The payment was no longer pending (paid, failed) or past its expiry.
    Closed(String),
    NotFound,
}

impl Sandbox {
    pub fn new(pool: Pool, secret: String) -> Self {
        Self {
            pool,
            secret,
            base_url: OnceLock::new(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// Where this server is reached (its origin may always be returned to).
    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1:8080", String::as_str)
    }

    /// The payment as the sandbox has it: amount, currency, method, description, status,
    /// expiry, where to send the customer back.
    pub async fn payment(&self, payment_id: Uuid) -> Result<Option<SandboxPayment>, ProviderError> {
        let client = self.pool.get().await.map_err(unavailable)?;
        let row = client
            .query_opt(
                "SELECT amount_minor, currency, method, description, status, expires_at,
                    return_url
                 FROM sandbox_payments WHERE payment_id = $1",
                &[&payment_id],
            )
            .await
            .map_err(unavailable)?;
        Ok(row.map(|row| SandboxPayment {
            payment_id,
            amount_minor: row.get(0),
            currency: row.get(1),
            method: row.get(2),
            description: row.get(3),
            status: row.get(4),
            expires_at: row.get(5),
            return_url: row.get(6),
        }))
    }

    /// The customer paid (or the payment failed) at the pay page: record it, then notify
    /// the server, signed.
    pub async fn complete(
        &self,
        payment_id: Uuid,
        succeed: bool,
    ) -> Result<Completed, ProviderError> {
        let Some(payment) = self.payment(payment_id).await? else {
            return Ok(Completed::NotFound);
        };
        let now = Utc::now();
        if payment.status != "pending" {
            return Ok(Completed::Closed(format!(
                "the payment has already {}",
                payment.status
            )));
        }
        if now >= payment.expires_at {
            return Ok(Completed::Closed("the payment expired".into()));
        }
        let status = if succeed { "succeeded" } else { "failed" };
        let client = self.pool.get().await.map_err(unavailable)?;
        let moved = client
            .execute(
                "UPDATE sandbox_payments SET status = $2 WHERE payment_id = $1 AND status = 'pending'",
                &[&payment_id, &status],
            )
            .await
            .map_err(unavailable)?;
        if moved == 0 {
            return Ok(Completed::Closed(
                "the payment was completed meanwhile".into(),
            ));
        }
        let currency = boxoffice_domain::Currency::parse(&payment.currency)
            .ok_or_else(|| ProviderError::Refused("bad currency".into()))?;
        let body = NotificationBody {
            event_id: Uuid::new_v4().to_string(),
            payment_id,
            status: status.to_owned(),
            amount: Money::new(payment.amount_minor, currency),
            detail: if succeed {
                String::new()
            } else {
                "the customer's bank declined the payment".into()
            },
            occurred_at: now,
        };
        let body_text =
            serde_json::to_string(&body).map_err(|e| ProviderError::Refused(e.to_string()))?;
        let timestamp = now.timestamp();
        let signature = sign(&self.secret, timestamp, body_text.as_bytes());
        let event_id: Uuid = body.event_id.parse().unwrap_or_default();
        client
            .execute(
                "INSERT INTO sandbox_notifications (event_id, payment_id, sent_timestamp, body,
                    signature) VALUES ($1, $2, $3, $4, $5)",
                &[&event_id, &payment_id, &timestamp, &body_text, &signature],
            )
            .await
            .map_err(unavailable)?;
        let answer = self.deliver(timestamp, &body_text, &signature).await;
        client
            .execute(
                "UPDATE sandbox_notifications SET answer_status = $2 WHERE event_id = $1",
                &[&event_id, &i32::from(answer)],
            )
            .await
            .map_err(unavailable)?;
        Ok(Completed::Notified {
            status: status.to_owned(),
            answer,
            return_url: payment.return_url,
        })
    }

    /// POSTs a notification, trying three times while the server does not answer 2xx or
    /// 4xx; returns the last status (0: no answer).
    async fn deliver(&self, timestamp: i64, body: &str, signature: &str) -> u16 {
        let url = format!("{}/v1/payments/notify", self.base_url());
        let mut last = 0;
        for attempt in 0..3u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            }
            let sent = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature)
                .body(body.to_owned())
                .send()
                .await;
            match sent {
                Ok(response) => {
                    last = response.status().as_u16();
                    if response.status().is_success() || response.status().is_client_error() {
                        return last;
                    }
                }
                Err(error) => tracing::warn!(%error, "sandbox: notification not delivered"),
            }
        }
        last
    }
}

/// A payment as the sandbox keeps it.
#[derive(Debug, Clone)]
pub struct SandboxPayment {
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub method: String,
    pub description: String,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    /// The merchant's page to send the customer back to (checked when the payment was
    /// started).
    pub return_url: Option<String>,
}

fn unavailable(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(error.to_string())
}

#[async_trait::async_trait]
impl PaymentProvider for Sandbox {
    async fn open(&self, order: &PaymentOrder) -> Result<String, ProviderError> {
        let client = self.pool.get().await.map_err(unavailable)?;
        client
            .execute(
                "INSERT INTO sandbox_payments (payment_id, amount_minor, currency, method,
                    description, status, expires_at, return_url)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
                 ON CONFLICT (payment_id) DO NOTHING",
                &[
                    &order.payment_id,
                    &order.amount.amount_minor,
                    &order.amount.currency.as_str(),
                    &order.method.as_str(),
                    &order.description,
                    &order.expires_at,
                    &order.return_url,
                ],
            )
            .await
            .map_err(unavailable)?;
        Ok(format!(
            "{}/sandbox/pay/{}",
            self.base_url(),
            order.payment_id
        ))
    }

    async fn refund(
        &self,
        payment_id: Uuid,
        refund_id: Uuid,
        amount: &Money,
    ) -> Result<(), ProviderError> {
        let mut client = self.pool.get().await.map_err(unavailable)?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let row = tx
            .query_opt(
                "SELECT p.status, p.currency,
                    p.amount_minor + coalesce((SELECT sum(amount_minor) FROM sandbox_charges c
                        WHERE c.payment_id = p.payment_id), 0)::bigint
                    - coalesce((SELECT sum(amount_minor) FROM sandbox_refunds r
                        WHERE r.payment_id = p.payment_id), 0)::bigint,
                    EXISTS (SELECT 1 FROM sandbox_refunds WHERE refund_id = $2)
                 FROM sandbox_payments p WHERE p.payment_id = $1 FOR UPDATE",
                &[&payment_id, &refund_id],
            )
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProviderError::Refused("no such payment".into()))?;
        let (status, currency, left, done): (String, String, i64, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if done {
            return Ok(());
        }
        if status != "succeeded"
            || currency != amount.currency.as_str()
            || amount.amount_minor > left
        {
            return Err(ProviderError::Refused(format!(
                "cannot refund {amount} of a {status} payment with {left} left"
            )));
        }
        tx.execute(
            "INSERT INTO sandbox_refunds (refund_id, payment_id, amount_minor) VALUES ($1, $2, $3)",
            &[&refund_id, &payment_id, &amount.amount_minor],
        )
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn charge(
        &self,
        payment_id: Uuid,
        charge_id: Uuid,
        amount: &Money,
    ) -> Result<(), ProviderError> {
        let client = self.pool.get().await.map_err(unavailable)?;
        let inserted = client
            .execute(
                "INSERT INTO sandbox_charges (charge_id, payment_id, amount_minor)
                 SELECT $1, payment_id, $3 FROM sandbox_payments
                 WHERE payment_id = $2 AND status = 'succeeded' AND currency = $4
                 ON CONFLICT (charge_id) DO NOTHING",
                &[
                    &charge_id,
                    &payment_id,
                    &amount.amount_minor,
                    &amount.currency.as_str(),
                ],
            )
            .await
            .map_err(unavailable)?;
        if inserted == 0 {
            let exists = client
                .query_opt(
                    "SELECT 1 FROM sandbox_charges WHERE charge_id = $1",
                    &[&charge_id],
                )
                .await
                .map_err(unavailable)?;
            if exists.is_none() {
                return Err(ProviderError::Refused(
                    "only a succeeded payment can be charged".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let signature = sign("secret-secret-secret", 1_700_000_000, b"{\"a\":1}");
        assert!(signature.starts_with("v1=") && signature.len() == 67);
        assert!(verify(
            "secret-secret-secret",
            1_700_000_000,
            b"{\"a\":1}",
            &signature
        ));
        assert!(!verify(
            "secret-secret-secret",
            1_700_000_001,
            b"{\"a\":1}",
            &signature
        ));
        assert!(!verify(
            "secret-secret-secret",
            1_700_000_000,
            b"{\"a\":2}",
            &signature
        ));
        assert!(!verify(
            "another-secret-xx",
            1_700_000_000,
            b"{\"a\":1}",
            &signature
        ));
        assert!(!verify(
            "secret-secret-secret",
            1_700_000_000,
            b"{\"a\":1}",
            "v1=zz"
        ));
        assert!(!verify(
            "secret-secret-secret",
            1_700_000_000,
            b"{\"a\":1}",
            ""
        ));
    }
}
