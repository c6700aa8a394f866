//! What ticket clients browse, without a token: cities, what is showing, the catalogue's
//! movies, a movie and its shows, one show, a cinema's schedule for a day, and search.
//! Answers carry an ETag derived from the positions at which the catalogue and the seat
//! categories' availability last changed (and the minute, since shows drop out as they
//! start); a matching `If-None-Match` gets 304 without a search, and an answer computed for
//! one client is reused for others while its ETag is the same (`crate::answers`).

use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use boxoffice_domain::DomainError;
use boxoffice_eventstore::Position;
use boxoffice_projections::catalogue::{
    self, After, CinemaSchedule, CinemaShows, CityView, MovieView, NowShowing, Search, SearchHit,
    ShowDetail, SortKey,
};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const ETAG_NAMESPACE: Uuid = Uuid::from_u128(0x2b7c_19e4_5a0d_4c3f_8e61_d0a9_37f2_b845);
const MAX_PAGE_SIZE: usize = 30;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_WORDS: usize = 5;
const MAX_KEYWORD_CHARS: usize = 100;
const NEXT_SHOWS: i64 = 5;
const MOVIE_SHOWS_LIMIT: i64 = 500;
/// `GET /v1/movies` lists this many at most: a catalogue, not a search (a keyword narrows it).
const MOVIES_LIMIT: i64 = 1_000;

/// What is known of `uri`'s answer before computing it.
enum Known {
    /// The client has it (304), or another client's answer with the same ETag is kept.
    Answered(Response),
    /// It must be computed; [`Tagged::answer`] sends it and keeps it for other clients.
    Compute(Tagged),
}

/// The ETag an answer about to be computed will carry.
struct Tagged {
    tag: String,
    /// Everything the ETag is made of but the URI: the answers of one generation are kept
    /// together (`crate::answers`).
    generation: String,
}

impl Tagged {
    fn answer(self, state: &AppState, body: impl Serialize) -> Result<Response, ApiError> {
        let body = Bytes::from(serde_json::to_vec(&body).map_err(ApiError::internal)?);
        state.answers.put(&self.generation, &self.tag, &body);
        Ok(tagged(self.tag, body))
    }
}

/// The ETag of `uri`'s answer now, and whether the answer is known already: the client has
/// it, or another client asked the same while the ETag was the same (unless this one says
/// `Cache-Control: no-cache`).
async fn etag(
    state: &AppState,
    client: &deadpool_postgres::Client,
    uri: &str,
    headers: &HeaderMap,
) -> Result<Known, ApiError> {
    // As (name, commit, prepare) triples: the ETags handed out before stay valid.
    let positions: Vec<(String, i64, i64)> = catalogue::etag_positions(client)
        .await?
        .into_iter()
        .map(|p| (p.projector, p.commit, p.prepare))
        .collect();
    let minute = Utc::now().timestamp() / 60;
    let generation = format!("{positions:?}\u{1f}{minute}");
    let name = format!("{uri}\u{1f}{generation}");
    let tag = format!(
        "\"{}\"",
        Uuid::new_v5(&ETAG_NAMESPACE, name.as_bytes()).simple()
    );
    if super::etag_matches(headers, &tag) {
        return Ok(Known::Answered(super::not_modified(tag)));
    }
    let fresh = super::header_items(headers, header::CACHE_CONTROL)
        .any(|v| v.eq_ignore_ascii_case("no-cache"));
    if !fresh {
        if let Some(body) = state.answers.get(&generation, &tag) {
            return Ok(Known::Answered(tagged(tag, body)));
        }
    }
    Ok(Known::Compute(Tagged { tag, generation }))
}

/// A JSON answer with its ETag; clients revalidate before reusing it.
fn tagged(tag: String, body: Bytes) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Cities with cinemas, by name (anyone).
#[utoipa::path(get, path = "/v1/cities", tag = "discovery",
    responses(
        (status = 200, description = "The cities.", body = [CityView], headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag.")
    ))]
pub async fn cities(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    tagged.answer(&state, catalogue::cities(&client).await?)
}

/// Movies showing in a city, soonest first, each with its next show times (anyone).
#[utoipa::path(get, path = "/v1/cities/{city_id}/movies", tag = "discovery",
    params(("city_id" = Uuid, Path, description = "The city.")),
    responses(
        (status = 200, description = "What is showing.", body = [NowShowing], headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, description = "Unknown city (`city_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn city_movies(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(city_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    catalogue::city(&client, city_id)
        .await?
        .ok_or(DomainError::CityNotFound)?;
    let showing = catalogue::now_showing(&client, city_id, Utc::now(), NEXT_SHOWS).await?;
    tagged.answer(&state, showing)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MoviesParams {
    /// Only movies whose title or original title contains this (any part of a word;
    /// Chinese text too; case does not matter), 1 to 100 characters.
    keyword: Option<String>,
    /// Wait (up to 5 s) until the catalogue has reached this position.
    min_position: Option<Position>,
}

/// The catalogue's movies that are not retired, by title (the first 1,000), showing or not
/// (anyone).
#[utoipa::path(get, path = "/v1/movies", tag = "discovery", params(MoviesParams),
    responses(
        (status = 200, description = "The movies.", body = [MovieView], headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, description = "A keyword that is empty or too long (`invalid_query`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn movies(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<MoviesParams>,
) -> Result<Response, ApiError> {
    let keyword = match params.keyword.as_deref().map(str::trim) {
        None => None,
        Some(keyword) if text_ok(keyword, MAX_KEYWORD_CHARS) => Some(keyword),
        Some(_) => {
            return Err(invalid(format!(
                "keyword must be 1 to {MAX_KEYWORD_CHARS} characters"
            )))
        }
    };
    super::read_position(&state, "catalogue", params.min_position).await?;
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    let movies = catalogue::movies(&client, keyword, MOVIES_LIMIT).await?;
    tagged.answer(&state, movies)
}

/// What the catalogue says about a movie (anyone).
#[utoipa::path(get, path = "/v1/movies/{movie_id}", tag = "discovery",
    params(("movie_id" = Uuid, Path, description = "The movie.")),
    responses(
        (status = 200, description = "The movie.", body = MovieView, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, description = "Unknown movie (`movie_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn movie(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(movie_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    let movie = catalogue::movie(&client, movie_id)
        .await?
        .ok_or(DomainError::MovieNotFound)?;
    tagged.answer(&state, movie)
}

/// The filters shows are picked by.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShowFilters {
    /// Shows in this city.
    city: Option<Uuid>,
    /// Measure distances from here (degrees, WGS 84); with `longitude`.
    latitude: Option<f64>,
    /// With `latitude`.
    longitude: Option<f64>,
    /// Only cinemas within this many km of `latitude`/`longitude` (up to 1000).
    radius_km: Option<f64>,
    /// Only cinemas with this postal code.
    postal_code: Option<String>,
    /// Shows starting at or after this (RFC 3339; percent-encode a `+` offset). Default:
    /// now.
    start: Option<DateTime<FixedOffset>>,
    /// Shows starting before this (RFC 3339).
    end: Option<DateTime<FixedOffset>>,
    /// Shows starting on this date (YYYY-MM-DD) in their city's time zone.
    date: Option<NaiveDate>,
    /// Wait (up to 5 s) until the catalogue and seat maps have reached this position.
    min_position: Option<Position>,
}

/// 1 to `max` characters, none of them control characters.
fn text_ok(text: &str, max: usize) -> bool {
    let chars = text.chars().count();
    (1..=max).contains(&chars) && !text.chars().any(char::is_control)
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", detail)
}

/// Read-your-writes for discovery: both read models it joins must have reached `min`.
/// Answers the seat map's position.
async fn caught_up(state: &AppState, min: Option<Position>) -> Result<Position, ApiError> {
    super::read_position(state, "catalogue", min).await?;
    super::read_position(state, "seat_map", min).await
}

impl ShowFilters {
    fn into_search(self) -> Result<Search, ApiError> {
        let origin = match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(invalid(
                        "latitude must be -90 to 90 and longitude -180 to 180",
                    ));
                }
                Some((lat, lon))
            }
            (None, None) => None,
            _ => return Err(invalid("give latitude and longitude together")),
        };
        if let Some(radius) = self.radius_km {
            if origin.is_none() {
                return Err(invalid("radius_km needs latitude and longitude"));
            }
            if !(radius > 0.0 && radius <= 1000.0) {
                return Err(invalid("radius_km must be more than 0 and at most 1000"));
            }
        }
        if let Some(code) = &self.postal_code {
            if !text_ok(code, 16) {
                return Err(invalid("postal_code must be 1 to 16 characters"));
            }
        }
        let plausible = |year: i32| (1900..=9999).contains(&year);
        if self.start.is_some_and(|s| !plausible(s.year()))
            || self.end.is_some_and(|e| !plausible(e.year()))
            || self.date.is_some_and(|d| !plausible(d.year()))
        {
            return Err(invalid(
                "start, end and date must be in the years 1900 to 9999",
            ));
        }
        let start = self.start.map_or_else(Utc::now, |s| s.with_timezone(&Utc));
        let end = self.end.map(|e| e.with_timezone(&Utc));
        if end.is_some_and(|end| end <= start) {
            return Err(invalid("end must be after start (which defaults to now)"));
        }
        Ok(Search {
            city_id: self.city,
            origin,
            radius_km: self.radius_km,
            postal_code: self.postal_code,
            start,
            end,
            date: self.date,
            sort: vec![(SortKey::Date, false)],
            page_size: DEFAULT_PAGE_SIZE,
            ..Search::default()
        })
    }
}

/// A movie's shows, grouped by cinema (cinemas in the order of their first show) (anyone).
#[utoipa::path(get, path = "/v1/movies/{movie_id}/shows", tag = "discovery",
    params(("movie_id" = Uuid, Path, description = "The movie."), ShowFilters),
    responses(
        (status = 200, description = "Its shows (the first 500), by cinema.", body = [CinemaShows], headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, description = "A bad filter (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown movie (`movie_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn movie_shows(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(movie_id): Path<Uuid>,
    Query(filters): Query<ShowFilters>,
) -> Result<Response, ApiError> {
    caught_up(&state, filters.min_position).await?;
    let search = filters.into_search()?;
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    catalogue::movie(&client, movie_id)
        .await?
        .ok_or(DomainError::MovieNotFound)?;
    let shows = catalogue::movie_shows(&client, movie_id, &search, MOVIE_SHOWS_LIMIT).await?;
    tagged.answer(&state, shows)
}

/// Search for movies by what they are and where and when they show. The show filters are
/// spelled out again rather than flattened from [`ShowFilters`]: serde's `flatten` reads a
/// query string's values as strings and then refuses them as numbers.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words that must all appear in the title, original title or description (any part
    /// of a word; Chinese text too; case does not matter). Up to 5 words, 100 characters.
    keyword: Option<String>,
    /// Movies of this genre, such as `sci-fi`.
    genre: Option<String>,
    /// Movies in this language (ISO 639-1, such as `zh`).
    language: Option<String>,
    /// Sort keys separated by commas, each `name`, `date` (earliest matching show) or
    /// `distance` (nearest matching cinema; needs latitude and longitude), optionally
    /// followed by `:asc` (the default) or `:desc`, such as `name,date:desc`. Default: `date`.
    sort: Option<String>,
    /// Hits per page, 1 to 30 (default 10).
    page_size: Option<usize>,
    /// The `next_cursor` of the previous page, with the same filters and sort.
    cursor: Option<String>,
    /// Shows in this city.
    city: Option<Uuid>,
    /// Measure distances from here (degrees, WGS 84); with `longitude`.
    latitude: Option<f64>,
    /// With `latitude`.
    longitude: Option<f64>,
    /// Only cinemas within this many km of `latitude`/`longitude` (up to 1000).
    radius_km: Option<f64>,
    /// Only cinemas with this postal code.
    postal_code: Option<String>,
    /// Shows starting at or after this (RFC 3339; percent-encode a `+` offset). Default:
    /// now.
    start: Option<DateTime<FixedOffset>>,
    /// Shows starting before this (RFC 3339).
    end: Option<DateTime<FixedOffset>>,
    /// Shows starting on this date (YYYY-MM-DD) in their city's time zone.
    date: Option<NaiveDate>,
    /// Wait (up to 5 s) until the catalogue and seat maps have reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    hits: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// What a cursor carries: where the page ends, what it was a page of, and the start the
/// first page used ("now" must not move between pages, or a show starting meanwhile
/// would move its movie behind the cursor and show it twice).
#[derive(Serialize, Deserialize)]
struct Cursor {
    title: String,
    first_show: DateTime<Utc>,
    /// The distance's bits: a float in JSON may not read back to the same value.
    distance_bits: Option<u64>,
    movie_id: Uuid,
    start: DateTime<Utc>,
    /// A digest of the filters and sort the cursor belongs to.
    query: String,
}

fn parse_sort(text: &str, origin: bool) -> Result<Vec<(SortKey, bool)>, ApiError> {
    let mut keys: Vec<(SortKey, bool)> = Vec::new();
    for part in text.split(',') {
        let (name, direction) = part.split_once(':').unwrap_or((part, "asc"));
        let key = match name.trim() {
            "name" => SortKey::Name,
            "date" => SortKey::Date,
            "distance" => SortKey::Distance,
            other => {
                return Err(invalid(format!(
                    "sort key `{other}` is unknown; use name, date or distance"
                )))
            }
        };
        let descending = match direction.trim() {
            "asc" => false,
            "desc" => true,
            other => {
                return Err(invalid(format!(
                    "sort direction `{other}` is unknown; use asc or desc"
                )))
            }
        };
        if keys.iter().any(|(k, _)| *k == key) {
            return Err(invalid(format!("sort names `{}` twice", name.trim())));
        }
        if key == SortKey::Distance && !origin {
            return Err(invalid("sorting by distance needs latitude and longitude"));
        }
        keys.push((key, descending));
    }
    Ok(keys)
}

/// Movies with shows matching every given filter, with those shows and the price and
/// availability of each seat category (anyone).
#[utoipa::path(get, path = "/v1/movies/search", tag = "discovery", params(SearchParams),
    responses(
        (status = 200, description = "A page of hits.", body = SearchResults, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, description = "A bad parameter or cursor (`invalid_query`, `invalid_cursor`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn search(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    // Everything but the page's place and size: what a cursor must belong to.
    let query_digest = {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(k, _)| !matches!(k.as_str(), "cursor" | "page_size" | "min_position"));
        pairs.sort();
        Uuid::new_v5(&ETAG_NAMESPACE, format!("{pairs:?}").as_bytes())
            .simple()
            .to_string()
    };
    caught_up(&state, params.min_position).await?;
    let mut search = ShowFilters {
        city: params.city,
        latitude: params.latitude,
        longitude: params.longitude,
        radius_km: params.radius_km,
        postal_code: params.postal_code,
        start: params.start,
        end: params.end,
        date: params.date,
        min_position: params.min_position,
    }
    .into_search()?;
    if let Some(keyword) = &params.keyword {
        let keyword = keyword.trim();
        if !text_ok(keyword, MAX_KEYWORD_CHARS) {
            return Err(invalid(format!(
                "keyword must be 1 to {MAX_KEYWORD_CHARS} characters"
            )));
        }
        search.words = keyword
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if search.words.len() > MAX_WORDS {
            return Err(invalid(format!("keyword has at most {MAX_WORDS} words")));
        }
    }
    for (name, value) in [("genre", &params.genre), ("language", &params.language)] {
        if value
            .as_ref()
            .is_some_and(|v| v.is_empty() || v.chars().count() > 40)
        {
            return Err(invalid(format!("{name} must be 1 to 40 characters")));
        }
    }
    search.genre = params.genre;
    search.language = params.language;
    if let Some(sort) = &params.sort {
        search.sort = parse_sort(sort, search.origin.is_some())?;
    }
    search.page_size = match params.page_size {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        Some(_) => return Err(invalid(format!("page_size must be 1 to {MAX_PAGE_SIZE}"))),
    };
    let after = match &params.cursor {
        None => None,
        Some(text) => {
            let cursor: Option<Cursor> = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            match cursor {
                Some(cursor) if cursor.query == query_digest => {
                    if params.start.is_none() {
                        search.start = cursor.start;
                    }
                    Some(After {
                        title: cursor.title,
                        first_show: cursor.first_show,
                        distance_km: cursor.distance_bits.map(f64::from_bits),
                        movie_id: cursor.movie_id,
                    })
                }
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_cursor",
                        "this cursor belongs to a search with other filters or sort; start again without it",
                    ))
                }
                None => {
                    return Err(ApiError::bad_request(
                        "invalid_cursor",
                        "the cursor is not one this server handed out",
                    ))
                }
            }
        }
    };
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    let page = catalogue::search(&client, &search, after.as_ref()).await?;
    let next_cursor = page.next.map(|after| {
        let cursor = Cursor {
            title: after.title,
            first_show: after.first_show,
            distance_bits: after.distance_km.map(f64::to_bits),
            movie_id: after.movie_id,
            start: search.start,
            query: query_digest,
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&cursor)
                .expect("a cursor is keys and numbers: it always serialises"),
        )
    });
    tagged.answer(
        &state,
        SearchResults {
            hits: page.hits,
            next_cursor,
        },
    )
}

/// How fresh a single read must be.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FreshParams {
    /// Wait (up to 5 s) until the read models have reached this position.
    min_position: Option<Position>,
}

#[derive(Serialize, ToSchema)]
pub struct ShowPage {
    #[serde(flatten)]
    show: ShowDetail,
    position: Position,
}

/// One show with what its page needs before a sale: the movie, the cinema (name, address,
/// coordinates) and hall, the times, the seats by status, each category's price and
/// availability band, and whether it is on sale (anyone). Not cached by ETag: the counts
/// move with every hold.
#[utoipa::path(get, path = "/v1/shows/{show_id}", tag = "discovery",
    params(("show_id" = Uuid, Path, description = "The show."), FreshParams),
    responses(
        (status = 200, description = "The show.", body = ShowPage),
        (status = 404, description = "Unknown show (`show_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn show(
    State(state): State<AppState>,
    Path(show_id): Path<Uuid>,
    Query(params): Query<FreshParams>,
) -> Result<Response, ApiError> {
    let position = caught_up(&state, params.min_position).await?;
    let client = state.pool.get().await?;
    let show = catalogue::show_detail(&client, show_id, Utc::now())
        .await?
        .ok_or(DomainError::ShowNotFound)?;
    Ok(axum::Json(ShowPage { show, position }).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScheduleParams {
    /// The day, in the cinema's city's time zone (YYYY-MM-DD).
    date: NaiveDate,
    /// Wait (up to 5 s) until the read models have reached this position.
    min_position: Option<Position>,
}

/// A cinema's schedule (排期) for a day: every hall's shows by start, cancelled ones marked,
/// with each category's price and availability band (anyone).
#[utoipa::path(get, path = "/v1/cinemas/{cinema_id}/shows", tag = "discovery",
    params(("cinema_id" = Uuid, Path, description = "The cinema."), ScheduleParams),
    responses(
        (status = 200, description = "The day's shows, hall by hall.", body = CinemaSchedule, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, description = "No date, or not a date (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown cinema (`cinema_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn cinema_schedule(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(cinema_id): Path<Uuid>,
    Query(params): Query<ScheduleParams>,
) -> Result<Response, ApiError> {
    caught_up(&state, params.min_position).await?;
    let client = state.pool.get().await?;
    let tagged = match etag(&state, &client, &uri.to_string(), &headers).await? {
        Known::Answered(response) => return Ok(response),
        Known::Compute(tagged) => tagged,
    };
    catalogue::cinema(&client, cinema_id)
        .await?
        .ok_or(DomainError::CinemaNotFound)?;
    let schedule = catalogue::cinema_schedule(&client, cinema_id, params.date, Utc::now()).await?;
    tagged.answer(&state, schedule)
}
