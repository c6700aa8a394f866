//! The seals over the log's hash chain, and the key to check them with: what an auditor
//! keeps outside the system to prove later that nothing before a seal changed.

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use boxoffice_audit::seal::Seal;
use boxoffice_audit::verify_log::read_seals;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SealParams {
    /// Seals after this number (default: from the first).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SealPage {
    seals: Vec<Seal>,
    /// The `after` of the next page, or null at the last seal.
    next: Option<u64>,
}

/// The seals, oldest first (auditor). Keep one outside the system: `boxoffice audit
/// verify-log --seal FILE` later proves the log still holds everything it fixed.
#[utoipa::path(get, path = "/v1/audit/seals", tag = "audit", security(("bearer" = [])),
    params(SealParams),
    responses((status = 200, description = "A page of seals.", body = SealPage)))]
pub async fn seals(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<SealParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = super::super::page_limit(params.limit, 100, 1000)? as usize;
    let after = super::super::log_number("after", params.after)?.unwrap_or(0);
    let mut seals: Vec<Seal> = read_seals(state.log.as_ref())
        .await?
        .into_iter()
        .map(|(_, seal)| seal)
        .filter(|seal| seal.body.number > after)
        .collect();
    let next = (seals.len() > limit).then(|| {
        seals.truncate(limit);
        seals.last().map_or(after, |s| s.body.number)
    });
    Ok(axum::Json(SealPage { seals, next }))
}

#[derive(Serialize, ToSchema)]
pub struct PublicKeyView {
    /// Always `Ed25519`.
    algorithm: &'static str,
    /// The 32-byte public key, hex.
    public_key: String,
    /// True when the server signs with the development key, which anyone can make: its
    /// seals prove nothing.
    development: bool,
}

/// The key seals are signed with (anyone may read it).
#[utoipa::path(get, path = "/v1/audit/public-key", tag = "audit",
    responses((status = 200, description = "The public key.", body = PublicKeyView)))]
pub async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(PublicKeyView {
        algorithm: "Ed25519",
        public_key: state.audit.public_key.to_hex(),
        development: state.audit.development,
    })
}
