//! API keys for partner ticket clients (`X-Api-Key`): each key is an identity of its own
//! (`partner:{key_id}`, with its roles) and has a request quota per minute; over it, the
//! answer is 429 with `Retry-After` (the seconds left in the minute). Keys are kept as
//! SHA-256 hashes; what a key may do is looked up at most every 10 s per process, so a
//! revoked key stops working within 10 s. Quotas are counted per process.

use crate::accounts::{new_refresh_token, token_hash};
use crate::auth::{Identity, KeyIdentity};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use uuid::Uuid;

/// How long a key's lookup is trusted.
const LOOKUP_TTL: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Known {
    /// `None`: no such key, or revoked.
    key: Option<(Uuid, u32, Vec<String>)>,
    looked_up: Instant,
}

/// Keys seen lately and their requests in the current minute.
#[derive(Default)]
pub struct ApiKeys {
    known: Mutex<HashMap<Vec<u8>, Known>>,
    /// Per key: the minute (since the Unix epoch) and the requests in it.
    used: Mutex<HashMap<Uuid, (u64, u32)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ApiKeys {
    /// Counts a request of `key` at `unix_seconds`; `Err(seconds to wait)` when over quota.
    pub fn count(&self, key: Uuid, quota: u32, unix_seconds: u64) -> Result<(), u64> {
        let minute = unix_seconds / 60;
        let mut used = lock(&self.used);
        let entry = used.entry(key).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= quota {
            return Err(60 - unix_seconds % 60);
        }
        entry.1 += 1;
        Ok(())
    }

    /// Forgets what it knows of a key (on revocation, in this process).
    pub fn forget(&self, key_id: Uuid) {
        lock(&self.known).retain(|_, k| k.key.as_ref().is_none_or(|(id, _, _)| *id != key_id));
    }
}

/// Checks `X-Api-Key` when a request carries one: unknown or revoked keys are 401, keys
/// over their quota 429; a good key becomes the request's identity.
pub async fn enforce(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(header) = request.headers().get("x-api-key") else {
        return next.run(request).await;
    };
    let Some(key) = header
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return invalid().into_response();
    };
    let hash = token_hash(key);
    let cached = lock(&state.api_keys.known)
        .get(&hash)
        .filter(|k| k.looked_up.elapsed() < LOOKUP_TTL)
        .cloned();
    let known = match cached {
        Some(known) => known,
        None => match look_up(&state, &hash).await {
            Ok(key) => {
                let known = Known {
                    key,
                    looked_up: Instant::now(),
                };
                let mut map = lock(&state.api_keys.known);
                if map.len() > 10_000 {
                    // Bounded: forget unknown keys and stale lookups, keep good keys.
                    map.retain(|_, k| k.key.is_some() && k.looked_up.elapsed() < LOOKUP_TTL);
                }
                map.insert(hash, known.clone());
                known
            }
            Err(error) => return error.into_response(),
        },
    };
    let Some((key_id, quota, roles)) = known.key else {
        return invalid().into_response();
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    if let Err(wait) = state.api_keys.count(key_id, quota, now) {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "quota_exceeded",
            "Quota exceeded",
        )
        .detail(format!(
            "this API key may make {quota} requests a minute; wait for the next minute"
        ))
        .retry_after(u32::try_from(wait).unwrap_or(60))
        .into_response();
    }
    request.extensions_mut().insert(KeyIdentity(Identity::new(
        format!("partner:{key_id}"),
        &roles,
    )));
    next.run(request).await
}

fn invalid() -> ApiError {
    ApiError::unauthorized("the X-Api-Key is not a valid key (unknown or revoked)")
}

async fn look_up(
    state: &AppState,
    hash: &[u8],
) -> Result<Option<(Uuid, u32, Vec<String>)>, ApiError> {
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT key_id, quota_per_minute, roles FROM api_keys
             WHERE key_hash = $1 AND revoked_at IS NULL",
            &[&hash],
        )
        .await?;
    Ok(row.map(|row| {
        let roles: Vec<String> = row.get("roles");
        (
            row.get("key_id"),
            u32::try_from(row.get::<_, i32>("quota_per_minute")).unwrap_or(1),
            roles,
        )
    }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub key_id: Uuid,
    pub name: String,
    pub quota_per_minute: i32,
    pub roles: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn key_of(row: &tokio_postgres::Row) -> ApiKeyView {
    ApiKeyView {
        key_id: row.get("key_id"),
        name: row.get("name"),
        quota_per_minute: row.get("quota_per_minute"),
        roles: row.get("roles"),
        created_at: row.get("created_at"),
        revoked_at: row.get("revoked_at"),
    }
}

/// The columns [`key_of`] reads, as a macro so that every statement naming them is one
/// literal (`concat!`), not text assembled at run time.
macro_rules! key_columns {
    () => {
        "key_id, name, quota_per_minute, roles, created_at, revoked_at"
    };
}

/// Makes key `key_id`; returns it (the only time it is seen) with its record, or `None`
/// when a key with that id exists already.
pub async fn create(
    client: &impl GenericClient,
    key_id: Uuid,
    name: &str,
    quota_per_minute: i32,
    roles: &[String],
) -> Result<Option<(String, ApiKeyView)>, tokio_postgres::Error> {
    let (secret, _) = new_refresh_token();
    let key = format!("bo_{secret}");
    let row = client
        .query_opt(
            concat!(
                "INSERT INTO api_keys (key_id, key_hash, name, quota_per_minute, roles)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING
                 RETURNING ",
                key_columns!()
            ),
            &[&key_id, &token_hash(&key), &name, &quota_per_minute, &roles],
        )
        .await?;
    Ok(row.map(|row| (key, key_of(&row))))
}

/// One key's record, if there is such a key.
pub async fn find(
    client: &impl GenericClient,
    key_id: Uuid,
) -> Result<Option<ApiKeyView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "SELECT ",
                key_columns!(),
                " FROM api_keys WHERE key_id = $1"
            ),
            &[&key_id],
        )
        .await?;
    Ok(row.as_ref().map(key_of))
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<ApiKeyView>, tokio_postgres::Error> {
    let rows = client
        .query(
            concat!(
                "SELECT ",
                key_columns!(),
                " FROM api_keys ORDER BY created_at, key_id"
            ),
            &[],
        )
        .await?;
    Ok(rows.iter().map(key_of).collect())
}

/// Revokes a key; `None` if there is no such key.
pub async fn revoke(
    client: &impl GenericClient,
    key_id: Uuid,
) -> Result<Option<ApiKeyView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1
                 RETURNING ",
                key_columns!()
            ),
            &[&key_id],
        )
        .await?;
    Ok(row.as_ref().map(key_of))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_counts_requests_per_minute_and_says_how_long_to_wait() {
        let keys = ApiKeys::default();
        let key = Uuid::from_u128(1);
        let t = 1_800_000_020; // 20 s into a minute
        assert_eq!(t % 60, 20);
        for _ in 0..3 {
            assert_eq!(keys.count(key, 3, t), Ok(()));
        }
        assert_eq!(keys.count(key, 3, t + 5), Err(35));
        assert_eq!(keys.count(Uuid::from_u128(2), 3, t + 5), Ok(()), "per key");
        assert_eq!(keys.count(key, 3, t + 40), Ok(()), "a new minute");
    }
}
