//! Staff manage the catalogue: cities, cinemas with their halls, and movies. Each change is
//! a command on the catalogue's streams; nothing is ever deleted, only retired (a retired
//! hall or movie gets no new shows; shows already scheduled keep their snapshot).

use crate::auth::{Identity, Role};
use crate::command::CommandHeaders;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use boxoffice_commands::Outcome;
use boxoffice_domain::catalogue::{
    CinemaCommand, CinemaDetails, CitiesCommand, CityDetails, HallDetails, HallLayout,
    MovieCommand, MovieDetails,
};
use boxoffice_domain::{CinemaId, CityId, HallId, Money, MovieId};
use boxoffice_eventstore::Position;
use boxoffice_projections::catalogue::{self, CinemaDetailView, CinemaView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What a catalogue command changed, and where in the log.
#[derive(Serialize, ToSchema)]
pub struct Changed {
    /// The city, cinema, hall or movie.
    id: Uuid,
    /// Read models that reached this position show the change.
    position: Position,
}

/// 201 with a Location for a creation, 200 otherwise.
fn answer<E>(outcome: Outcome<E>, id: Uuid, created_at: Option<String>) -> Response {
    let body = axum::Json(Changed {
        id,
        position: outcome.position,
    });
    let replayed = super::replayed_header(outcome.replayed);
    match created_at {
        Some(location) => (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            replayed,
            body,
        )
            .into_response(),
        None => (replayed, body).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCity {
    /// Chosen by the client, or derived from the idempotency key.
    city_id: Option<Uuid>,
    /// 1 to 100 characters, unique among cities that are not retired, such as `上海`.
    name: String,
    /// The IANA time zone its cinemas' show times are local to, such as `Asia/Shanghai`.
    time_zone: String,
}

/// Add a city (staff).
#[utoipa::path(post, path = "/v1/cities", tag = "catalogue", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    request_body = NewCity,
    responses(
        (status = 201, description = "Added.", body = Changed),
        (status = 422, description = "A field is invalid or the name is taken (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn add_city(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewCity>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let city_id = CityId(body.city_id.unwrap_or_else(|| context.derive_id("city")));
    let command = CitiesCommand::AddCity {
        city_id,
        city: CityDetails {
            name: body.name,
            time_zone: body.time_zone,
        },
    };
    let outcome = state.catalogue.cities(command, &context).await?;
    Ok(answer(
        outcome,
        city_id.0,
        Some(format!("/v1/cities/{city_id}/movies")),
    ))
}

/// Change a city's name or time zone (staff).
#[utoipa::path(put, path = "/v1/cities/{city_id}", tag = "catalogue", security(("bearer" = [])),
    params(("city_id" = Uuid, Path, description = "The city.")),
    request_body = CityDetails,
    responses(
        (status = 200, description = "Updated (or already so).", body = Changed),
        (status = 404, description = "Unknown city (`city_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The city is retired (`retired`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn update_city(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(city_id): Path<Uuid>,
    Json(city): Json<CityDetails>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let command = CitiesCommand::UpdateCity {
        city_id: CityId(city_id),
        city,
    };
    let outcome = state.catalogue.cities(command, &context).await?;
    Ok(answer(outcome, city_id, None))
}

/// Retire a city: it is no longer listed (staff).
#[utoipa::path(delete, path = "/v1/cities/{city_id}", tag = "catalogue", security(("bearer" = [])),
    params(("city_id" = Uuid, Path, description = "The city.")),
    responses(
        (status = 200, description = "Retired (or already so).", body = Changed),
        (status = 404, description = "Unknown city (`city_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn retire_city(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(city_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let command = CitiesCommand::RetireCity {
        city_id: CityId(city_id),
    };
    let outcome = state.catalogue.cities(command, &context).await?;
    Ok(answer(outcome, city_id, None))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCinema {
    /// Chosen by the client, or derived from the idempotency key.
    cinema_id: Option<Uuid>,
    /// The city it is in (for good: to move, retire it and open another).
    city_id: Uuid,
    /// 1 to 100 characters.
    name: String,
    /// 1 to 300 characters.
    address: String,
    /// Degrees north, -90 to 90 (WGS 84).
    latitude: f64,
    /// Degrees east, -180 to 180 (WGS 84).
    longitude: f64,
    /// 1 to 16 letters, digits, spaces or dashes.
    postal_code: String,
    /// Full refund until this many minutes before a show, then the price less a fee until
    /// it starts; absent: a full refund until the start.
    refund_policy: Option<boxoffice_domain::show::RefundPolicy>,
    /// Ticket types sold besides adult (`[{"name": "child", "percent": 50}]`), each a
    /// percentage of the adult price; absent: adult tickets only.
    #[serde(default)]
    ticket_types: Vec<boxoffice_domain::catalogue::TicketTypeRule>,
    /// Lower prices for shows starting before a local time of day
    /// (`{"before": "12:00", "percent": 80}`); absent: none.
    matinee: Option<boxoffice_domain::catalogue::Matinee>,
    /// How wheelchair spaces and companion seats are kept for those who need them
    /// (`{"release_hours_before": 2, "release_when_rest_sold": true,
    /// "companions_per_wheelchair": 1}`, which is also the rule when absent).
    accessible_seating: Option<boxoffice_domain::show::AccessibleSeating>,
}

/// Open a cinema in a city (staff).
#[utoipa::path(post, path = "/v1/cinemas", tag = "catalogue", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    request_body = NewCinema,
    responses(
        (status = 201, description = "Opened.", body = Changed,
            headers(("Location" = String, description = "The cinema."))),
        (status = 422, description = "A field is invalid, or the city unknown or retired (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn open_cinema(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewCinema>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let cinema_id = CinemaId(
        body.cinema_id
            .unwrap_or_else(|| context.derive_id("cinema")),
    );
    let command = CinemaCommand::OpenCinema {
        cinema_id,
        city_id: CityId(body.city_id),
        cinema: CinemaDetails {
            name: body.name,
            address: body.address,
            latitude: body.latitude,
            longitude: body.longitude,
            postal_code: body.postal_code,
            refund_policy: body.refund_policy,
            ticket_types: body.ticket_types,
            matinee: body.matinee,
            accessible_seating: body.accessible_seating,
        },
    };
    let outcome = state.catalogue.cinema(cinema_id, command, &context).await?;
    Ok(answer(
        outcome,
        cinema_id.0,
        Some(format!("/v1/cinemas/{cinema_id}")),
    ))
}

/// Change a cinema's name, address, location or postal code (staff).
#[utoipa::path(put, path = "/v1/cinemas/{cinema_id}", tag = "catalogue", security(("bearer" = [])),
    params(("cinema_id" = Uuid, Path, description = "The cinema.")),
    request_body = CinemaDetails,
    responses(
        (status = 200, description = "Updated (or already so).", body = Changed),
        (status = 404, description = "Unknown cinema (`cinema_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cinema is retired (`retired`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn update_cinema(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(cinema_id): Path<Uuid>,
    Json(cinema): Json<CinemaDetails>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let command = CinemaCommand::UpdateCinema { cinema };
    let outcome = state
        .catalogue
        .cinema(CinemaId(cinema_id), command, &context)
        .await?;
    Ok(answer(outcome, cinema_id, None))
}

/// Retire a cinema: no new shows are scheduled there (staff).
#[utoipa::path(delete, path = "/v1/cinemas/{cinema_id}", tag = "catalogue", security(("bearer" = [])),
    params(("cinema_id" = Uuid, Path, description = "The cinema.")),
    responses(
        (status = 200, description = "Retired (or already so).", body = Changed),
        (status = 404, description = "Unknown cinema (`cinema_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn retire_cinema(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(cinema_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let outcome = state
        .catalogue
        .cinema(CinemaId(cinema_id), CinemaCommand::RetireCinema, &context)
        .await?;
    Ok(answer(outcome, cinema_id, None))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHall {
    /// Chosen by the client, or derived from the idempotency key.
    hall_id: Option<Uuid>,
    /// 1 to 100 characters, unique in the cinema, such as `1号厅 IMAX`.
    name: String,
    layout: HallLayout,
    /// The price of each seat category the layout uses, in one currency.
    prices: BTreeMap<String, Money>,
}

/// Add a hall with its seat layout and prices to a cinema (staff).
#[utoipa::path(post, path = "/v1/cinemas/{cinema_id}/halls", tag = "catalogue", security(("bearer" = [])),
    params(("cinema_id" = Uuid, Path, description = "The cinema."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    request_body = NewHall,
    responses(
        (status = 201, description = "Added.", body = Changed),
        (status = 404, description = "Unknown cinema (`cinema_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The layout or prices are invalid (`validation_failed`; `errors` names each field, such as `layout.rows[3].cells`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn add_hall(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(cinema_id): Path<Uuid>,
    Json(body): Json<NewHall>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let hall_id = HallId(body.hall_id.unwrap_or_else(|| context.derive_id("hall")));
    let command = CinemaCommand::AddHall {
        hall_id,
        hall: HallDetails {
            name: body.name,
            layout: body.layout,
            prices: body.prices,
        },
    };
    let outcome = state
        .catalogue
        .cinema(CinemaId(cinema_id), command, &context)
        .await?;
    Ok(answer(
        outcome,
        hall_id.0,
        Some(format!("/v1/cinemas/{cinema_id}")),
    ))
}

/// Change a hall's name, layout or prices; shows already scheduled keep theirs (staff).
#[utoipa::path(put, path = "/v1/cinemas/{cinema_id}/halls/{hall_id}", tag = "catalogue", security(("bearer" = [])),
    params(("cinema_id" = Uuid, Path, description = "The cinema."), ("hall_id" = Uuid, Path, description = "The hall.")),
    request_body = HallDetails,
    responses(
        (status = 200, description = "Updated (or already so).", body = Changed),
        (status = 404, description = "Unknown cinema or hall (`cinema_not_found`, `hall_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The layout or prices are invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn update_hall(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((cinema_id, hall_id)): Path<(Uuid, Uuid)>,
    Json(hall): Json<HallDetails>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let command = CinemaCommand::UpdateHall {
        hall_id: HallId(hall_id),
        hall,
    };
    let outcome = state
        .catalogue
        .cinema(CinemaId(cinema_id), command, &context)
        .await?;
    Ok(answer(outcome, hall_id, None))
}

/// Retire a hall: no new shows are scheduled in it (staff).
#[utoipa::path(delete, path = "/v1/cinemas/{cinema_id}/halls/{hall_id}", tag = "catalogue", security(("bearer" = [])),
    params(("cinema_id" = Uuid, Path, description = "The cinema."), ("hall_id" = Uuid, Path, description = "The hall.")),
    responses(
        (status = 200, description = "Retired (or already so).", body = Changed),
        (status = 404, description = "Unknown cinema or hall.", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn retire_hall(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path((cinema_id, hall_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let command = CinemaCommand::RetireHall {
        hall_id: HallId(hall_id),
    };
    let outcome = state
        .catalogue
        .cinema(CinemaId(cinema_id), command, &context)
        .await?;
    Ok(answer(outcome, hall_id, None))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMovie {
    /// Chosen by the client, or derived from the idempotency key.
    movie_id: Option<Uuid>,
    /// The title shown to customers: 1 to 200 characters.
    title: String,
    /// The title in the original language, when it differs.
    #[serde(default)]
    original_title: Option<String>,
    /// Up to 5,000 characters.
    #[serde(default)]
    description: String,
    /// Running time, 1 to 600 minutes; a show's end is its start plus this.
    duration_minutes: u32,
    /// 1 to 10 lower-case genre names such as `sci-fi`.
    genres: Vec<String>,
    /// The spoken language as an ISO 639-1 code, such as `zh` or `en`.
    language: String,
    /// The country of origin as an ISO 3166-1 alpha-2 code, such as `CN`.
    country: String,
    release_date: chrono::NaiveDate,
    /// The age rating, such as `PG-13`, when it has one.
    #[serde(default)]
    rating: Option<String>,
}

/// Add a movie (staff).
#[utoipa::path(post, path = "/v1/movies", tag = "catalogue", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the original answer.")),
    request_body = NewMovie,
    responses(
        (status = 201, description = "Added.", body = Changed,
            headers(("Location" = String, description = "The movie."))),
        (status = 422, description = "A field is invalid (`validation_failed`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn add_movie(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Json(body): Json<NewMovie>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let movie_id = MovieId(body.movie_id.unwrap_or_else(|| context.derive_id("movie")));
    let command = MovieCommand::AddMovie {
        movie_id,
        movie: MovieDetails {
            title: body.title,
            original_title: body.original_title,
            description: body.description,
            duration_minutes: body.duration_minutes,
            genres: body.genres,
            language: body.language,
            country: body.country,
            release_date: body.release_date,
            rating: body.rating,
        },
    };
    let outcome = state.catalogue.movie(movie_id, command, &context).await?;
    Ok(answer(
        outcome,
        movie_id.0,
        Some(format!("/v1/movies/{movie_id}")),
    ))
}

/// Change what the catalogue says about a movie; scheduled shows keep their title and
/// times (staff).
#[utoipa::path(put, path = "/v1/movies/{movie_id}", tag = "catalogue", security(("bearer" = [])),
    params(("movie_id" = Uuid, Path, description = "The movie.")),
    request_body = MovieDetails,
    responses(
        (status = 200, description = "Updated (or already so).", body = Changed),
        (status = 404, description = "Unknown movie (`movie_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The movie is retired (`retired`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn update_movie(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(movie_id): Path<Uuid>,
    Json(movie): Json<MovieDetails>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let movie_id = MovieId(movie_id);
    let command = MovieCommand::UpdateMovie { movie_id, movie };
    let outcome = state.catalogue.movie(movie_id, command, &context).await?;
    Ok(answer(outcome, movie_id.0, None))
}

/// Retire a movie: no new shows are scheduled for it (staff).
#[utoipa::path(delete, path = "/v1/movies/{movie_id}", tag = "catalogue", security(("bearer" = [])),
    params(("movie_id" = Uuid, Path, description = "The movie.")),
    responses(
        (status = 200, description = "Retired (or already so).", body = Changed),
        (status = 404, description = "Unknown movie (`movie_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn retire_movie(
    State(state): State<AppState>,
    caller: Identity,
    headers: CommandHeaders,
    Path(movie_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Staff])?;
    let context = headers.context(&caller);
    let movie_id = MovieId(movie_id);
    let command = MovieCommand::RetireMovie { movie_id };
    let outcome = state.catalogue.movie(movie_id, command, &context).await?;
    Ok(answer(outcome, movie_id.0, None))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CinemaFilter {
    /// Only the cinemas of this city.
    city: Option<Uuid>,
}

/// Cinemas that are open, by name (anyone).
#[utoipa::path(get, path = "/v1/cinemas", tag = "catalogue", params(CinemaFilter),
    responses((status = 200, description = "The cinemas.", body = [CinemaView])))]
pub async fn cinemas(
    State(state): State<AppState>,
    Query(filter): Query<CinemaFilter>,
) -> Result<impl IntoResponse, ApiError> {
    let client = state.pool.get().await?;
    Ok(axum::Json(catalogue::cinemas(&client, filter.city).await?))
}

/// A cinema with its halls, their layouts and prices (anyone).
#[utoipa::path(get, path = "/v1/cinemas/{cinema_id}", tag = "catalogue",
    params(("cinema_id" = Uuid, Path, description = "The cinema.")),
    responses(
        (status = 200, description = "The cinema.", body = CinemaDetailView),
        (status = 404, description = "Unknown cinema (`cinema_not_found`).", body = Problem, content_type = "application/problem+json")
    ))]
pub async fn cinema(
    State(state): State<AppState>,
    Path(cinema_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let client = state.pool.get().await?;
    let cinema = catalogue::cinema(&client, cinema_id)
        .await?
        .ok_or(boxoffice_domain::DomainError::CinemaNotFound)?;
    Ok(axum::Json(cinema))
}
