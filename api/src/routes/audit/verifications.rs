//! Verifications of the read models against the log and of the log itself, started by an
//! auditor and followed until done: the same checks as `boxoffice projections verify` and
//! `boxoffice audit verify-log`, run in the background of the server (one at a time across
//! every server process), their results kept.

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Path;
use crate::verifications::{self, Started, VerificationView};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct VerificationStarted {
    verification_id: Uuid,
    /// Always `running`.
    status: &'static str,
}

/// Starts a verification (auditor): every read model rebuilt from the log at the position
/// of its live checkpoint and compared row by row, then the log walked with the server's
/// public key. Follow it at the `Location` given.
#[utoipa::path(post, path = "/v1/audit/verifications", tag = "audit", security(("bearer" = [])),
    responses(
        (status = 202, description = "Started.", body = VerificationStarted,
            headers(("Location" = String, description = "Where to follow it."))),
        (status = 409, description = "One is running (`verification_running`, with its `verification_id`).", body = crate::openapi::Problem, content_type = "application/problem+json")
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let mut client = state.pool.get().await?;
    match state.verifications.start(&mut client, &caller).await? {
        Started::New(verification_id) => Ok((
            StatusCode::ACCEPTED,
            [(
                header::LOCATION,
                format!("/v1/audit/verifications/{verification_id}"),
            )],
            axum::Json(VerificationStarted {
                verification_id,
                status: "running",
            }),
        )),
        Started::Refused(running) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "verification_running",
            "A verification is running",
        )
        .detail("one verification runs at a time; follow the one running, or start again when it is done")
        .with("verification_id", running)),
    }
}

/// A verification (auditor): its status, progress and, when done, what it found.
#[utoipa::path(get, path = "/v1/audit/verifications/{verification_id}", tag = "audit",
    security(("bearer" = [])),
    params(("verification_id" = Uuid, Path, description = "As the start answered.")),
    responses(
        (status = 200, description = "The verification.", body = VerificationView),
        (status = 404, description = "No such verification (`not_found`).", body = crate::openapi::Problem, content_type = "application/problem+json")
    ))]
pub async fn verification(
    State(state): State<AppState>,
    caller: Identity,
    Path(verification_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let client = state.pool.get().await?;
    let view = verifications::view(&client, verification_id)
        .await?
        .ok_or_else(|| ApiError::not_found("this verification"))?;
    Ok(axum::Json(view))
}
