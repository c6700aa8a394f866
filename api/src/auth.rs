//! Who is calling: a bearer JWT (HS256) with `sub` and `roles`. Customers act on their own
//! holds and orders; staff schedule shows and act on anyone's; analysts read reports;
//! auditors read the log.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Staff,
    Analyst,
    Auditor,
    /// Grants roles to accounts.
    Admin,
    /// Lets ticket holders in at a cinema's doors (scans tickets, sees who is in).
    Door,
}

impl Role {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "customer" => Some(Self::Customer),
            "staff" => Some(Self::Staff),
            "analyst" => Some(Self::Analyst),
            "auditor" => Some(Self::Auditor),
            "admin" => Some(Self::Admin),
            "door" => Some(Self::Door),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Staff => "staff",
            Self::Analyst => "analyst",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
            Self::Door => "door",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
    exp: i64,
    #[serde(default)]
    iat: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// Mints a token for `sub` with `roles`, valid for `ttl`.
    pub fn mint(&self, sub: &str, roles: &[Role], ttl: chrono::Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            exp: now + ttl.num_seconds(),
            iat: now,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a secret cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Identity, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 5;
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| ApiError::unauthorized(format!("the bearer token is not valid: {e}")))?;
        let sub = data.claims.sub.trim().to_owned();
        if sub.is_empty() || sub.chars().count() > 200 {
            return Err(ApiError::unauthorized(
                "the token's subject is empty or too long",
            ));
        }
        Ok(Identity {
            sub,
            roles: data
                .claims
                .roles
                .iter()
                .filter_map(|r| Role::parse(r))
                .collect(),
        })
    }
}

/// The identity a valid `X-Api-Key` made: `api_keys::enforce` puts it in the request's
/// extensions, and the [`Identity`] extractor takes it from there before any bearer token.
#[derive(Clone)]
pub struct KeyIdentity(pub Identity);

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub sub: String,
    pub roles: Vec<Role>,
}

impl Identity {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this needs the role {}",
                names.join(" or ")
            )))
        }
    }
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A partner's `X-Api-Key`, checked by `api_keys::enforce`.
        if let Some(KeyIdentity(identity)) = parts.extensions.get() {
            return Ok(identity.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        state.jwt.verify(token)
    }
}
