//! Liveness and readiness for load balancers and orchestrators: `/healthz` answers while the
//! process runs; `/readyz` only while the database (and the event log) answer, so traffic
//! goes elsewhere when this process cannot serve it.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` (process up) or `ready` (database answers).
    status: &'static str,
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Up.", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The process can serve: the database and the event log (the same database by default,
/// or EventStoreDB) answer within 2 s.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, description = "Ready.", body = Health))
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let check = async {
        let client = state.pool.get().await?;
        boxoffice_projections::database_answers(&client).await?;
        state.log.head().await?;
        Ok::<_, ApiError>(())
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        Ok(Err(error)) => Err(ApiError::unavailable(format!(
            "not ready: {}",
            error.detail
        ))),
        Err(_) => Err(ApiError::unavailable(
            "not ready: the database or the event log did not answer in 2 s",
        )),
    }
}
