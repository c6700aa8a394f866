//! Box-office figures for analysts and staff, read from the box-office and sales read
//! models: the box office grouped by any nesting of its dimensions, the on-sale curve, the
//! conversion funnel, and the first per-show sales report. JSON by default, CSV with
//! `Accept: text/csv` or `format=csv`; every answer says the position it reflects and
//! carries an ETag (definitions in docs/reports.md).

use super::read_position;
use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::openapi::Problem;
use crate::reports::{self, GroupedArgs, Invalid};
use crate::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use boxoffice_eventstore::Position;
use boxoffice_projections::box_office::{self, Cube, TimelineRow};
use boxoffice_projections::sales::{sales_by_show, SalesFilter, SalesRow, SalesTotal};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const ETAG_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_83a2_0c4b_4e57_9b1a_52e8_c3d7_a019);

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::Query(detail) if detail.starts_with("cursor") => {
                ApiError::bad_request("invalid_cursor", detail)
            }
            Invalid::Query(detail) => ApiError::bad_request("invalid_query", detail),
            Invalid::UnknownIds(names) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_id", "Unknown id")
                    .detail(format!("the box office knows no such {}", names.join(", ")))
                    .with("fields", names)
            }
        }
    }
}

/// How the client wants the answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn format_of(format: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
    match format {
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("format `{other}` is neither json nor csv"),
        )),
        None => {
            let accepts_csv =
                super::header_items(headers, header::ACCEPT).any(|v| v.starts_with("text/csv"));
            Ok(if accepts_csv {
                Format::Csv
            } else {
                Format::Json
            })
        }
    }
}

/// The ETag of `uri`'s answer in `format` now, and whether the client has it.
async fn etag(
    client: &deadpool_postgres::Client,
    uri: &str,
    format: Format,
    headers: &HeaderMap,
) -> Result<(String, bool), ApiError> {
    let at = box_office::etag_position(client).await?;
    let csv = format == Format::Csv;
    let name = format!("{uri}\u{1f}{at:?}\u{1f}{csv}");
    let tag = format!(
        "\"{}\"",
        Uuid::new_v5(&ETAG_NAMESPACE, name.as_bytes()).simple()
    );
    let matches = super::etag_matches(headers, &tag);
    Ok((tag, matches))
}

/// The answer, tagged; CSV with the position and the next page's link in headers.
fn answer(
    tag: String,
    position: Position,
    body: Result<serde_json::Map<String, Value>, (String, Option<String>)>,
) -> Response {
    let mut response = match body {
        Ok(mut json) => {
            json.insert("position".into(), Value::from(position.to_string()));
            axum::Json(Value::Object(json)).into_response()
        }
        Err((csv, next)) => {
            let mut response =
                ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response();
            if let Some(next) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
                response.headers_mut().insert(header::LINK, next);
            }
            response
        }
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&position.to_string()) {
        headers.insert("boxoffice-position", value);
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The same request for the next page.
fn next_link(uri: &axum::http::Uri, cursor: &str) -> String {
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let mut query: Vec<(String, String)> =
        query.into_iter().filter(|(k, _)| k != "cursor").collect();
    query.push(("cursor".into(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("<{}?{query}>; rel=\"next\"", uri.path())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupedParams {
    /// Comma-separated dimensions, nested in the order `movie, cinema, city, day, weekday,
    /// hour, category, show` (the funnel has no `category`).
    group_by: Option<String>,
    /// First local show date (required).
    from: Option<NaiveDate>,
    /// Last local show date, included (required; at most 366 days after `from`).
    to: Option<NaiveDate>,
    /// Only shows in this city.
    city_id: Option<Uuid>,
    /// Only shows in this cinema.
    cinema_id: Option<Uuid>,
    /// Only shows of this movie.
    movie_id: Option<Uuid>,
    /// Only rows in this currency (box office only).
    currency: Option<String>,
    /// A dimension grouped by or a measure, `-` first for descending.
    sort: Option<String>,
    /// Rows per page: 1 to 1000 (default 100).
    page_size: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

/// A grouped report: JSON rows with every measure and totals, or CSV.
#[derive(Serialize, ToSchema)]
pub struct GroupedReport {
    /// The dimensions, in nesting order.
    group_by: Vec<String>,
    from: NaiveDate,
    to: NaiveDate,
    /// One object per group: the dimensions' columns (`movie_id`, `movie_title`,
    /// `cinema_id`, `cinema_name`, `city_id`, `city_name`, `day`, `weekday`, `hour`,
    /// `category`, `show_id`, `starts_at`, `hall_id`, `cancelled`), `currency` (box office),
    /// and the measures of docs/reports.md.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<Value>,
    /// Over every group, not just this page: one per currency (box office), one object
    /// (funnel).
    #[schema(schema_with = totals_schema)]
    totals: Value,
    /// The next page's cursor; null on the last page.
    next_cursor: Option<String>,
    position: Position,
}

/// The box office's totals are a list (one per currency), the funnel's one object.
fn totals_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(ObjectBuilder::new()))
            .item(ObjectBuilder::new())
            .build(),
    )
}

async fn grouped(
    state: AppState,
    caller: Identity,
    cube: Cube,
    uri: axum::http::Uri,
    headers: HeaderMap,
    params: GroupedParams,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Analyst, Role::Staff])?;
    if !caller.has(Role::Analyst) {
        caller.require_every_cinema()?;
    }
    let format = format_of(params.format.as_deref(), &headers)?;
    let args = GroupedArgs {
        group_by: params.group_by,
        from: params.from,
        to: params.to,
        city_id: params.city_id,
        cinema_id: params.cinema_id,
        movie_id: params.movie_id,
        currency: params.currency,
        sort: params.sort,
        page_size: params.page_size,
        cursor: params.cursor,
    };
    let grouping = reports::grouping(cube, &args)?;
    let position = read_position(&state, "box_office", params.min_position).await?;
    let client = state.pool.get().await?;
    let unknown = box_office::unknown_ids(
        &client,
        grouping.city_id,
        grouping.cinema_id,
        grouping.movie_id,
        None,
    )
    .await?;
    if !unknown.is_empty() {
        return Err(Invalid::UnknownIds(unknown).into());
    }
    let (tag, unchanged) = etag(&client, &uri.to_string(), format, &headers).await?;
    if unchanged {
        return Ok(super::not_modified(tag));
    }
    let report = box_office::grouped(&client, cube, &grouping)
        .await?
        .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor does not fit this report"))?;
    let body = match format {
        Format::Json => Ok(reports::grouped_json(cube, &grouping, &report)),
        Format::Csv => {
            let next = report
                .next
                .as_ref()
                .map(|after| next_link(&uri, &reports::encode_cursor(cube, &grouping, after)));
            Err((reports::grouped_csv(cube, &report, true), next))
        }
    };
    Ok(answer(tag, position, body))
}

/// The box office grouped by movie, cinema, city, day, weekday, hour, category or show,
/// with every measure and totals per currency (analyst or staff).
#[utoipa::path(
    get,
    path = "/v1/reports/box-office",
    tag = "reports",
    security(("bearer" = [])),
    params(GroupedParams),
    responses(
        (status = 200, description = "A page of the report (JSON, or CSV with `Accept: text/csv` or `format=csv`).", body = GroupedReport,
            headers(("ETag" = String), ("Boxoffice-Position" = String), ("Link" = String, description = "CSV: the next page"))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 422, description = "An id the box office does not know (`unknown_id`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn box_office(
    State(state): State<AppState>,
    caller: Identity,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<GroupedParams>,
) -> Result<Response, ApiError> {
    grouped(state, caller, Cube::Facts, uri, headers, params).await
}

/// The conversion funnel (holds, payments, waiting list, promo codes) grouped like the box
/// office, without categories (analyst or staff).
#[utoipa::path(
    get,
    path = "/v1/reports/funnel",
    tag = "reports",
    security(("bearer" = [])),
    params(GroupedParams),
    responses(
        (status = 200, description = "A page of the report (JSON, or CSV).", body = GroupedReport,
            headers(("ETag" = String), ("Boxoffice-Position" = String), ("Link" = String, description = "CSV: the next page"))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 422, description = "An id the box office does not know (`unknown_id`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn funnel(
    State(state): State<AppState>,
    caller: Identity,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<GroupedParams>,
) -> Result<Response, ApiError> {
    grouped(state, caller, Cube::Funnel, uri, headers, params).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// One show's sales (exactly one of show_id, movie_id, cinema_id, city_id).
    show_id: Option<Uuid>,
    /// A movie's sales over all its shows.
    movie_id: Option<Uuid>,
    /// A cinema's sales.
    cinema_id: Option<Uuid>,
    /// A city's sales.
    city_id: Option<Uuid>,
    /// `hour` (default) or `day`.
    bucket: Option<String>,
    /// The IANA time zone days and `from`/`to` are in (default UTC).
    tz: Option<String>,
    /// First sale date.
    from: Option<NaiveDate>,
    /// Last sale date, included (at most 366 days after `from`).
    to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct Timeline {
    rows: Vec<TimelineRow>,
    position: Position,
}

/// The on-sale curve: tickets and net revenue per hour or day of sale time, with running
/// totals, for a show, movie, cinema or city (analyst or staff).
#[utoipa::path(
    get,
    path = "/v1/reports/sales-timeline",
    tag = "reports",
    security(("bearer" = [])),
    params(TimelineParams),
    responses(
        (status = 200, description = "The curve (JSON, or CSV).", body = Timeline,
            headers(("ETag" = String), ("Boxoffice-Position" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 422, description = "An id the box office does not know (`unknown_id`).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Identity,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<TimelineParams>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Analyst, Role::Staff])?;
    if !caller.has(Role::Analyst) {
        caller.require_every_cinema()?;
    }
    let format = format_of(params.format.as_deref(), &headers)?;
    let scope = reports::timeline_scope(
        params.show_id,
        params.movie_id,
        params.cinema_id,
        params.city_id,
    )?;
    let by_day = match params.bucket.as_deref() {
        None | Some("hour") => false,
        Some("day") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("bucket `{other}` is neither hour nor day"),
            ))
        }
    };
    let tz = reports::time_zone(params.tz.as_deref())?;
    reports::date_range(params.from, params.to, false)?;
    let position = read_position(&state, "box_office", params.min_position).await?;
    let client = state.pool.get().await?;
    let unknown = box_office::unknown_ids(
        &client,
        params.city_id,
        params.cinema_id,
        params.movie_id,
        params.show_id,
    )
    .await?;
    if !unknown.is_empty() {
        return Err(Invalid::UnknownIds(unknown).into());
    }
    let (tag, unchanged) = etag(&client, &uri.to_string(), format, &headers).await?;
    if unchanged {
        return Ok(super::not_modified(tag));
    }
    let rows = box_office::timeline(&client, scope, by_day, &tz, params.from, params.to).await?;
    let body = match format {
        Format::Json => {
            let mut json = serde_json::Map::new();
            json.insert(
                "rows".into(),
                serde_json::to_value(&rows).unwrap_or_default(),
            );
            Ok(json)
        }
        Format::Csv => Err((reports::timeline_csv(&rows), None)),
    };
    Ok(answer(tag, position, body))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesParams {
    /// Only this show.
    show_id: Option<Uuid>,
    /// Only shows of this movie.
    movie_id: Option<Uuid>,
    /// Shows starting at or after this instant.
    from: Option<DateTime<FixedOffset>>,
    /// Shows starting before this instant.
    to: Option<DateTime<FixedOffset>>,
    /// Shows per page: 1 to 10,000 (default 1,000).
    page_size: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Wait (up to 5 s) until the read model has reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct SalesReport {
    shows: Vec<SalesRow>,
    /// Over every show the filter matches, not just this page.
    totals: Vec<SalesTotal>,
    /// The next page's cursor; null on the last page.
    next_cursor: Option<String>,
    position: Position,
}

/// Tickets, gross, refunds and net per show (by start, a page at a time), and totals per
/// currency over every matching show (analyst or staff).
#[utoipa::path(
    get,
    path = "/v1/reports/sales",
    tag = "reports",
    security(("bearer" = [])),
    params(SalesParams),
    responses(
        (status = 200, description = "A page of the report.", body = SalesReport)
    )
)]
pub async fn sales(
    State(state): State<AppState>,
    caller: Identity,
    Query(params): Query<SalesParams>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Analyst, Role::Staff])?;
    if !caller.has(Role::Analyst) {
        caller.require_every_cinema()?;
    }
    let page_size = super::page_limit(params.page_size, 1000, 10_000).map_err(|_| {
        ApiError::bad_request("invalid_query", "page_size must be between 1 and 10000")
    })?;
    let after = match &params.cursor {
        None => None,
        Some(cursor) => Some(decode_sales_cursor(cursor).ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "cursor is not one this report handed out")
        })?),
    };
    let position = read_position(&state, "sales", params.min_position).await?;
    let filter = SalesFilter {
        show_id: params.show_id,
        movie_id: params.movie_id,
        starts_from: params.from.map(|t| t.with_timezone(&Utc)),
        starts_before: params.to.map(|t| t.with_timezone(&Utc)),
    };
    let client = state.pool.get().await?;
    let page = sales_by_show(&client, &filter, page_size, after).await?;
    Ok(axum::Json(SalesReport {
        next_cursor: page.next.map(|(at, id)| encode_sales_cursor(at, id)),
        shows: page.shows,
        totals: page.totals,
        position,
    }))
}

fn encode_sales_cursor(starts_at: DateTime<Utc>, show_id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}/{show_id}", starts_at.to_rfc3339()))
}

fn decode_sales_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(text).ok()?;
    let (at, id) = text.rsplit_once('/')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}
