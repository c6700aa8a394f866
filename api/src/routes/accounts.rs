//! Accounts: register, log in, refresh, the profile, favourites, and roles (admin).
//! Access tokens are the JWTs every other route verifies (`sub` is the account id); refresh
//! tokens are random, stored hashed, and used once.

use crate::accounts::{self, AccountView, FavoriteView, Refreshed};
use crate::auth::{Grant, Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::access::AccessCommand;
use boxoffice_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;
use utoipa::ToSchema;
use uuid::Uuid;

const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 200;

/// The client's address, when the server knows it (rate limits count per address).
pub struct ClientAddress(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    account: AccountView,
    /// The bearer token for every other route.
    access_token: String,
    token_type: &'static str,
    /// Seconds the access token is valid.
    expires_in: i64,
    /// Trade it for a new session at `POST /v1/auth/refresh` (once) before it runs out
    /// (30 days).
    refresh_token: String,
}

/// A session for `account`: a new access token, and `refresh` (already stored) or a new
/// refresh token.
async fn session(
    state: &AppState,
    account: AccountView,
    refresh: Option<String>,
) -> Result<Session, ApiError> {
    let ttl = state.settings.access_token_ttl;
    let access_token = state
        .jwt
        .mint_names(&account.account_id.to_string(), &account.roles, ttl);
    let refresh_token = match refresh {
        Some(token) => token,
        None => {
            let (token, hash) = accounts::new_refresh_token();
            let client = state.pool.get().await?;
            accounts::store_refresh_token(
                &client,
                &hash,
                account.account_id,
                chrono::Utc::now() + accounts::REFRESH_TTL,
            )
            .await?;
            token
        }
    };
    Ok(Session {
        account,
        access_token,
        token_type: "Bearer",
        expires_in: ttl.num_seconds(),
        refresh_token,
    })
}

fn invalid(field: &str, message: &str) -> ApiError {
    DomainError::Validation(vec![FieldError::new(field, message)]).into()
}

fn check_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(invalid("password", "must be 10 to 200 characters"));
    }
    Ok(())
}

fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let chars = name.trim().chars().count();
    if !(1..=100).contains(&chars) || name.chars().any(char::is_control) {
        return Err(invalid(field, "must be 1 to 100 characters"));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    email: String,
    /// 10 to 200 characters.
    password: String,
    /// How tickets and greetings name the customer; the email's local part when absent.
    display_name: Option<String>,
}

/// Create a customer account and start a session (anyone).
#[utoipa::path(post, path = "/v1/auth/register", tag = "accounts", request_body = Register,
    responses(
        (status = 201, description = "Registered and signed in.", body = Session),
        (status = 409, description = "The email has an account (`email_taken`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<Register>,
) -> Result<impl IntoResponse, ApiError> {
    let email = accounts::normalize_email(&body.email)
        .ok_or_else(|| invalid("email", "must be an email address"))?;
    check_password(&body.password)?;
    let name = match body.display_name {
        Some(name) => {
            check_name("display_name", &name)?;
            name.trim().to_owned()
        }
        None => email.split('@').next().unwrap_or_default().to_owned(),
    };
    let hash = accounts::hash_password(body.password).await;
    let client = state.pool.get().await?;
    let account = accounts::create(&client, &email, &hash, &name)
        .await?
        .ok_or_else(|| {
            ApiError::new(StatusCode::CONFLICT, "email_taken", "Email taken")
                .detail("this email has an account: log in, or use another")
        })?;
    drop(client);
    Ok((
        StatusCode::CREATED,
        axum::Json(session(&state, account, None).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

/// Start a session with an email and password (anyone). Five failed logins in 15 minutes,
/// for one account or from one address, are answered 429 until the oldest ages out; a
/// failure never says whether the account exists.
#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts", request_body = Login,
    responses(
        (status = 200, description = "Signed in.", body = Session),
        (status = 401, description = "The email or the password is wrong (`invalid_credentials`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins (`too_many_attempts`), with `Retry-After`.", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(body): Json<Login>,
) -> Result<impl IntoResponse, ApiError> {
    let email = accounts::normalize_email(&body.email).unwrap_or_default();
    let account_key = format!("email:{email}");
    let address_key = format!(
        "ip:{}",
        address.map(|a| a.ip().to_string()).unwrap_or_default()
    );
    let keys = [account_key.as_str(), address_key.as_str()];
    if let Some(wait) = state.login_limiter.blocked(&keys, Instant::now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many failed logins",
        )
        .detail("too many failed logins for this account or from this address; wait and try again")
        .retry_after(wait.as_secs().max(1).try_into().unwrap_or(u32::MAX)));
    }
    let client = state.pool.get().await?;
    let found = accounts::by_email(&client, &email).await?;
    drop(client);
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), Some(hash)),
        None => (None, None),
    };
    let password_ok = accounts::verify_password(body.password, hash).await;
    let Some(account) = account.filter(|_| password_ok) else {
        state.login_limiter.failed(&keys, Instant::now());
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Wrong email or password",
        )
        .detail("the email or the password is wrong"));
    };
    state.login_limiter.succeeded(&account_key);
    Ok(axum::Json(session(&state, account, None).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    refresh_token: String,
}

/// Trade a refresh token for a new session (anyone holding one). Each refresh token works
/// once; presenting a used one again signs the account out everywhere.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "accounts", request_body = Refresh,
    responses(
        (status = 200, description = "A new session.", body = Session),
        (status = 401, description = "Unknown, expired, revoked or used (`invalid_refresh_token`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<Refresh>,
) -> Result<impl IntoResponse, ApiError> {
    let refused = |detail: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
            "Refresh token not valid",
        )
        .detail(detail)
    };
    let mut client = state.pool.get().await?;
    let hash = accounts::token_hash(&body.refresh_token);
    let (next, next_hash) = accounts::new_refresh_token();
    let account_id = match accounts::use_refresh_token(&mut client, &hash, &next_hash).await? {
        Refreshed::Account(id) => id,
        Refreshed::Invalid => return Err(refused("the refresh token is unknown, expired or revoked; log in again")),
        Refreshed::Replayed => {
            return Err(refused(
                "this refresh token was used before: every session of the account was signed out; log in again",
            ))
        }
    };
    let account = accounts::by_id(&client, account_id)
        .await?
        .ok_or_else(|| refused("the account no longer exists"))?;
    drop(client);
    Ok(axum::Json(session(&state, account, Some(next)).await?))
}

fn account_id(caller: &Identity) -> Result<Uuid, ApiError> {
    caller.sub.parse().map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, "account_not_found", "No account")
            .detail("this token was not issued for an account (log in to get one that is)")
    })
}

fn no_account() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "account_not_found", "No account")
        .detail("the token's account does not exist")
}

/// The caller's account (any signed-in account).
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The account.", body = AccountView),
        (status = 404, description = "The token is not an account's (`account_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn me(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    let id = account_id(&caller)?;
    let client = state.pool.get().await?;
    let account = accounts::by_id(&client, id).await?.ok_or_else(no_account)?;
    Ok(axum::Json(account))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// 1 to 100 characters.
    display_name: String,
    /// Up to 30 digits, spaces, dashes and a leading `+`; null to remove it.
    phone: Option<String>,
}

/// Change the caller's name and phone (any signed-in account).
#[utoipa::path(put, path = "/v1/me", tag = "accounts", security(("bearer" = [])), request_body = Profile,
    responses(
        (status = 200, description = "The account as changed.", body = AccountView),
        (status = 404, description = "The token is not an account's (`account_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: Identity,
    Json(body): Json<Profile>,
) -> Result<impl IntoResponse, ApiError> {
    let id = account_id(&caller)?;
    check_name("display_name", &body.display_name)?;
    if let Some(phone) = &body.phone {
        let digits = phone.trim_start_matches('+');
        if phone.is_empty()
            || phone.len() > 30
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(invalid(
                "phone",
                "must be up to 30 digits, spaces or dashes, with an optional leading +",
            ));
        }
    }
    let client = state.pool.get().await?;
    let account =
        accounts::update_profile(&client, id, body.display_name.trim(), body.phone.as_deref())
            .await?
            .ok_or_else(no_account)?;
    Ok(axum::Json(account))
}

/// Add a movie to the caller's favourites (any signed-in account).
#[utoipa::path(put, path = "/v1/me/favorites/{movie_id}", tag = "accounts", security(("bearer" = [])),
    params(("movie_id" = Uuid, Path, description = "The movie.")),
    responses(
        (status = 204, description = "A favourite (also if it was already)."),
        (status = 404, description = "Unknown movie (`movie_not_found`) or account.", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn add_favorite(
    State(state): State<AppState>,
    caller: Identity,
    Path(movie_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let id = account_id(&caller)?;
    let client = state.pool.get().await?;
    accounts::by_id(&client, id).await?.ok_or_else(no_account)?;
    if !accounts::add_favorite(&client, id, movie_id).await? {
        return Err(DomainError::MovieNotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a movie from the caller's favourites (any signed-in account).
#[utoipa::path(delete, path = "/v1/me/favorites/{movie_id}", tag = "accounts", security(("bearer" = [])),
    params(("movie_id" = Uuid, Path, description = "The movie.")),
    responses(
        (status = 204, description = "Not a favourite (any more)."),
        (status = 404, description = "The token is not an account's (`account_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn remove_favorite(
    State(state): State<AppState>,
    caller: Identity,
    Path(movie_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let id = account_id(&caller)?;
    let client = state.pool.get().await?;
    accounts::remove_favorite(&client, id, movie_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's favourite movies, newest first (any signed-in account).
#[utoipa::path(get, path = "/v1/me/favorites", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The favourites.", body = [FavoriteView]),
        (status = 404, description = "The token is not an account's (`account_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn favorites(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    let id = account_id(&caller)?;
    let client = state.pool.get().await?;
    Ok(axum::Json(accounts::favorites(&client, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// Any of `customer`, `staff`, `analyst`, `auditor`, `admin`, `door`, or
    /// `staff:{cinema_id}` / `door:{cinema_id}` for staff of that cinema only; at least one.
    /// They take effect from the account's next login or refresh.
    roles: Vec<String>,
}

/// Set an account's roles (admin).
#[utoipa::path(put, path = "/v1/accounts/{account_id}/roles", tag = "accounts", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account.")), request_body = Roles,
    responses(
        (status = 200, description = "The account as changed.", body = AccountView),
        (status = 404, description = "Unknown account (`account_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown role, or none (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn set_roles(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(account_id): Path<Uuid>,
    Json(body): Json<Roles>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let roles = parse_roles(&body.roles)?;
    let client = state.pool.get().await?;
    accounts::by_id(&client, account_id)
        .await?
        .ok_or_else(no_account)?;
    // Recorded for auditors first, then made (commands::access says why).
    state
        .access
        .record(
            AccessCommand::SetRoles {
                account_id,
                roles: roles.clone(),
            },
            &headers.context(&caller),
        )
        .await?;
    let account = accounts::set_roles(&client, account_id, &roles)
        .await?
        .ok_or_else(no_account)?;
    Ok(axum::Json(account))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Whose key it is, such as the partner's name: 1 to 100 characters.
    name: String,
    /// Requests a minute, 1 to 100,000; over it, 429 `quota_exceeded` with `Retry-After`.
    quota_per_minute: i32,
    /// What the key may do (default `customer`): as for accounts.
    #[serde(default)]
    roles: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// Send it as `X-Api-Key`. Shown only now: it is stored as a hash.
    api_key: String,
    #[serde(flatten)]
    key: crate::api_keys::ApiKeyView,
}

fn parse_roles(roles: &[String]) -> Result<Vec<String>, ApiError> {
    let mut parsed: Vec<String> = Vec::new();
    for (index, role) in roles.iter().enumerate() {
        let Some(grant) = Grant::parse(role) else {
            return Err(invalid(
                &format!("roles[{index}]"),
                "must be customer, staff, analyst, auditor, admin or door, or \
                 staff:{cinema_id} or door:{cinema_id} for one cinema",
            ));
        };
        if !parsed.contains(&grant.name()) {
            parsed.push(grant.name());
        }
    }
    if parsed.is_empty() {
        return Err(invalid("roles", "at least one role"));
    }
    Ok(parsed)
}

/// Make an API key for a partner ticket client (admin).
#[utoipa::path(post, path = "/v1/api-keys", tag = "accounts", security(("bearer" = [])), request_body = NewApiKey,
    responses(
        (status = 201, description = "The key, shown once.", body = CreatedApiKey),
        (status = 422, description = "A field is invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewApiKey>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    check_name("name", &body.name)?;
    if !(1..=100_000).contains(&body.quota_per_minute) {
        return Err(invalid("quota_per_minute", "must be 1 to 100000"));
    }
    let roles = parse_roles(body.roles.as_deref().unwrap_or(&["customer".to_owned()]))?;
    let context = headers.context(&caller);
    let key_id = context.derive_id("api-key");
    state
        .access
        .record(
            AccessCommand::CreateApiKey {
                key_id,
                name: body.name.trim().to_owned(),
                roles: roles.clone(),
                quota_per_minute: body.quota_per_minute.unsigned_abs(),
            },
            &context,
        )
        .await?;
    let client = state.pool.get().await?;
    let (api_key, key) = crate::api_keys::create(
        &client,
        key_id,
        body.name.trim(),
        body.quota_per_minute,
        &roles,
    )
    .await?
    .ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "duplicate_id", "Key made before")
            .detail("this request made its key already; a key is shown only once")
    })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKey { api_key, key }),
    ))
}

/// Every API key, without the keys themselves (admin).
#[utoipa::path(get, path = "/v1/api-keys", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The keys.", body = [crate::api_keys::ApiKeyView])))]
pub async fn api_keys(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await?;
    Ok(axum::Json(crate::api_keys::list(&client).await?))
}

/// Revoke an API key: it stops working within 10 s (admin).
#[utoipa::path(delete, path = "/v1/api-keys/{key_id}", tag = "accounts", security(("bearer" = [])),
    params(("key_id" = Uuid, Path, description = "The key.")),
    responses(
        (status = 200, description = "Revoked (or already).", body = crate::api_keys::ApiKeyView),
        (status = 404, description = "No such key (`not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(key_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await?;
    crate::api_keys::find(&client, key_id)
        .await?
        .ok_or_else(|| ApiError::not_found("this API key"))?;
    state
        .access
        .record(
            AccessCommand::RevokeApiKey { key_id },
            &headers.context(&caller),
        )
        .await?;
    let key = crate::api_keys::revoke(&client, key_id)
        .await?
        .ok_or_else(|| ApiError::not_found("this API key"))?;
    state.api_keys.forget(key_id);
    Ok(axum::Json(key))
}
