//! The catalogue as ticket clients browse it: cities, cinemas, halls, movies, and the shows
//! scheduled in catalogue halls (with their city and local date, for search). Availability
//! per seat category comes from the seat map's `seat_map_categories`.

use crate::runner::etag_moved;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::catalogue::{
    CinemaDetails, CinemaEvent, CitiesEvent, HallDetails, MovieDetails, MovieEvent,
};
use boxoffice_domain::ShowEvent;
use tokio_postgres::Transaction;
use uuid::Uuid;

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
            Event::Show(_) | Event::Payment(_) => false,
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
            if !self.cares_about(&applying.event) {
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
    match &applying.event {
        Event::Cities(CitiesEvent::CityAdded(e)) => {
            tx.execute(
                "INSERT INTO catalogue_cities (city_id, name, time_zone) VALUES ($1, $2, $3)",
                &[&e.city_id.0, &e.city.name, &e.city.time_zone],
            )
            .await?;
        }
        Event::Cities(CitiesEvent::CityUpdated(e)) => {
            tx.execute(
                "UPDATE catalogue_cities SET name = $2, time_zone = $3 WHERE city_id = $1",
                &[&e.city_id.0, &e.city.name, &e.city.time_zone],
            )
            .await?;
            // Local dates follow the city's time zone.
            tx.execute(
                "UPDATE catalogue_shows SET local_date = (starts_at AT TIME ZONE $2)::date
                 WHERE city_id = $1",
                &[&e.city_id.0, &e.city.time_zone],
            )
            .await?;
        }
        Event::Cities(CitiesEvent::CityRetired(e)) => {
            retire(tx, "catalogue_cities", "city_id", e.city_id.0).await?;
        }
        Event::Cinema(CinemaEvent::CinemaOpened(e)) => {
            upsert_cinema(tx, e.cinema_id.0, Some(e.city_id.0), &e.cinema).await?;
        }
        Event::Cinema(CinemaEvent::CinemaUpdated(e)) => {
            upsert_cinema(tx, e.cinema_id.0, None, &e.cinema).await?;
        }
        Event::Cinema(CinemaEvent::CinemaRetired(e)) => {
            retire(tx, "catalogue_cinemas", "cinema_id", e.cinema_id.0).await?;
        }
        Event::Cinema(CinemaEvent::HallAdded(e)) => {
            upsert_hall(tx, e.hall_id.0, e.cinema_id.0, &e.hall).await?;
        }
        Event::Cinema(CinemaEvent::HallUpdated(e)) => {
            upsert_hall(tx, e.hall_id.0, e.cinema_id.0, &e.hall).await?;
        }
        Event::Cinema(CinemaEvent::HallRetired(e)) => {
            retire(tx, "catalogue_halls", "hall_id", e.hall_id.0).await?;
        }
        Event::Movie(MovieEvent::MovieAdded(e)) => {
            upsert_movie(tx, e.movie_id.0, &e.movie).await?;
        }
        Event::Movie(MovieEvent::MovieUpdated(e)) => {
            upsert_movie(tx, e.movie_id.0, &e.movie).await?;
        }
        Event::Movie(MovieEvent::MovieRetired(e)) => {
            retire(tx, "catalogue_movies", "movie_id", e.movie_id.0).await?;
        }
        Event::Show(ShowEvent::ShowScheduled(e)) => {
            let Some(venue) = &e.venue else {
                return Ok(());
            };
            tx.execute(
                "INSERT INTO catalogue_shows (show_id, movie_id, cinema_id, hall_id, city_id,
                    starts_at, ends_at, local_date)
                 SELECT $1, $2, c.cinema_id, $4, c.city_id, $5, $6,
                    ($5 AT TIME ZONE t.time_zone)::date
                 FROM catalogue_cinemas c JOIN catalogue_cities t USING (city_id)
                 WHERE c.cinema_id = $3
                 ON CONFLICT (show_id) DO NOTHING",
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
            tx.execute(
                "UPDATE catalogue_shows SET cancelled = true WHERE show_id = $1",
                &[&applying.stream_id],
            )
            .await?;
        }
        Event::Show(_)
        | Event::Payment(_)
        | Event::Cinema(CinemaEvent::ShowBooked(_) | CinemaEvent::ShowReleased(_)) => {}
    }
    Ok(())
}

/// Marks a catalogue row retired (`table` and `column` are this module's own names).
async fn retire(
    tx: &Transaction<'_>,
    table: &str,
    column: &str,
    id: Uuid,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        &format!("UPDATE {table} SET retired = true WHERE {column} = $1"),
        &[&id],
    )
    .await?;
    Ok(())
}

async fn upsert_cinema(
    tx: &Transaction<'_>,
    cinema_id: Uuid,
    city_id: Option<Uuid>,
    cinema: &CinemaDetails,
) -> Result<(), tokio_postgres::Error> {
    match city_id {
        Some(city_id) => {
            tx.execute(
                "INSERT INTO catalogue_cinemas (cinema_id, city_id, name, address, latitude,
                    longitude, postal_code) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &cinema_id,
                    &city_id,
                    &cinema.name,
                    &cinema.address,
                    &cinema.latitude,
                    &cinema.longitude,
                    &cinema.postal_code,
                ],
            )
            .await?
        }
        None => {
            tx.execute(
                "UPDATE catalogue_cinemas SET name = $2, address = $3, latitude = $4,
                    longitude = $5, postal_code = $6 WHERE cinema_id = $1",
                &[
                    &cinema_id,
                    &cinema.name,
                    &cinema.address,
                    &cinema.latitude,
                    &cinema.longitude,
                    &cinema.postal_code,
                ],
            )
            .await?
        }
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
        "INSERT INTO catalogue_halls (hall_id, cinema_id, name, layout, prices, capacity)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (hall_id) DO UPDATE SET name = $3, layout = $4, prices = $5, capacity = $6",
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
        "INSERT INTO catalogue_movies (movie_id, title, original_title, description,
            duration_minutes, genres, language, country, release_date, rating, search_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (movie_id) DO UPDATE SET title = $2, original_title = $3,
            description = $4, duration_minutes = $5, genres = $6, language = $7, country = $8,
            release_date = $9, rating = $10, search_text = $11",
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
