//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes as the
//! router is built (so a route cannot be served without being described), plus what every
//! operation shares: the problem schema with every `code`, the bearer scheme, and the
//! problem responses that any operation of a kind can give.

use crate::error::PROBLEM_CODES;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Common problem responses: (status, description, applies to).
const SHARED_RESPONSES: &[(&str, &str, Applies)] = &[
    ("400", "The request cannot be read: malformed JSON, a bad path or query parameter, a bad header.", Applies::Always),
    ("401", "Missing, malformed, expired or forged bearer token.", Applies::Secured),
    ("403", "The token lacks a role this operation needs.", Applies::Secured),
    ("413", "The body is larger than the limit (`payload_too_large`).", Applies::WithBody),
    ("415", "The body is not `application/json` (`unsupported_media_type`).", Applies::WithBody),
    ("422", "The body is well-formed JSON but not a valid request (`validation_failed`, `idempotency_key_reused`).", Applies::WithBody),
    ("503", "Temporarily unavailable: the database is unreachable, the server is overloaded or the request timed out (`service_unavailable`, `overloaded`, `request_timeout`, `projection_lagging`). Retry after `Retry-After` seconds; commands are idempotent by `Idempotency-Key`.", Applies::Always),
];

#[derive(Clone, Copy, PartialEq)]
enum Applies {
    Always,
    Secured,
    WithBody,
}

/// Adds what the handlers' attributes leave out. Called once, when the router is built.
pub fn complete(mut api: OpenApi) -> OpenApi {
    api.info.title = "Boxoffice".into();
    api.info.description = Some(
        "Event-sourced cinema ticketing: hold seats, pay, refund; seat maps, order history, \
         sales reports and the audit log. Errors are RFC 9457 problems with a stable `code`."
            .into(),
    );
    api.info.version = env!("CARGO_PKG_VERSION").into();
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Problem".into(), <Problem as PartialSchema>::schema());
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "HS256 JWT with `sub` and `roles` (customer, staff, analyst, auditor, admin, door; \
                     `staff:{cinema_id}` and `door:{cinema_id}` for one cinema's staff), from \
                     `POST /v1/auth/login`. Partner ticket clients may send an \
                     `X-Api-Key` instead (made by an admin at `POST /v1/api-keys`): the key is \
                     their identity, within its request quota per minute (429 \
                     `quota_exceeded` past it).",
                ))
                .build(),
        ),
    );
    for (_, item) in api.paths.paths.iter_mut() {
        for operation in operations(item) {
            add_shared_responses(operation);
        }
    }
    api
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_shared_responses(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let with_body = operation.request_body.is_some();
    for (status, description, applies) in SHARED_RESPONSES {
        let applies = match applies {
            Applies::Always => true,
            Applies::Secured => secured,
            Applies::WithBody => with_body,
        };
        if applies && !operation.responses.responses.contains_key(*status) {
            operation
                .responses
                .responses
                .insert((*status).to_owned(), problem_response(description));
        }
    }
}

/// A response whose body is a [`Problem`].
pub fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The body of every error response (the schema only; [`crate::error::ApiError`] builds it).
pub struct Problem;

impl ToSchema for Problem {}

impl PartialSchema for Problem {
    fn schema() -> RefOr<Schema> {
        problem_schema()
    }
}

fn problem_schema() -> RefOr<Schema> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .description(Some(
            "An RFC 9457 problem. `code` is stable and machine-readable; some codes add members \
             (`unavailable_seats` with `reason`, `errors`, `expires_at`, `expected`, `paid`, `order_id`, \
             `seats`, `expirable_at`, `position`).",
        ))
        .property(
            "type",
            string().description(Some("`urn:boxoffice:problem:{code}`")),
        )
        .property("title", string())
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(400))
                .maximum(Some(599)),
        )
        .property("detail", string())
        .property(
            "code",
            string().enum_values(Some(PROBLEM_CODES.iter().copied())),
        )
        .required("type")
        .required("title")
        .required("status")
        .required("detail")
        .required("code")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}
