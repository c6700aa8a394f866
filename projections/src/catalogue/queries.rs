//! Reads of the catalogue for ticket clients: cities, what is showing, movies, shows and
//! search. Shows list each seat category's price and how full it is, from the seat map.

use crate::runner::etag_positions as etag_positions_of;
use crate::{EtagPosition, MoneyView};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

/// Shows listed per movie in a search hit or a city's listing; `shows_total` tells how many
/// matched.
pub const SHOWS_PER_HIT: i64 = 50;

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
    pub price: MoneyView,
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
    let rows = client
        .query(
            "SELECT city_id, name, time_zone FROM catalogue_cities WHERE NOT retired
             ORDER BY name, city_id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(city_of).collect())
}

pub async fn city(
    client: &impl GenericClient,
    city_id: Uuid,
) -> Result<Option<CityView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT city_id, name, time_zone FROM catalogue_cities WHERE city_id = $1",
            &[&city_id],
        )
        .await?;
    Ok(row.as_ref().map(city_of))
}

fn city_of(row: &tokio_postgres::Row) -> CityView {
    CityView {
        city_id: row.get(0),
        name: row.get(1),
        time_zone: row.get(2),
    }
}

const MOVIE_COLUMNS: &str = "m.movie_id, m.title, m.original_title, m.description,
    m.duration_minutes, m.genres, m.language, m.country, m.release_date, m.rating, m.retired";

fn movie_of(row: &tokio_postgres::Row, at: usize) -> MovieView {
    MovieView {
        movie_id: row.get(at),
        title: row.get(at + 1),
        original_title: row.get(at + 2),
        description: row.get(at + 3),
        duration_minutes: row.get(at + 4),
        genres: row.get(at + 5),
        language: row.get(at + 6),
        country: row.get(at + 7),
        release_date: row.get(at + 8),
        rating: row.get(at + 9),
        retired: row.get(at + 10),
    }
}

pub async fn movie(
    client: &impl GenericClient,
    movie_id: Uuid,
) -> Result<Option<MovieView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!("SELECT {MOVIE_COLUMNS} FROM catalogue_movies m WHERE m.movie_id = $1"),
            &[&movie_id],
        )
        .await?;
    Ok(row.map(|row| movie_of(&row, 0)))
}

const CINEMA_COLUMNS: &str =
    "c.cinema_id, c.city_id, c.name, c.address, c.latitude, c.longitude, c.postal_code";

fn cinema_of(row: &tokio_postgres::Row, at: usize, distance_km: Option<f64>) -> CinemaView {
    CinemaView {
        cinema_id: row.get(at),
        city_id: row.get(at + 1),
        name: row.get(at + 2),
        address: row.get(at + 3),
        latitude: row.get(at + 4),
        longitude: row.get(at + 5),
        postal_code: row.get(at + 6),
        distance_km,
    }
}

/// The cinemas of a city (or all), by name.
pub async fn cinemas(
    client: &impl GenericClient,
    city_id: Option<Uuid>,
) -> Result<Vec<CinemaView>, tokio_postgres::Error> {
    let rows = client
        .query(
            &format!(
                "SELECT {CINEMA_COLUMNS} FROM catalogue_cinemas c
                 WHERE NOT c.retired AND ($1::uuid IS NULL OR c.city_id = $1)
                 ORDER BY c.name, c.cinema_id"
            ),
            &[&city_id],
        )
        .await?;
    Ok(rows.iter().map(|row| cinema_of(row, 0, None)).collect())
}

/// A cinema with its halls and their layouts.
pub async fn cinema(
    client: &impl GenericClient,
    cinema_id: Uuid,
) -> Result<Option<CinemaDetailView>, tokio_postgres::Error> {
    let Some(row) = client
        .query_opt(
            &format!(
                "SELECT {CINEMA_COLUMNS}, c.retired FROM catalogue_cinemas c
                 WHERE c.cinema_id = $1"
            ),
            &[&cinema_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let halls = client
        .query(
            "SELECT hall_id, name, capacity, retired, layout, prices FROM catalogue_halls
             WHERE cinema_id = $1 ORDER BY name, hall_id",
            &[&cinema_id],
        )
        .await?
        .iter()
        .map(|h| HallView {
            hall_id: h.get(0),
            name: h.get(1),
            capacity: h.get(2),
            retired: h.get(3),
            layout: h.get(4),
            prices: h.get(5),
        })
        .collect();
    Ok(Some(CinemaDetailView {
        cinema: cinema_of(&row, 0, None),
        retired: row.get(7),
        halls,
    }))
}

/// The cinema a hall belongs to, if the catalogue knows the hall.
pub async fn cinema_of_hall(
    client: &impl GenericClient,
    hall_id: Uuid,
) -> Result<Option<Uuid>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT cinema_id FROM catalogue_halls WHERE hall_id = $1",
            &[&hall_id],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Positions at which the catalogue and the seat categories' availability last changed:
/// what discovery ETags are derived from.
pub async fn etag_positions(
    client: &impl GenericClient,
) -> Result<Vec<EtagPosition>, tokio_postgres::Error> {
    etag_positions_of(client, &["catalogue", "seat_map"]).await
}

/// How search hits are ordered; ties are broken by movie id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// The movie's title.
    Name,
    /// The earliest matching show.
    Date,
    /// The nearest cinema with a matching show.
    Distance,
}

/// What a search looks for. Every given filter must hold for a show to match; a movie is a
/// hit when at least one of its shows matches.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Lower-cased words that must all appear in the title, original title or description.
    pub words: Vec<String>,
    pub city_id: Option<Uuid>,
    /// The point distances are measured from.
    pub origin: Option<(f64, f64)>,
    pub radius_km: Option<f64>,
    pub postal_code: Option<String>,
    /// Shows starting at or after this.
    pub start: DateTime<Utc>,
    /// Shows starting before this.
    pub end: Option<DateTime<Utc>>,
    /// Shows starting on this date in their city's time zone.
    pub date: Option<NaiveDate>,
    pub genre: Option<String>,
    pub language: Option<String>,
    /// At least one key; `true` is descending.
    pub sort: Vec<(SortKey, bool)>,
    pub page_size: usize,
}

/// Where the next page starts: after the hit with these keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct After {
    pub title: String,
    pub first_show: DateTime<Utc>,
    pub distance_km: Option<f64>,
    pub movie_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub movie: MovieView,
    /// The earliest matching show.
    pub first_show_at: DateTime<Utc>,
    /// The nearest cinema with a matching show, when searching from a point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// How many shows matched; `shows` lists the first 50 (by start, or by distance
    /// when the search sorts by distance first).
    pub shows_total: i64,
    pub shows: Vec<ShowView>,
}

/// A page of hits, and where the next starts (if there is one).
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next: Option<After>,
}

/// SQL text with its parameters, numbered as they are added.
#[derive(Default)]
struct Sql {
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The mean Earth radius the distances use, in km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km from the bound point to cinema `c` (haversine).
fn distance_sql(sql: &mut Sql, (latitude, longitude): (f64, f64)) -> String {
    let (lat, lon) = (sql.bind(latitude), sql.bind(longitude));
    format!(
        "({EARTH_RADIUS_KM} * 2 * asin(least(1.0, sqrt(
            power(sin(radians(c.latitude - {lat}::float8) / 2), 2)
            + cos(radians({lat}::float8)) * cos(radians(c.latitude))
              * power(sin(radians(c.longitude - {lon}::float8) / 2), 2)))))"
    )
}

/// The conditions a show must meet (on `s` shows, `c` cinemas, and `m` movies unless
/// `movies` is false: the movies are already known to match).
fn show_filters(sql: &mut Sql, search: &Search, distance: Option<&str>, movies: bool) -> String {
    let mut conditions = vec!["NOT s.cancelled".to_owned()];
    conditions.push(format!("s.starts_at >= {}", sql.bind(search.start)));
    if let Some(end) = search.end {
        conditions.push(format!("s.starts_at < {}", sql.bind(end)));
    }
    if let Some(city) = search.city_id {
        conditions.push(format!("s.city_id = {}", sql.bind(city)));
    }
    if let Some(date) = search.date {
        conditions.push(format!("s.local_date = {}", sql.bind(date)));
    }
    if let Some(postal_code) = &search.postal_code {
        conditions.push(format!("c.postal_code = {}", sql.bind(postal_code.clone())));
    }
    if movies {
        for word in &search.words {
            let pattern = format!("%{}%", escape_like(word));
            conditions.push(format!("m.search_text LIKE {}", sql.bind(pattern)));
        }
        if let Some(genre) = &search.genre {
            conditions.push(format!("{} = ANY(m.genres)", sql.bind(genre.clone())));
        }
        if let Some(language) = &search.language {
            conditions.push(format!("m.language = {}", sql.bind(language.clone())));
        }
    }
    if let (Some(radius), Some(distance), Some((lat, lon))) =
        (search.radius_km, distance, search.origin)
    {
        // A box around the circle first (the latitude index finds the cinemas in it),
        // then the exact distance. Degrees of latitude are about 111.2 km apart.
        let dlat = radius / 111.0;
        conditions.push(format!(
            "c.latitude BETWEEN {} AND {}",
            sql.bind(lat - dlat),
            sql.bind(lat + dlat)
        ));
        // The widest the circle is in longitude: asin(sin(r/R) / cos(lat)), with a margin;
        // a circle around a pole spans every longitude.
        let spread = (radius / EARTH_RADIUS_KM).sin() / lat.to_radians().cos();
        let dlon = (spread < 1.0).then(|| spread.asin().to_degrees() * 1.01 + 0.01);
        if let Some(dlon) = dlon.filter(|d| lon - d > -180.0 && lon + d < 180.0) {
            conditions.push(format!(
                "c.longitude BETWEEN {} AND {}",
                sql.bind(lon - dlon),
                sql.bind(lon + dlon)
            ));
        }
        conditions.push(format!("{distance} <= {}", sql.bind(radius)));
    }
    conditions.join(" AND ")
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The order of hits: the search's keys, then the movie id.
fn compare(sort: &[(SortKey, bool)], a: &After, b: &After) -> Ordering {
    for (key, descending) in sort {
        let order = match key {
            SortKey::Name => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            SortKey::Date => a.first_show.cmp(&b.first_show),
            SortKey::Distance => a
                .distance_km
                .unwrap_or(f64::MAX)
                .total_cmp(&b.distance_km.unwrap_or(f64::MAX)),
        };
        let order = if *descending { order.reverse() } else { order };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.movie_id.cmp(&b.movie_id)
}

/// One page of movies with matching shows, after `after` in the search's order.
pub async fn search(
    client: &impl GenericClient,
    search: &Search,
    after: Option<&After>,
) -> Result<SearchPage, tokio_postgres::Error> {
    let mut sql = Sql::default();
    let distance = search.origin.map(|origin| distance_sql(&mut sql, origin));
    let filters = show_filters(&mut sql, search, distance.as_deref(), true);
    let nearest = distance
        .as_deref()
        .map_or("NULL::float8".to_owned(), |d| format!("min({d})"));
    // The cinemas only when a filter or the distance needs them.
    let cinemas = if search.origin.is_some() || search.postal_code.is_some() {
        "JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id"
    } else {
        ""
    };
    let statement = client
        .prepare_cached(&format!(
            "SELECT s.movie_id, m.title, min(s.starts_at), {nearest}, count(*)
             FROM catalogue_shows s
             JOIN catalogue_movies m ON m.movie_id = s.movie_id
             {cinemas}
             WHERE {filters}
             GROUP BY s.movie_id, m.title"
        ))
        .await?;
    let rows = client.query(&statement, &sql.refs()).await?;
    let mut keys: Vec<(After, i64)> = rows
        .iter()
        .map(|row| {
            (
                After {
                    movie_id: row.get(0),
                    title: row.get(1),
                    first_show: row.get(2),
                    distance_km: row.get(3),
                },
                row.get(4),
            )
        })
        .filter(|(key, _)| {
            after.is_none_or(|after| compare(&search.sort, key, after) == Ordering::Greater)
        })
        .collect();
    keys.sort_by(|a, b| compare(&search.sort, &a.0, &b.0));
    let more = keys.len() > search.page_size;
    keys.truncate(search.page_size);
    let next = more
        .then(|| keys.last().map(|(key, _)| key.clone()))
        .flatten();
    if keys.is_empty() {
        return Ok(SearchPage {
            hits: Vec::new(),
            next,
        });
    }

    let ids: Vec<Uuid> = keys.iter().map(|(key, _)| key.movie_id).collect();
    let by_distance = search
        .sort
        .first()
        .is_some_and(|(k, _)| *k == SortKey::Distance);
    let mut shows = shows_of(client, search, &ids, by_distance).await?;
    let hits = keys
        .into_iter()
        .filter_map(|(key, total)| {
            let (movie, shows) = shows.remove(&key.movie_id)?;
            Some(SearchHit {
                movie,
                first_show_at: key.first_show,
                distance_km: key.distance_km,
                shows_total: total,
                shows,
            })
        })
        .collect();
    Ok(SearchPage { hits, next })
}

/// Each show's categories, by name: price and availability band, as four arrays (joined
/// to a show row as `k`).
const CATEGORIES_LATERAL: &str = "LEFT JOIN LATERAL (
        SELECT array_agg(category ORDER BY category) AS categories,
            array_agg(price_minor ORDER BY category) AS prices,
            array_agg(currency ORDER BY category) AS currencies,
            array_agg(availability_band(available, capacity) ORDER BY category) AS statuses
        FROM seat_map_categories WHERE show_id = x.show_id
    ) k ON true";

/// The first `SHOWS_PER_HIT` matching shows of each movie, with the movie and each show's
/// categories: one statement.
async fn shows_of(
    client: &impl GenericClient,
    search: &Search,
    movie_ids: &[Uuid],
    by_distance: bool,
) -> Result<HashMap<Uuid, (MovieView, Vec<ShowView>)>, tokio_postgres::Error> {
    let mut sql = Sql::default();
    let distance = search.origin.map(|origin| distance_sql(&mut sql, origin));
    // The hits' movies matched the movie filters: only the shows' filters are left.
    let filters = show_filters(&mut sql, search, distance.as_deref(), false);
    let ids = sql.bind(movie_ids.to_vec());
    let per_hit = sql.bind(SHOWS_PER_HIT);
    let cinemas = if search.origin.is_some() || search.postal_code.is_some() {
        "JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id"
    } else {
        ""
    };
    let distance = distance.unwrap_or_else(|| "NULL::float8".to_owned());
    let order = if by_distance {
        format!("{distance}, s.starts_at, s.show_id")
    } else {
        format!("s.starts_at, {distance}, s.show_id")
    };
    // Number the shows first, then look up cinemas, halls and categories of the first
    // few per movie only.
    let statement = client
        .prepare_cached(&format!(
            "SELECT x.hit, x.show_id, x.starts_at, x.ends_at, {CINEMA_COLUMNS}, x.hall_id,
                h.name, x.distance, {MOVIE_COLUMNS}, x.n,
                k.categories, k.prices, k.currencies, k.statuses
             FROM (
                SELECT s.movie_id AS hit, s.show_id, s.starts_at, s.ends_at, s.cinema_id,
                    s.hall_id, {distance} AS distance,
                    row_number() OVER (PARTITION BY s.movie_id ORDER BY {order}) AS n
                FROM catalogue_shows s {cinemas}
                WHERE s.movie_id = ANY({ids}) AND {filters}
             ) x
             JOIN catalogue_cinemas c ON c.cinema_id = x.cinema_id
             JOIN catalogue_halls h ON h.hall_id = x.hall_id
             JOIN catalogue_movies m ON m.movie_id = x.hit
             {CATEGORIES_LATERAL}
             WHERE x.n <= {per_hit}
             ORDER BY x.hit, x.n"
        ))
        .await?;
    let rows = client.query(&statement, &sql.refs()).await?;
    let mut shows: HashMap<Uuid, (MovieView, Vec<ShowView>)> = HashMap::new();
    for row in &rows {
        let show = show_of(row, 1, 26);
        shows
            .entry(row.get(0))
            .or_insert_with(|| (movie_of(row, 14), Vec::new()))
            .1
            .push(show);
    }
    Ok(shows)
}

/// A show from a row holding show_id, starts_at, ends_at, the cinema columns, hall_id,
/// hall name and distance from column `at`, and the four category arrays from `categories`.
fn show_of(row: &tokio_postgres::Row, at: usize, categories: usize) -> ShowView {
    ShowView {
        show_id: row.get(at),
        starts_at: row.get(at + 1),
        ends_at: row.get(at + 2),
        cinema: cinema_of(row, at + 3, row.get(at + 12)),
        hall: HallRef {
            hall_id: row.get(at + 10),
            name: row.get(at + 11),
        },
        categories: categories_of(row, categories),
    }
}

fn categories_of(row: &tokio_postgres::Row, at: usize) -> Vec<CategoryView> {
    let names: Option<Vec<String>> = row.get(at);
    let prices: Option<Vec<i64>> = row.get(at + 1);
    let currencies: Option<Vec<String>> = row.get(at + 2);
    let statuses: Option<Vec<String>> = row.get(at + 3);
    names
        .unwrap_or_default()
        .into_iter()
        .zip(prices.unwrap_or_default())
        .zip(currencies.unwrap_or_default())
        .zip(statuses.unwrap_or_default())
        .map(
            |(((category, amount_minor), currency), status)| CategoryView {
                category,
                price: MoneyView {
                    amount_minor,
                    currency,
                },
                status,
            },
        )
        .collect()
}

/// A movie's shows matching `search`, grouped by cinema (cinemas by their first show).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CinemaShows {
    pub cinema: CinemaView,
    pub shows: Vec<CinemaShow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CinemaShow {
    pub show_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub hall: HallRef,
    pub categories: Vec<CategoryView>,
}

/// Up to `limit` shows of one movie matching `search`'s show filters (its movie filters and
/// sort are not used),
/// grouped by cinema.
pub async fn movie_shows(
    client: &impl GenericClient,
    movie_id: Uuid,
    search: &Search,
    limit: i64,
) -> Result<Vec<CinemaShows>, tokio_postgres::Error> {
    let mut sql = Sql::default();
    let distance = search.origin.map(|origin| distance_sql(&mut sql, origin));
    let filters = show_filters(&mut sql, search, distance.as_deref(), false);
    let movie = sql.bind(movie_id);
    let limit = sql.bind(limit);
    let distance = distance.unwrap_or_else(|| "NULL::float8".to_owned());
    let statement = client
        .prepare_cached(&format!(
            "SELECT x.*, k.categories, k.prices, k.currencies, k.statuses FROM (
                SELECT s.show_id, s.starts_at, s.ends_at, {CINEMA_COLUMNS}, s.hall_id, h.name,
                    {distance}
                FROM catalogue_shows s
                JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id
                JOIN catalogue_halls h ON h.hall_id = s.hall_id
                WHERE s.movie_id = {movie} AND {filters}
                ORDER BY s.starts_at, s.show_id
                LIMIT {limit}
             ) x {CATEGORIES_LATERAL}
             ORDER BY x.starts_at, x.show_id"
        ))
        .await?;
    let rows = client.query(&statement, &sql.refs()).await?;
    let mut groups: Vec<CinemaShows> = Vec::new();
    for row in &rows {
        let show = show_of(row, 0, 13);
        let entry = CinemaShow {
            show_id: show.show_id,
            starts_at: show.starts_at,
            ends_at: show.ends_at,
            hall: show.hall,
            categories: show.categories,
        };
        match groups
            .iter_mut()
            .find(|g| g.cinema.cinema_id == show.cinema.cinema_id)
        {
            Some(group) => group.shows.push(entry),
            None => groups.push(CinemaShows {
                cinema: show.cinema,
                shows: vec![entry],
            }),
        }
    }
    Ok(groups)
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
        .query(
            &format!(
                "SELECT x.show_id, x.starts_at, x.cinema_id, x.cinema_name, x.total, {MOVIE_COLUMNS}
                 FROM (
                    SELECT s.movie_id, s.show_id, s.starts_at, s.cinema_id, c.name AS cinema_name,
                        count(*) OVER (PARTITION BY s.movie_id) AS total,
                        row_number() OVER (PARTITION BY s.movie_id
                            ORDER BY s.starts_at, s.show_id) AS n
                    FROM catalogue_shows s JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id
                    WHERE s.city_id = $1 AND s.starts_at >= $2 AND NOT s.cancelled
                 ) x JOIN catalogue_movies m ON m.movie_id = x.movie_id
                 WHERE x.n <= $3
                 ORDER BY x.movie_id, x.n"
            ),
            &[&city_id, &now, &per_movie],
        )
        .await?;
    let mut showing: Vec<NowShowing> = Vec::new();
    for row in &rows {
        let next = NextShow {
            show_id: row.get(0),
            starts_at: row.get(1),
            cinema_id: row.get(2),
            cinema_name: row.get(3),
        };
        match showing.last_mut() {
            Some(last) if last.movie.movie_id == row.get::<_, Uuid>(5) => {
                last.next_shows.push(next)
            }
            _ => showing.push(NowShowing {
                movie: movie_of(row, 5),
                shows_total: row.get(4),
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
