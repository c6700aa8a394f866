//! Reads of single shows for ticket clients: one show with everything its page needs before
//! a sale (its movie, cinema, hall, times, counts, prices and availability, whether it is
//! on sale), and a cinema's schedule for a day, every hall. Both read the seat map's
//! per-category counts beside the catalogue, as discovery does.

use super::queries::{cinema_of, movie_of, CategoryView, CinemaView, HallRef, MovieView};
use super::search::categories_of;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

const SHOW_SQL: &str = include_str!("sql/show.sql");
const CINEMA_SCHEDULE_SQL: &str = include_str!("sql/cinema_schedule.sql");

/// Seats by status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowCounts {
    pub available: i32,
    pub held: i32,
    pub sold: i32,
}

/// A show as a client presents it before a sale.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowDetail {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    /// The show's title (the movie's when scheduled from the catalogue).
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled: bool,
    /// Seats may be held: not cancelled and not started.
    pub on_sale: bool,
    /// The catalogue's movie; null for a show made without the catalogue.
    pub movie: Option<MovieView>,
    /// Where it plays; null for a show made without the catalogue.
    pub cinema: Option<CinemaView>,
    pub hall: Option<HallRef>,
    pub capacity: i32,
    pub counts: ShowCounts,
    /// Each seat category's price and how full it is.
    pub categories: Vec<CategoryView>,
}

/// The show, or None for one the seat map does not know.
pub async fn show_detail(
    client: &impl GenericClient,
    show_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ShowDetail>, tokio_postgres::Error> {
    let Some(row) = client.query_opt(SHOW_SQL, &[&show_id]).await? else {
        return Ok(None);
    };
    let cancelled: bool = row.get("cancelled");
    let starts_at: DateTime<Utc> = row.get("starts_at");
    let cinema = row
        .get::<_, Option<Uuid>>("cinema_id")
        .map(|_| cinema_of(&row, None));
    let hall = row
        .get::<_, Option<Uuid>>("hall_id")
        .map(|hall_id| HallRef {
            hall_id,
            name: row.get("hall_name"),
        });
    let movie = row
        .get::<_, Option<Uuid>>("catalogue_movie_id")
        .map(|_| movie_of(&row));
    Ok(Some(ShowDetail {
        show_id,
        movie_id: row.get("movie_id"),
        title: row.get("show_title"),
        starts_at,
        ends_at: row.get("ends_at"),
        cancelled,
        on_sale: !cancelled && now < starts_at,
        movie,
        cinema,
        hall,
        capacity: row.get("capacity"),
        counts: ShowCounts {
            available: row.get("available"),
            held: row.get("held"),
            sold: row.get("sold"),
        },
        categories: categories_of(&row),
    }))
}

/// A cinema's shows of one local day, hall by hall.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CinemaSchedule {
    pub cinema_id: Uuid,
    /// The day, in the cinema's city's time zone.
    pub date: NaiveDate,
    /// Halls with a show that day, by name.
    pub halls: Vec<HallSchedule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HallSchedule {
    pub hall: HallRef,
    /// By start.
    pub shows: Vec<ScheduledShow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledShow {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled: bool,
    pub on_sale: bool,
    pub categories: Vec<CategoryView>,
}

/// Every show of `cinema_id` on local day `date`, cancelled ones too.
pub async fn cinema_schedule(
    client: &impl GenericClient,
    cinema_id: Uuid,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<CinemaSchedule, tokio_postgres::Error> {
    let rows = client
        .query(CINEMA_SCHEDULE_SQL, &[&cinema_id, &date])
        .await?;
    let mut halls: Vec<HallSchedule> = Vec::new();
    for row in &rows {
        let cancelled: bool = row.get("cancelled");
        let starts_at: DateTime<Utc> = row.get("starts_at");
        let show = ScheduledShow {
            show_id: row.get("show_id"),
            movie_id: row.get("movie_id"),
            title: row.get("title"),
            starts_at,
            ends_at: row.get("ends_at"),
            cancelled,
            on_sale: !cancelled && now < starts_at,
            categories: categories_of(row),
        };
        let hall_id: Uuid = row.get("hall_id");
        match halls.last_mut() {
            Some(last) if last.hall.hall_id == hall_id => last.shows.push(show),
            _ => halls.push(HallSchedule {
                hall: HallRef {
                    hall_id,
                    name: row.get("hall_name"),
                },
                shows: vec![show],
            }),
        }
    }
    Ok(CinemaSchedule {
        cinema_id,
        date,
        halls,
    })
}
