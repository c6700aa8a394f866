//! The catalogue projector: cities, cinemas, halls and movies as staff change them, and the
//! shows scheduled in catalogue halls with their city and local date. Changes are few (a
//! show is scheduled a few times a day per hall): one statement per event, in log order.

use crate::runner::etag_moved;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::catalogue::{
    CinemaDetails, CinemaEvent, CitiesEvent, HallDetails, MovieDetails, MovieEvent,
};
use boxoffice_domain::ShowEvent;
use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;
use uuid::Uuid;

const ADD_CITY_SQL: &str = include_str!("sql/add_city.sql");
const UPDATE_CITY_SQL: &str = include_str!("sql/update_city.sql");
const RELOCATE_SHOW_DATES_SQL: &str = include_str!("sql/relocate_show_dates.sql");
const RETIRE_CITY_SQL: &str = include_str!("sql/retire_city.sql");
const RETIRE_CINEMA_SQL: &str = include_str!("sql/retire_cinema.sql");
const RETIRE_HALL_SQL: &str = include_str!("sql/retire_hall.sql");
const RETIRE_MOVIE_SQL: &str = include_str!("sql/retire_movie.sql");
const OPEN_CINEMA_SQL: &str = include_str!("sql/open_cinema.sql");
const UPDATE_CINEMA_SQL: &str = include_str!("sql/update_cinema.sql");
const UPSERT_HALL_SQL: &str = include_str!("sql/upsert_hall.sql");
const UPSERT_MOVIE_SQL: &str = include_str!("sql/upsert_movie.sql");
const SCHEDULE_SHOW_SQL: &str = include_str!("sql/schedule_show.sql");
const CANCEL_SHOW_SQL: &str = include_str!("sql/cancel_show.sql");

pub struct Catalogue;

#[async_trait]
impl Projector for Catalogue {
    fn name(&self) -> &'static str {
        "catalogue"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "catalogue_cities",
            "catalogue_cinemas",
            "catalogue_halls",
            "catalogue_movies",
            "catalogue_shows",
        ]
    }

    fn cares_about(&self, event: &Event) -> bool {
        match event {
            Event::Show(ShowEvent::ShowScheduled(e)) => e.venue.is_some(),
            Event::Show(ShowEvent::ShowCancelled(_)) => true,
            Event::Show(_) | Event::Payment(_) | Event::Promo(_) | Event::Access(_) => false,
            Event::Cinema(CinemaEvent::ShowBooked(_) | CinemaEvent::ShowReleased(_)) => false,
            Event::Cities(_) | Event::Cinema(_) | Event::Movie(_) => true,
        }
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        // Catalogue changes are few (a show is scheduled a few times a day per hall): one
        // statement per event, in log order.
        let mut changed = None;
        for applying in events {
            if !self.cares_about(applying.event) {
                continue;
            }
            apply_one(tx, applying).await?;
            changed = Some(applying.recorded.position);
        }
        if let Some(at) = changed {
            etag_moved(tx, self.name(), at).await?;
        }
        Ok(())
    }
}

async fn apply_one(
    tx: &Transaction<'_>,
    applying: &Applying<'_>,
) -> Result<(), tokio_postgres::Error> {
    match applying.event {
        Event::Cities(CitiesEvent::CityAdded(e)) => {
            tx.execute(
                ADD_CITY_SQL,
                &[&e.city_id.0, &e.city.name, &e.city.time_zone],
            )
            .await?;
        }
        Event::Cities(CitiesEvent::CityUpdated(e)) => {
            tx.execute(
                UPDATE_CITY_SQL,
                &[&e.city_id.0, &e.city.name, &e.city.time_zone],
            )
            .await?;
            // Local dates follow the city's time zone.
            tx.execute(RELOCATE_SHOW_DATES_SQL, &[&e.city_id.0, &e.city.time_zone])
                .await?;
        }
        Event::Cities(CitiesEvent::CityRetired(e)) => {
            retire(tx, RETIRE_CITY_SQL, e.city_id.0).await?;
        }
        Event::Cinema(CinemaEvent::CinemaOpened(e)) => {
            upsert_cinema(tx, e.cinema_id.0, Some(e.city_id.0), &e.cinema).await?;
        }
        Event::Cinema(CinemaEvent::CinemaUpdated(e)) => {
            upsert_cinema(tx, e.cinema_id.0, None, &e.cinema).await?;
        }
        Event::Cinema(CinemaEvent::CinemaRetired(e)) => {
            retire(tx, RETIRE_CINEMA_SQL, e.cinema_id.0).await?;
        }
        Event::Cinema(CinemaEvent::HallAdded(e)) => {
            upsert_hall(tx, e.hall_id.0, e.cinema_id.0, &e.hall).await?;
        }
        Event::Cinema(CinemaEvent::HallUpdated(e)) => {
            upsert_hall(tx, e.hall_id.0, e.cinema_id.0, &e.hall).await?;
        }
        Event::Cinema(CinemaEvent::HallRetired(e)) => {
            retire(tx, RETIRE_HALL_SQL, e.hall_id.0).await?;
        }
        Event::Movie(MovieEvent::MovieAdded(e)) => {
            upsert_movie(tx, e.movie_id.0, &e.movie).await?;
        }
        Event::Movie(MovieEvent::MovieUpdated(e)) => {
            upsert_movie(tx, e.movie_id.0, &e.movie).await?;
        }
        Event::Movie(MovieEvent::MovieRetired(e)) => {
            retire(tx, RETIRE_MOVIE_SQL, e.movie_id.0).await?;
        }
        Event::Show(ShowEvent::ShowScheduled(e)) => {
            let Some(venue) = &e.venue else {
                return Ok(());
            };
            tx.execute(
                SCHEDULE_SHOW_SQL,
                &[
                    &applying.stream_id,
                    &e.movie_id,
                    &venue.cinema_id.0,
                    &venue.hall_id.0,
                    &e.starts_at,
                    &e.ends_at,
                ],
            )
            .await?;
        }
        Event::Show(ShowEvent::ShowCancelled(_)) => {
            tx.execute(CANCEL_SHOW_SQL, &[&applying.stream_id]).await?;
        }
        Event::Show(_)
        | Event::Payment(_)
        | Event::Promo(_)
        | Event::Access(_)
        | Event::Cinema(CinemaEvent::ShowBooked(_) | CinemaEvent::ShowReleased(_)) => {}
    }
    Ok(())
}

/// Marks a catalogue row retired: `sql` is one of the `RETIRE_*_SQL` statements.
async fn retire(tx: &Transaction<'_>, sql: &str, id: Uuid) -> Result<(), tokio_postgres::Error> {
    tx.execute(sql, &[&id]).await?;
    Ok(())
}

/// A cinema opened (in `city_id`) or changed (`None`: it stays in its city).
async fn upsert_cinema(
    tx: &Transaction<'_>,
    cinema_id: Uuid,
    city_id: Option<Uuid>,
    cinema: &CinemaDetails,
) -> Result<(), tokio_postgres::Error> {
    let details: [&(dyn ToSql + Sync); 6] = [
        &cinema_id,
        &cinema.name,
        &cinema.address,
        &cinema.latitude,
        &cinema.longitude,
        &cinema.postal_code,
    ];
    match city_id {
        Some(city_id) => {
            tx.execute(OPEN_CINEMA_SQL, &[&details[..], &[&city_id]].concat())
                .await?
        }
        None => tx.execute(UPDATE_CINEMA_SQL, &details).await?,
    };
    Ok(())
}

async fn upsert_hall(
    tx: &Transaction<'_>,
    hall_id: Uuid,
    cinema_id: Uuid,
    hall: &HallDetails,
) -> Result<(), tokio_postgres::Error> {
    let capacity = hall
        .layout
        .seats("layout")
        .map_or(0, |seats| seats.len() as i32);
    let layout = serde_json::to_value(&hall.layout).unwrap_or_default();
    let prices = serde_json::to_value(&hall.prices).unwrap_or_default();
    tx.execute(
        UPSERT_HALL_SQL,
        &[
            &hall_id, &cinema_id, &hall.name, &layout, &prices, &capacity,
        ],
    )
    .await?;
    Ok(())
}

async fn upsert_movie(
    tx: &Transaction<'_>,
    movie_id: Uuid,
    movie: &MovieDetails,
) -> Result<(), tokio_postgres::Error> {
    let search_text = format!(
        "{}\n{}\n{}",
        movie.title,
        movie.original_title.as_deref().unwrap_or_default(),
        movie.description
    )
    .to_lowercase();
    let duration = i32::try_from(movie.duration_minutes).unwrap_or(i32::MAX);
    tx.execute(
        UPSERT_MOVIE_SQL,
        &[
            &movie_id,
            &movie.title,
            &movie.original_title,
            &movie.description,
            &duration,
            &movie.genres,
            &movie.language,
            &movie.country,
            &movie.release_date,
            &movie.rating,
            &search_text,
        ],
    )
    .await?;
    Ok(())
}
