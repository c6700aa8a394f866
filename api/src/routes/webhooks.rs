//! Outbound webhooks (admin): register an endpoint for kinds of events, list and disable
//! endpoints, and read each one's deliveries with every attempt. The sending itself is
//! `boxoffice_webhooks`; registering and disabling are recorded in the `access` stream (the
//! URL and kinds, never the secret), so an auditor sees who was sent what.

use super::page_limit;
use crate::accounts::new_secret_bytes;
use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::access::AccessCommand;
use boxoffice_domain::{DomainError, FieldError};
use boxoffice_webhooks::endpoints::{self, DeliveryStatus, DeliveryView, WebhookView};
use boxoffice_webhooks::{kinds, signature};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MAX_URL_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 200;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST: an absolute `http` or `https` URL without credentials (the signature
    /// is what authenticates us), at most 2000 characters.
    url: String,
    /// What to send, one or more of `order.paid`, `order.refunded`, `order.exchanged`,
    /// `ticket.checked_in`, `show.cancelled`, `waitlist.offered`.
    kinds: Vec<String>,
    /// The operator's note: at most 200 characters.
    #[serde(default)]
    description: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The signing secret (`whsec_` and base64 of the key): shown only now.
    secret: String,
    #[serde(flatten)]
    webhook: WebhookView,
}

fn invalid(field: &str, message: &str) -> ApiError {
    DomainError::Validation(vec![FieldError::new(field, message)]).into()
}

/// The URL as it will be called, or why not.
fn check_url(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.chars().count() > MAX_URL_CHARS {
        return Err(invalid("url", "must be at most 2000 characters"));
    }
    let url = url::Url::parse(text)
        .map_err(|_| invalid("url", "must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url", "must be an absolute http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "url",
            "must not carry credentials: receivers check the signature instead",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("url", "must not have a fragment"));
    }
    Ok(url.to_string())
}

fn check_kinds(asked: &[String]) -> Result<Vec<String>, ApiError> {
    let mut chosen: Vec<String> = Vec::new();
    for (index, kind) in asked.iter().enumerate() {
        if !kinds::ALL.contains(&kind.as_str()) {
            return Err(invalid(
                &format!("kinds[{index}]"),
                "must be order.paid, order.refunded, order.exchanged, ticket.checked_in, \
                 show.cancelled or waitlist.offered",
            ));
        }
        if !chosen.contains(kind) {
            chosen.push(kind.clone());
        }
    }
    if chosen.is_empty() {
        return Err(invalid("kinds", "at least one kind"));
    }
    Ok(chosen)
}

/// Register a webhook endpoint (admin): from now on, each event of the kinds asked for is
/// POSTed to it, signed, in order per show, at least once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = NewWebhook,
    responses(
        (status = 201, description = "The endpoint and its secret, shown once.", body = CreatedWebhook),
        (status = 409, description = "This request registered its endpoint already (`duplicate_id`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn register(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewWebhook>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let url = check_url(&body.url)?;
    let kinds = check_kinds(&body.kinds)?;
    let description = body.description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS
        || description.chars().any(char::is_control)
    {
        return Err(invalid(
            "description",
            "must be at most 200 characters, none of them control characters",
        ));
    }
    let context = headers.context(&caller);
    let webhook_id = context.derive_id("webhook");
    state
        .access
        .record(
            AccessCommand::RegisterWebhook {
                webhook_id,
                url: url.clone(),
                kinds: kinds.clone(),
            },
            &context,
        )
        .await?;
    let secret = signature::secret_of(&new_secret_bytes());
    let client = state.pool.get().await?;
    let webhook = endpoints::register(&client, webhook_id, &url, &kinds, description, &secret)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "duplicate_id",
                "Endpoint registered before",
            )
            .detail("this request registered its endpoint already; a secret is shown only once")
        })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedWebhook { secret, webhook }),
    ))
}

/// Every webhook endpoint with how its deliveries stand, without secrets (admin).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "The endpoints, oldest first.", body = [WebhookView])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Identity,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await?;
    Ok(axum::Json(endpoints::list(&client).await?))
}

/// One webhook endpoint (admin).
#[utoipa::path(get, path = "/v1/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint.")),
    responses(
        (status = 200, description = "The endpoint.", body = WebhookView),
        (status = 404, description = "No such endpoint (`not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn find(
    State(state): State<AppState>,
    caller: Identity,
    Path(webhook_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await?;
    Ok(axum::Json(existing(&client, webhook_id).await?))
}

/// The endpoint, or 404.
async fn existing(
    client: &deadpool_postgres::Client,
    webhook_id: Uuid,
) -> Result<WebhookView, ApiError> {
    endpoints::find(client, webhook_id)
        .await?
        .ok_or_else(|| ApiError::not_found("this webhook endpoint"))
}

/// Disable a webhook endpoint (admin): nothing more is sent to it, including deliveries
/// still waiting.
#[utoipa::path(delete, path = "/v1/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint.")),
    responses(
        (status = 200, description = "Disabled (or already).", body = WebhookView),
        (status = 404, description = "No such endpoint (`not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(webhook_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let client = state.pool.get().await?;
    existing(&client, webhook_id).await?;
    state
        .access
        .record(
            AccessCommand::DisableWebhook { webhook_id },
            &headers.context(&caller),
        )
        .await?;
    endpoints::disable(&client, webhook_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("this webhook endpoint"))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesParams {
    /// Only `waiting` or only `delivered` ones (default: both).
    status: Option<DeliveryStatus>,
    /// Page size, 1 to 100 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<Uuid>,
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    deliveries: Vec<DeliveryView>,
    next_cursor: Option<Uuid>,
}

/// An endpoint's deliveries, newest first, each with every attempt (admin).
#[utoipa::path(get, path = "/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint."), DeliveriesParams),
    responses(
        (status = 200, description = "A page of deliveries.", body = DeliveryPage),
        (status = 404, description = "No such endpoint (`not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Identity,
    Path(webhook_id): Path<Uuid>,
    Query(params): Query<DeliveriesParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let limit = page_limit(params.limit, 50, 100)?;
    let client = state.pool.get().await?;
    existing(&client, webhook_id).await?;
    let deliveries =
        endpoints::deliveries(&client, webhook_id, limit, params.cursor, params.status)
            .await
            .map_err(|error| ApiError::internal(error.to_string()))?;
    let next_cursor = if deliveries.len() as i64 == limit {
        deliveries.last().map(|d| d.delivery_id)
    } else {
        None
    };
    Ok(axum::Json(DeliveryPage {
        deliveries,
        next_cursor,
    }))
}
