//! Who is calling: a bearer JWT (HS256) with `sub` and `roles`. Customers act on their own
//! holds and orders; staff schedule shows and act on anyone's; analysts read reports;
//! auditors read the log; door staff let tickets in.
//!
//! Staff and door roles may be limited to cinemas: `staff:{cinema_id}` (any number of them)
//! instead of `staff`. An account whose staff and door roles are all limited so acts only
//! on those cinemas' shows, halls and orders ([`Identity::cinemas`]): the writers check it
//! against the show's own venue before deciding, so nothing is written for another cinema.

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

/// A role as accounts, keys and tokens name it: `staff`, or `staff:{cinema_id}` for staff
/// of one cinema (`door` likewise; other roles are never limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub cinema: Option<uuid::Uuid>,
}

impl Grant {
    pub fn parse(name: &str) -> Option<Self> {
        match name.split_once(':') {
            None => Role::parse(name).map(|role| Self { role, cinema: None }),
            Some((role, cinema)) => {
                let role = Role::parse(role).filter(|r| matches!(r, Role::Staff | Role::Door))?;
                let cinema = uuid::Uuid::try_parse(cinema).ok()?;
                Some(Self {
                    role,
                    cinema: Some(cinema),
                })
            }
        }
    }

    /// How it is written: `staff` or `staff:{cinema_id}`.
    pub fn name(&self) -> String {
        match self.cinema {
            None => self.role.as_str().to_owned(),
            Some(cinema) => format!("{}:{cinema}", self.role.as_str()),
        }
    }
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
        let names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
        self.mint_names(sub, &names, ttl)
    }

    /// Mints a token for `sub` with roles as accounts name them (`staff:{cinema_id}` too).
    pub fn mint_names(&self, sub: &str, roles: &[String], ttl: chrono::Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            roles: roles.to_vec(),
            exp: now + ttl.num_seconds(),
            iat: now,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a secret cannot fail")
    }

    /// Signs claims of a kind other than an access token; `claims` must carry an `aud`
    /// naming the kind (see [`crate::waiting_room::tokens`]).
    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing with a secret cannot fail")
    }

    /// The claims of a token [`JwtKeys::sign`] made for `audience`; `None` if it is not one
    /// (forged, altered, or of another kind). Time limits are the caller's to check.
    pub fn open<T: serde::de::DeserializeOwned>(&self, token: &str, audience: &str) -> Option<T> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["aud"]);
        validation.validate_exp = false;
        validation.set_audience(&[audience]);
        decode::<T>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
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
        Ok(Identity::new(sub, &data.claims.roles))
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
    /// The cinemas a caller whose staff and door roles are all limited acts on (None: any,
    /// or no such role).
    pub cinemas: Option<std::collections::BTreeSet<uuid::Uuid>>,
}

impl Identity {
    /// From role names as accounts, keys and tokens carry them (unknown names are ignored).
    pub fn new(sub: String, names: &[String]) -> Self {
        let grants: Vec<Grant> = names.iter().filter_map(|n| Grant::parse(n)).collect();
        let mut roles: Vec<Role> = Vec::new();
        for grant in &grants {
            if !roles.contains(&grant.role) {
                roles.push(grant.role);
            }
        }
        let limited = |g: &Grant| matches!(g.role, Role::Staff | Role::Door);
        let unlimited = grants.iter().any(|g| limited(g) && g.cinema.is_none());
        let cinemas: std::collections::BTreeSet<uuid::Uuid> =
            grants.iter().filter_map(|g| g.cinema).collect();
        Self {
            sub,
            roles,
            cinemas: (!unlimited && !cinemas.is_empty()).then_some(cinemas),
        }
    }

    /// Refuses (403) what only staff of every cinema may do (the chain's catalogue, promo
    /// codes, chain-wide reports).
    pub fn require_every_cinema(&self) -> Result<(), ApiError> {
        match &self.cinemas {
            None => Ok(()),
            Some(_) => Err(ApiError::forbidden(
                "this account acts for some cinemas only; this needs staff of every cinema",
            )),
        }
    }

    /// Refuses (403) acting on `cinema` (None: a show outside the catalogue) for a caller
    /// limited to other cinemas.
    pub fn require_cinema(&self, cinema: Option<uuid::Uuid>) -> Result<(), ApiError> {
        match (&self.cinemas, cinema) {
            (None, _) => Ok(()),
            (Some(cinemas), Some(cinema)) if cinemas.contains(&cinema) => Ok(()),
            (Some(_), _) => Err(ApiError::forbidden(
                "this account does not act for this cinema",
            )),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|r| (*r).to_owned()).collect()
    }

    #[test]
    fn staff_of_some_cinemas_is_limited_to_them_and_unlimited_staff_is_not() {
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let limited = Identity::new(
            "s".into(),
            &names(&[&format!("staff:{a}"), &format!("door:{b}")]),
        );
        assert!(limited.has(Role::Staff) && limited.has(Role::Door));
        assert_eq!(limited.cinemas, Some([a, b].into()));
        assert!(limited.require_cinema(Some(a)).is_ok());
        assert!(limited
            .require_cinema(Some(uuid::Uuid::from_u128(3)))
            .is_err());
        assert!(limited.require_cinema(None).is_err());
        assert!(limited.require_every_cinema().is_err());
        let unlimited = Identity::new("s".into(), &names(&["staff", &format!("door:{b}")]));
        assert_eq!(unlimited.cinemas, None);
        assert!(unlimited.require_every_cinema().is_ok());
        let customer = Identity::new("c".into(), &names(&["customer", "nonsense"]));
        assert_eq!(
            (customer.roles.clone(), customer.cinemas),
            (vec![Role::Customer], None)
        );
    }

    #[test]
    fn only_staff_and_door_roles_take_a_cinema() {
        let cinema = uuid::Uuid::from_u128(7);
        let grant = Grant::parse(&format!("door:{cinema}")).unwrap();
        assert_eq!(grant.name(), format!("door:{cinema}"));
        assert_eq!(Grant::parse(&format!("analyst:{cinema}")), None);
        assert_eq!(Grant::parse("staff:not-a-uuid"), None);
        assert_eq!(Grant::parse("staff").unwrap().name(), "staff");
    }
}
