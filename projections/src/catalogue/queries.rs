//! Reads of the catalogue for ticket clients and staff: cities, cinemas with their halls,
//! movies, what is showing in a city, and the positions discovery's ETags are derived from.
//! Search is in `search.rs`. Other crates read the catalogue's tables through these
//! functions only.

use crate::runner::etag_positions as etag_positions_of;
use crate::{EtagPosition, MoneyView};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::collections::BTreeMap;
use tokio_postgres::Row;
use uuid::Uuid;

const CITIES_SQL: &str = include_str!("sql/cities.sql");
const CITY_SQL: &str = include_str!("sql/city.sql");
const MOVIE_SQL: &str = include_str!("sql/movie.sql");
const MOVIES_SQL: &str = include_str!("sql/movies.sql");
const MOVIE_TITLES_SQL: &str = include_str!("sql/movie_titles.sql");
const CINEMAS_SQL: &str = include_str!("sql/cinemas.sql");
const CINEMA_SQL: &str = include_str!("sql/cinema.sql");
const HALLS_SQL: &str = include_str!("sql/halls.sql");
const CINEMA_OF_HALL_SQL: &str = include_str!("sql/cinema_of_hall.sql");
const NOW_SHOWING_SQL: &str = include_str!("sql/now_showing.sql");

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityView {
    pub city_id: Uuid,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovieView {
    pub movie_id: Uuid,
    pub title: String,
    pub original_title: Option<String>,
    pub description: String,
    pub duration_minutes: i32,
    pub genres: Vec<String>,
    pub language: String,
    pub country: String,
    pub release_date: NaiveDate,
    pub rating: Option<String>,
    /// No new shows are scheduled for a retired movie.
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CinemaView {
    pub cinema_id: Uuid,
    pub city_id: Uuid,
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub postal_code: String,
    /// Kilometres from the point searched from, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HallView {
    pub hall_id: Uuid,
    pub name: String,
    pub capacity: i32,
    pub retired: bool,
    /// Rows of cells as staff drew them (see `HallLayout`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub layout: serde_json::Value,
    /// Price per seat category.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub prices: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CinemaDetailView {
    #[serde(flatten)]
    pub cinema: CinemaView,
    pub retired: bool,
    pub halls: Vec<HallView>,
}

/// A seat category of a show: its price and how full it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryView {
    pub category: String,
    /// The adult price.
    pub price: MoneyView,
    /// The other ticket types' prices on seats of this category (`{"child": ...}`); a type
    /// not named is not sold on them.
    pub ticket_prices: BTreeMap<String, MoneyView>,
    /// `available`, `almost_full` (under 20% of its seats left) or `full`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(available|almost_full|full)$")
    )]
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HallRef {
    pub hall_id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowView {
    pub show_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cinema: CinemaView,
    pub hall: HallRef,
    pub categories: Vec<CategoryView>,
}

/// Which cities exist (not retired), by name.
pub async fn cities(client: &impl GenericClient) -> Result<Vec<CityView>, tokio_postgres::Error> {
    let rows = client.query(CITIES_SQL, &[]).await?;
    Ok(rows.iter().map(city_of).collect())
}

pub async fn city(
    client: &impl GenericClient,
    city_id: Uuid,
) -> Result<Option<CityView>, tokio_postgres::Error> {
    let row = client.query_opt(CITY_SQL, &[&city_id]).await?;
    Ok(row.as_ref().map(city_of))
}

pub async fn movie(
    client: &impl GenericClient,
    movie_id: Uuid,
) -> Result<Option<MovieView>, tokio_postgres::Error> {
    let row = client.query_opt(MOVIE_SQL, &[&movie_id]).await?;
    Ok(row.as_ref().map(movie_of))
}

/// The movies not retired, by title (then id), at most `limit`; with a `keyword`, only those
/// whose title or original title contains it, case ignored.
pub async fn movies(
    client: &impl GenericClient,
    keyword: Option<&str>,
    limit: i64,
) -> Result<Vec<MovieView>, tokio_postgres::Error> {
    let rows = client.query(MOVIES_SQL, &[&keyword, &limit]).await?;
    Ok(rows.iter().map(movie_of).collect())
}

/// A movie's titles, for lists that name movies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieTitle {
    pub movie_id: Uuid,
    pub title: String,
    pub original_title: Option<String>,
}

/// The titles of those of `movie_ids` the catalogue knows.
pub async fn movie_titles(
    client: &impl GenericClient,
    movie_ids: &[Uuid],
) -> Result<Vec<MovieTitle>, tokio_postgres::Error> {
    let rows = client.query(MOVIE_TITLES_SQL, &[&movie_ids]).await?;
    Ok(rows
        .iter()
        .map(|row| MovieTitle {
            movie_id: row.get("movie_id"),
            title: row.get("title"),
            original_title: row.get("original_title"),
        })
        .collect())
}

/// The cinemas of a city (or all), by name.
pub async fn cinemas(
    client: &impl GenericClient,
    city_id: Option<Uuid>,
) -> Result<Vec<CinemaView>, tokio_postgres::Error> {
    let rows = client.query(CINEMAS_SQL, &[&city_id]).await?;
    Ok(rows.iter().map(|row| cinema_of(row, None)).collect())
}

/// A cinema with its halls and their layouts.
pub async fn cinema(
    client: &impl GenericClient,
    cinema_id: Uuid,
) -> Result<Option<CinemaDetailView>, tokio_postgres::Error> {
    let Some(row) = client.query_opt(CINEMA_SQL, &[&cinema_id]).await? else {
        return Ok(None);
    };
    let halls = client
        .query(HALLS_SQL, &[&cinema_id])
        .await?
        .iter()
        .map(|h| HallView {
            hall_id: h.get("hall_id"),
            name: h.get("name"),
            capacity: h.get("capacity"),
            retired: h.get("retired"),
            layout: h.get("layout"),
            prices: h.get("prices"),
        })
        .collect();
    Ok(Some(CinemaDetailView {
        cinema: cinema_of(&row, None),
        retired: row.get("retired"),
        halls,
    }))
}

/// The cinema a hall belongs to, if the catalogue knows the hall.
pub async fn cinema_of_hall(
    client: &impl GenericClient,
    hall_id: Uuid,
) -> Result<Option<Uuid>, tokio_postgres::Error> {
    let row = client.query_opt(CINEMA_OF_HALL_SQL, &[&hall_id]).await?;
    Ok(row.map(|row| row.get("cinema_id")))
}

/// Positions at which the catalogue and the seat categories' availability last changed:
/// what discovery ETags are derived from.
pub async fn etag_positions(
    client: &impl GenericClient,
) -> Result<Vec<EtagPosition>, tokio_postgres::Error> {
    etag_positions_of(client, &["catalogue", "seat_map"]).await
}

/// A movie showing in a city, with its next show times.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NowShowing {
    pub movie: MovieView,
    /// Its shows in the city still to start.
    pub shows_total: i64,
    /// The next few, soonest first.
    pub next_shows: Vec<NextShow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextShow {
    pub show_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub cinema_id: Uuid,
    pub cinema_name: String,
}

/// The movies with shows still to start in a city, soonest first, each with its next
/// `per_movie` shows.
pub async fn now_showing(
    client: &impl GenericClient,
    city_id: Uuid,
    now: DateTime<Utc>,
    per_movie: i64,
) -> Result<Vec<NowShowing>, tokio_postgres::Error> {
    let rows = client
        .query(NOW_SHOWING_SQL, &[&city_id, &now, &per_movie])
        .await?;
    let mut showing: Vec<NowShowing> = Vec::new();
    for row in &rows {
        let next = NextShow {
            show_id: row.get("show_id"),
            starts_at: row.get("starts_at"),
            cinema_id: row.get("cinema_id"),
            cinema_name: row.get("cinema_name"),
        };
        match showing.last_mut() {
            Some(last) if last.movie.movie_id == row.get::<_, Uuid>("movie_id") => {
                last.next_shows.push(next)
            }
            _ => showing.push(NowShowing {
                movie: movie_of(row),
                shows_total: row.get("total"),
                next_shows: vec![next],
            }),
        }
    }
    showing.sort_by(|a, b| {
        (a.next_shows[0].starts_at, a.movie.movie_id)
            .cmp(&(b.next_shows[0].starts_at, b.movie.movie_id))
    });
    Ok(showing)
}

fn city_of(row: &Row) -> CityView {
    CityView {
        city_id: row.get("city_id"),
        name: row.get("name"),
        time_zone: row.get("time_zone"),
    }
}

/// A movie from a row with the movie's columns by their names.
pub(super) fn movie_of(row: &Row) -> MovieView {
    MovieView {
        movie_id: row.get("movie_id"),
        title: row.get("title"),
        original_title: row.get("original_title"),
        description: row.get("description"),
        duration_minutes: row.get("duration_minutes"),
        genres: row.get("genres"),
        language: row.get("language"),
        country: row.get("country"),
        release_date: row.get("release_date"),
        rating: row.get("rating"),
        retired: row.get("retired"),
    }
}

/// A cinema from a row with the cinema's columns by their names.
pub(super) fn cinema_of(row: &Row, distance_km: Option<f64>) -> CinemaView {
    CinemaView {
        cinema_id: row.get("cinema_id"),
        city_id: row.get("city_id"),
        name: row.get("name"),
        address: row.get("address"),
        latitude: row.get("latitude"),
        longitude: row.get("longitude"),
        postal_code: row.get("postal_code"),
        distance_km,
    }
}
