//! Promo codes as staff manage them: create one with its terms and limits, and see how
//! often it is used. A customer uses a code when holding seats (routes/holds.rs).

use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use boxoffice_domain::promo::{Discount, PromoCode, PromoScope, PromoTerms};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "SPRING25",
    "discount": {"percent": 25},
    "scope": {"movie_id": null, "cinema_id": null, "show_id": null},
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2027-01-01T00:00:00Z",
    "usage_limit": 100,
    "per_customer_limit": 1
}))]
pub struct NewPromo {
    /// 3 to 32 letters, digits, `-` or `_`; case does not matter.
    #[schema(value_type = String)]
    code: PromoCode,
    discount: Discount,
    #[serde(default, deserialize_with = "object")]
    scope: PromoScope,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    usage_limit: u32,
    per_customer_limit: u32,
}

#[derive(Serialize, ToSchema)]
pub struct PromoView {
    #[schema(value_type = String)]
    code: PromoCode,
    terms: PromoTerms,
    /// Uses held now (holds and paid orders).
    uses: usize,
}

/// Create a promo code (staff).
#[utoipa::path(
    post,
    path = "/v1/promos",
    tag = "promos",
    security(("bearer" = [])),
    request_body = NewPromo,
    responses(
        (status = 201, description = "Created.", body = PromoView),
        (status = 200, description = "It existed with the same terms.", body = PromoView),
        (status = 409, description = "The code exists with other terms (`duplicate_id`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_promo(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewPromo>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff, Role::Admin])?;
    let context = headers.context(&caller);
    let terms = PromoTerms {
        discount: body.discount,
        scope: body.scope,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        usage_limit: body.usage_limit,
        per_customer_limit: body.per_customer_limit,
    };
    let created = state
        .promos
        .create(body.code.clone(), terms.clone(), &context)
        .await?;
    let uses = state.promos.get(&body.code).await?.uses();
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(PromoView {
            code: body.code,
            terms,
            uses,
        }),
    ))
}

/// A promo code's terms and how often it is used now (staff).
#[utoipa::path(
    get,
    path = "/v1/promos/{code}",
    tag = "promos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The code.")),
    responses(
        (status = 200, description = "The code.", body = PromoView),
        (status = 404, description = "No such code.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn promo(
    State(state): State<AppState>,
    caller: Identity,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Staff, Role::Admin, Role::Analyst])?;
    if !caller.has(Role::Admin) && !caller.has(Role::Analyst) {
        caller.require_every_cinema()?;
    }
    let code = PromoCode::parse(&code)
        .ok_or_else(|| ApiError::from(boxoffice_domain::DomainError::PromoNotFound))?;
    let promo = state.promos.get(&code).await?;
    let terms = promo
        .terms()
        .cloned()
        .ok_or(boxoffice_domain::DomainError::PromoNotFound)?;
    Ok(axum::Json(PromoView {
        code,
        terms,
        uses: promo.uses(),
    }))
}

/// A JSON object only: serde would also read a struct from an array of its fields.
fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match serde_json::Value::deserialize(deserializer)? {
        value @ serde_json::Value::Object(_) => {
            serde_json::from_value(value).map_err(D::Error::custom)
        }
        _ => Err(D::Error::custom("expected an object")),
    }
}
