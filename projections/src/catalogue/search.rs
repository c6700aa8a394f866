//! Search: the movies whose shows match a search, a page at a time, and a movie's matching
//! shows.
//!
//! Every statement is static SQL (`sql/matching_shows.sql` and the statement's own file): a
//! filter not given is a NULL parameter (`$3::uuid IS NULL OR city_id = $3`), and the sort
//! orders are CASE expressions. The statements are sent unnamed with their parameters'
//! types (`query_typed`), so PostgreSQL plans each for its actual values: a NULL filter
//! folds away and the city, date and start indexes serve as if the filter were never
//! written. (A cached, named statement would be planned once for all values after a few
//! runs, and could not use them.)
//!
//! The search clients make most, one city on one date with no point or postal code, has
//! statements of its own (`sql/matching_shows_in_city_on_date.sql`) whose city and date
//! are required: those are prepared once per connection and their plans kept, since the
//! same index serves every value (planning each call cost about a millisecond more).

use super::queries::{cinema_of, movie_of, CategoryView, CinemaView, HallRef, MovieView, ShowView};
use crate::MoneyView;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Client;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;
use uuid::Uuid;

const SEARCH_HITS_SQL: &str = concat!(
    include_str!("sql/matching_shows.sql"),
    include_str!("sql/search_hits.sql")
);
const HIT_SHOWS_SQL: &str = concat!(
    include_str!("sql/matching_shows.sql"),
    include_str!("sql/hit_shows.sql"),
    include_str!("sql/picked_shows.sql")
);
const HIT_SHOWS_BY_MOVIE_SQL: &str = concat!(
    include_str!("sql/matching_shows.sql"),
    include_str!("sql/hit_shows_by_movie.sql"),
    include_str!("sql/picked_shows.sql")
);
const MOVIE_SHOWS_SQL: &str = concat!(
    include_str!("sql/matching_shows.sql"),
    include_str!("sql/movie_shows.sql"),
    include_str!("sql/picked_shows.sql")
);
const SEARCH_HITS_IN_CITY_SQL: &str = concat!(
    include_str!("sql/matching_shows_in_city_on_date.sql"),
    include_str!("sql/search_hits.sql")
);
const HIT_SHOWS_IN_CITY_SQL: &str = concat!(
    include_str!("sql/matching_shows_in_city_on_date.sql"),
    include_str!("sql/hit_shows.sql"),
    include_str!("sql/picked_shows.sql")
);
const MOVIE_SHOWS_IN_CITY_SQL: &str = concat!(
    include_str!("sql/matching_shows_in_city_on_date.sql"),
    include_str!("sql/movie_shows.sql"),
    include_str!("sql/picked_shows.sql")
);

/// Shows listed per movie in a search hit or a city's listing; `shows_total` tells how many
/// matched.
pub const SHOWS_PER_HIT: i64 = 50;

/// The mean Earth radius the distances use, in km (as in `sql/matching_shows.sql`).
const EARTH_RADIUS_KM: f64 = 6371.0088;

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

/// The parameters of `sql/matching_shows.sql`, `$1` to `$12`, from a search's show
/// filters; `None` is a filter not given.
struct ShowParams {
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    city_id: Option<Uuid>,
    date: Option<NaiveDate>,
    postal_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    radius_km: Option<f64>,
    latitude_from: Option<f64>,
    latitude_to: Option<f64>,
    longitude_from: Option<f64>,
    longitude_to: Option<f64>,
}

impl ShowParams {
    /// Whether the statements for one city on one date (`..._IN_CITY_SQL`) fit.
    fn in_city_on_date(&self) -> bool {
        self.city_id.is_some()
            && self.date.is_some()
            && self.postal_code.is_none()
            && self.latitude.is_none()
    }

    /// Whether the search matches shows in every city (no city, postal code or point).
    fn everywhere(&self) -> bool {
        self.city_id.is_none() && self.postal_code.is_none() && self.latitude.is_none()
    }

    /// Runs `general`, or `in_city` (prepared once per connection, its plan kept) when the
    /// search is in one city on one date.
    async fn run(
        &self,
        client: &Client,
        (general, in_city): (&str, &str),
        own: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let params = self.and(own);
        if !self.in_city_on_date() {
            return client.query_typed(general, &params).await;
        }
        let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        let statement = client.prepare_typed_cached(in_city, &types).await?;
        client.query(&statement, &values).await
    }

    fn of(search: &Search) -> Self {
        let mut params = Self {
            start: search.start,
            end: search.end,
            city_id: search.city_id,
            date: search.date,
            postal_code: search.postal_code.clone(),
            latitude: search.origin.map(|(lat, _)| lat),
            longitude: search.origin.map(|(_, lon)| lon),
            radius_km: None,
            latitude_from: None,
            latitude_to: None,
            longitude_from: None,
            longitude_to: None,
        };
        if let (Some(radius), Some((lat, lon))) = (search.radius_km, search.origin) {
            params.radius_km = Some(radius);
            // A box around the circle first (the latitude index finds the cinemas in it),
            // then the exact distance. Degrees of latitude are about 111.2 km apart.
            let dlat = radius / 111.0;
            params.latitude_from = Some(lat - dlat);
            params.latitude_to = Some(lat + dlat);
            // The widest the circle is in longitude: asin(sin(r/R) / cos(lat)), with a
            // margin; a circle around a pole spans every longitude.
            let spread = (radius / EARTH_RADIUS_KM).sin() / lat.to_radians().cos();
            let dlon = (spread < 1.0).then(|| spread.asin().to_degrees() * 1.01 + 0.01);
            if let Some(dlon) = dlon.filter(|d| lon - d > -180.0 && lon + d < 180.0) {
                params.longitude_from = Some(lon - dlon);
                params.longitude_to = Some(lon + dlon);
            }
        }
        params
    }

    /// `$1` to `$12`, followed by a statement's own parameters.
    fn and<'a>(
        &'a self,
        own: &[(&'a (dyn ToSql + Sync), Type)],
    ) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
        let mut all: Vec<(&'a (dyn ToSql + Sync), Type)> = vec![
            (&self.start, Type::TIMESTAMPTZ),
            (&self.end, Type::TIMESTAMPTZ),
            (&self.city_id, Type::UUID),
            (&self.date, Type::DATE),
            (&self.postal_code, Type::TEXT),
            (&self.latitude, Type::FLOAT8),
            (&self.longitude, Type::FLOAT8),
            (&self.radius_km, Type::FLOAT8),
            (&self.latitude_from, Type::FLOAT8),
            (&self.latitude_to, Type::FLOAT8),
            (&self.longitude_from, Type::FLOAT8),
            (&self.longitude_to, Type::FLOAT8),
        ];
        all.extend_from_slice(own);
        all
    }
}

/// A search's words as LIKE patterns that must all match.
fn like_patterns(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|word| format!("%{}%", escape_like(word)))
        .collect()
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
    client: &Client,
    search: &Search,
    after: Option<&After>,
) -> Result<SearchPage, tokio_postgres::Error> {
    let shows = ShowParams::of(search);
    let patterns = like_patterns(&search.words);
    let rows = shows
        .run(
            client,
            (SEARCH_HITS_SQL, SEARCH_HITS_IN_CITY_SQL),
            &[
                (&patterns, Type::TEXT_ARRAY),
                (&search.genre, Type::TEXT),
                (&search.language, Type::TEXT),
            ],
        )
        .await?;
    let mut hits: Vec<Hit> = rows
        .iter()
        .map(|row| Hit {
            key: After {
                movie_id: row.get("movie_id"),
                title: row.get("title"),
                first_show: row.get("first_show"),
                distance_km: row.get("distance_km"),
            },
            shows: row.get("shows"),
            movie: movie_of(row),
        })
        .filter(|hit| {
            after.is_none_or(|after| compare(&search.sort, &hit.key, after) == Ordering::Greater)
        })
        .collect();
    hits.sort_by(|a, b| compare(&search.sort, &a.key, &b.key));
    let more = hits.len() > search.page_size;
    hits.truncate(search.page_size);
    let next = more
        .then(|| hits.last().map(|hit| hit.key.clone()))
        .flatten();
    if hits.is_empty() {
        return Ok(SearchPage {
            hits: Vec::new(),
            next,
        });
    }

    let ids: Vec<Uuid> = hits.iter().map(|hit| hit.key.movie_id).collect();
    let by_distance = search
        .sort
        .first()
        .is_some_and(|(k, _)| *k == SortKey::Distance);
    let rows = shows
        .run(
            client,
            match shows.everywhere() {
                true => (HIT_SHOWS_BY_MOVIE_SQL, HIT_SHOWS_IN_CITY_SQL),
                false => (HIT_SHOWS_SQL, HIT_SHOWS_IN_CITY_SQL),
            },
            &[
                (&ids, Type::UUID_ARRAY),
                (&SHOWS_PER_HIT, Type::INT8),
                (&by_distance, Type::BOOL),
            ],
        )
        .await?;
    let mut shows: HashMap<Uuid, Vec<ShowView>> = HashMap::new();
    for row in &rows {
        shows
            .entry(row.get("movie_id"))
            .or_default()
            .push(show_of(row));
    }
    let hits = hits
        .into_iter()
        .filter_map(|hit| {
            Some(SearchHit {
                shows: shows.remove(&hit.key.movie_id)?,
                movie: hit.movie,
                first_show_at: hit.key.first_show,
                distance_km: hit.key.distance_km,
                shows_total: hit.shows,
            })
        })
        .collect();
    Ok(SearchPage { hits, next })
}

/// A movie with matching shows, before its shows are read.
struct Hit {
    key: After,
    /// How many of its shows matched.
    shows: i64,
    movie: MovieView,
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
/// sort are not used), grouped by cinema.
pub async fn movie_shows(
    client: &Client,
    movie_id: Uuid,
    search: &Search,
    limit: i64,
) -> Result<Vec<CinemaShows>, tokio_postgres::Error> {
    let shows = ShowParams::of(search);
    let rows = shows
        .run(
            client,
            (MOVIE_SHOWS_SQL, MOVIE_SHOWS_IN_CITY_SQL),
            &[(&movie_id, Type::UUID), (&limit, Type::INT8)],
        )
        .await?;
    let mut groups: Vec<CinemaShows> = Vec::new();
    for row in &rows {
        let show = show_of(row);
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

/// A show from a row of `sql/picked_shows.sql`.
fn show_of(row: &Row) -> ShowView {
    ShowView {
        show_id: row.get("show_id"),
        starts_at: row.get("starts_at"),
        ends_at: row.get("ends_at"),
        cinema: cinema_of(row, row.get("distance_km")),
        hall: HallRef {
            hall_id: row.get("hall_id"),
            name: row.get("hall_name"),
        },
        categories: categories_of(row),
    }
}

/// A show's categories from the five arrays of `sql/picked_shows.sql`.
pub(super) fn categories_of(row: &Row) -> Vec<CategoryView> {
    let names: Option<Vec<String>> = row.get("categories");
    let prices: Option<Vec<i64>> = row.get("prices");
    let currencies: Option<Vec<String>> = row.get("currencies");
    let statuses: Option<Vec<String>> = row.get("statuses");
    let ticket_prices: Option<Vec<serde_json::Value>> = row.get("ticket_prices");
    names
        .unwrap_or_default()
        .into_iter()
        .zip(prices.unwrap_or_default())
        .zip(currencies.unwrap_or_default())
        .zip(statuses.unwrap_or_default())
        .zip(ticket_prices.unwrap_or_default())
        .map(
            |((((category, amount_minor), currency), status), ticket_prices)| {
                let ticket_prices: BTreeMap<String, i64> =
                    serde_json::from_value(ticket_prices).unwrap_or_default();
                CategoryView {
                    category,
                    ticket_prices: ticket_prices
                        .into_iter()
                        .map(|(ticket_type, amount_minor)| {
                            let price = MoneyView {
                                amount_minor,
                                currency: currency.clone(),
                            };
                            (ticket_type, price)
                        })
                        .collect(),
                    price: MoneyView {
                        amount_minor,
                        currency,
                    },
                    status,
                }
            },
        )
        .collect()
}
