//! Accounts: registration, passwords (Argon2id), refresh tokens, profiles and favourites.
//! Ordinary PostgreSQL tables, not events: personal data stays out of the immutable log, and
//! events name customers by account id only (the `sub` of their access token).

mod limiter;

pub use limiter::LoginLimiter;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use boxoffice_projections::catalogue;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use utoipa::ToSchema;
use uuid::Uuid;

/// The schema steps of the account tables.
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/001_accounts.sql"),
    include_str!("sql/002_api_keys.sql"),
];

/// How long a refresh token may wait to be used.
pub const REFRESH_TTL: chrono::Duration = chrono::Duration::days(30);

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AccountView {
    pub account_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    /// `customer`, `staff`, `analyst`, `auditor`, `admin`, `door`.
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// An email address as accounts are keyed: trimmed and lower-cased; `None` if it does not
/// look like one.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(email)
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes): slow on purpose. Runs on a
/// blocking thread, so a burst of logins does not stall the server's other work.
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("Argon2 hashes any password with a generated salt")
            .to_string()
    })
    .await
    .expect("the hashing thread does not panic")
}

/// A hash of a password nobody has: verified against when the account does not exist, so a
/// failed login takes as long either way and does not reveal which it was.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no account has this password", &salt)
        .expect("Argon2 hashes a fixed password")
        .to_string()
});

/// Whether `password` matches `hash` (the decoy's when `hash` is `None`: always false).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && exists
    })
    .await
    .unwrap_or(false)
}

/// A new refresh token (256 random bits, URL-safe) and the hash it is stored under.
/// 32 bytes from the operating system's random source: for tokens, keys and secrets.
pub fn new_secret_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

pub fn new_refresh_token() -> (String, Vec<u8>) {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(new_secret_bytes());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The columns [`account_of`] reads, as a macro so that every statement naming them is one
/// literal (`concat!`), not text assembled at run time.
macro_rules! account_columns {
    () => {
        "account_id, email, display_name, phone, roles, created_at"
    };
}

fn account_of(row: &tokio_postgres::Row) -> AccountView {
    AccountView {
        account_id: row.get("account_id"),
        email: row.get("email"),
        display_name: row.get("display_name"),
        phone: row.get("phone"),
        roles: row.get("roles"),
        created_at: row.get("created_at"),
    }
}

/// Creates an account; `None` if the email is taken.
pub async fn create(
    client: &impl GenericClient,
    email: &str,
    password_hash: &str,
    display_name: &str,
) -> Result<Option<AccountView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "INSERT INTO accounts (account_id, email, password_hash, display_name)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING
                 RETURNING ",
                account_columns!()
            ),
            &[&Uuid::new_v4(), &email, &password_hash, &display_name],
        )
        .await?;
    Ok(row.as_ref().map(account_of))
}

/// The account with this email and its password hash.
pub async fn by_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<(AccountView, String)>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "SELECT ",
                account_columns!(),
                ", password_hash FROM accounts WHERE email = $1"
            ),
            &[&email],
        )
        .await?;
    Ok(row.map(|row| (account_of(&row), row.get("password_hash"))))
}

pub async fn by_id(
    client: &impl GenericClient,
    account_id: Uuid,
) -> Result<Option<AccountView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "SELECT ",
                account_columns!(),
                " FROM accounts WHERE account_id = $1"
            ),
            &[&account_id],
        )
        .await?;
    Ok(row.as_ref().map(account_of))
}

pub async fn update_profile(
    client: &impl GenericClient,
    account_id: Uuid,
    display_name: &str,
    phone: Option<&str>,
) -> Result<Option<AccountView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "UPDATE accounts SET display_name = $2, phone = $3, updated_at = now()
                 WHERE account_id = $1 RETURNING ",
                account_columns!()
            ),
            &[&account_id, &display_name, &phone],
        )
        .await?;
    Ok(row.as_ref().map(account_of))
}

pub async fn set_roles(
    client: &impl GenericClient,
    account_id: Uuid,
    roles: &[String],
) -> Result<Option<AccountView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            concat!(
                "UPDATE accounts SET roles = $2, updated_at = now()
                 WHERE account_id = $1 RETURNING ",
                account_columns!()
            ),
            &[&account_id, &roles],
        )
        .await?;
    Ok(row.as_ref().map(account_of))
}

pub async fn store_refresh_token(
    client: &impl GenericClient,
    hash: &[u8],
    account_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO refresh_tokens (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
            &[&hash, &account_id, &expires_at],
        )
        .await?;
    Ok(())
}

/// What presenting a refresh token did.
pub enum Refreshed {
    /// It was good (and is now used up): the account it was for.
    Account(Uuid),
    /// Unknown, expired or revoked.
    Invalid,
    /// Used before: every token of the account is revoked.
    Replayed,
}

/// Uses a refresh token up and stores its successor (`next`) in the same transaction, so a
/// racing replay, which waits for this one and then revokes every token of the account,
/// revokes the successor too.
pub async fn use_refresh_token(
    client: &mut deadpool_postgres::Client,
    hash: &[u8],
    next: &[u8],
) -> Result<Refreshed, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT account_id, expires_at > now() AS live, used_at IS NOT NULL AS used, revoked
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
            &[&hash],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Refreshed::Invalid);
    };
    let (account_id, live, used, revoked): (Uuid, bool, bool, bool) = (
        row.get("account_id"),
        row.get("live"),
        row.get("used"),
        row.get("revoked"),
    );
    let outcome = if used {
        tx.execute(
            "UPDATE refresh_tokens SET revoked = true WHERE account_id = $1",
            &[&account_id],
        )
        .await?;
        Refreshed::Replayed
    } else if revoked || !live {
        Refreshed::Invalid
    } else {
        tx.execute(
            "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1",
            &[&hash],
        )
        .await?;
        tx.execute(
            "INSERT INTO refresh_tokens (token_hash, account_id, expires_at)
             VALUES ($1, $2, now() + $3 * interval '1 second')",
            &[&next, &account_id, &(REFRESH_TTL.num_seconds() as f64)],
        )
        .await?;
        Refreshed::Account(account_id)
    };
    tx.commit().await?;
    Ok(outcome)
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FavoriteView {
    pub movie_id: Uuid,
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// Adds a favourite; false if the movie is not in the catalogue (movies are never removed
/// from it, only retired).
pub async fn add_favorite(
    client: &impl GenericClient,
    account_id: Uuid,
    movie_id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    if catalogue::movie(client, movie_id).await?.is_none() {
        return Ok(false);
    }
    client
        .execute(
            "INSERT INTO favorites (account_id, movie_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&account_id, &movie_id],
        )
        .await?;
    Ok(true)
}

pub async fn remove_favorite(
    client: &impl GenericClient,
    account_id: Uuid,
    movie_id: Uuid,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM favorites WHERE account_id = $1 AND movie_id = $2",
            &[&account_id, &movie_id],
        )
        .await?;
    Ok(())
}

/// The account's favourites, newest first.
pub async fn favorites(
    client: &impl GenericClient,
    account_id: Uuid,
) -> Result<Vec<FavoriteView>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT movie_id, created_at FROM favorites
             WHERE account_id = $1 ORDER BY created_at DESC, movie_id",
            &[&account_id],
        )
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.get("movie_id")).collect();
    let titles = catalogue::movie_titles(client, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let movie_id: Uuid = r.get("movie_id");
            let movie = titles.iter().find(|t| t.movie_id == movie_id);
            FavoriteView {
                movie_id,
                title: movie.map(|m| m.title.clone()),
                original_title: movie.and_then(|m| m.original_title.clone()),
                added_at: r.get("created_at"),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Alice.Wang@Example.COM "),
            Some("alice.wang@example.com".into())
        );
        assert_eq!(
            normalize_email("李雷@例子.中国"),
            Some("李雷@例子.中国".into())
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@com",
            "a b@x.cn",
            "a@b@c.cn",
            "a@.cn",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_only_as_hashes() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), hash_a);
        assert_ne!(hash_a, a.as_bytes());
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery".into()).await;
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("no account has this password".into(), None).await);
    }
}
