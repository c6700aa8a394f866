//! Commands on the catalogue (cities, cinemas, movies), and scheduling shows from it.
//!
//! Catalogue streams change a few times a day, not thousands of times a second, so their
//! commands go through the load-decide-append runner ([`Streams`]) rather than a writer
//! task. Scheduling a show crosses two streams without a lock: the hall's time is booked on
//! the cinema's stream first, then the show is scheduled on its own.

use crate::streams::Streams;
use crate::{CommandContext, CommandError, Outcome, ShowWriters};
use boxoffice_domain::catalogue::{self, Cinema, CinemaCommand, Cities, Movie};
use boxoffice_domain::{
    Aggregate, CinemaId, DomainError, HallId, Money, MovieId, ShowCommand, ShowEvent, ShowId,
    StoredEvent, StreamName, Timestamp, Venue,
};
use chrono::Duration;
use std::collections::BTreeMap;

/// A show to schedule in a hall of the catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueShow {
    pub show_id: ShowId,
    pub movie_id: MovieId,
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    pub starts_at: Timestamp,
    /// Adult prices per category; the hall's (at matinee prices if the cinema has them
    /// and the show starts early) when absent.
    pub prices: Option<BTreeMap<String, Money>>,
    /// The other ticket types' prices (type, then category); from the cinema's ticket types
    /// when absent.
    pub ticket_prices: Option<BTreeMap<String, BTreeMap<String, Money>>>,
}

/// The settings shows scheduled now get (as for `ShowCommand::ScheduleShow`).
#[derive(Debug, Clone)]
pub struct ShowSettings {
    pub hold_ttl_seconds: u32,
    pub expiry_grace_seconds: u32,
    pub max_holds_per_customer: u32,
    pub waitlist_max_wait_seconds: u32,
    /// Minutes a hall needs between two shows.
    pub cleaning_minutes: u32,
}

#[derive(Clone)]
pub struct Catalogue {
    streams: Streams,
}

impl Catalogue {
    pub fn new(streams: Streams) -> Self {
        Self { streams }
    }

    pub async fn cities(
        &self,
        command: catalogue::CitiesCommand,
        context: &CommandContext,
    ) -> Result<Outcome<catalogue::CitiesEvent>, CommandError> {
        self.streams
            .execute::<Cities>(&StreamName::Cities.to_string(), command, context)
            .await
    }

    pub async fn movie(
        &self,
        movie_id: MovieId,
        command: catalogue::MovieCommand,
        context: &CommandContext,
    ) -> Result<Outcome<catalogue::MovieEvent>, CommandError> {
        self.streams
            .execute::<Movie>(&movie_id.stream(), command, context)
            .await
    }

    /// A command on a cinema. Opening one checks that its city exists and is not retired.
    pub async fn cinema(
        &self,
        cinema_id: CinemaId,
        command: CinemaCommand,
        context: &CommandContext,
    ) -> Result<Outcome<catalogue::CinemaEvent>, CommandError> {
        if let CinemaCommand::OpenCinema { city_id, .. } = &command {
            let cities = self.load::<Cities>(&StreamName::Cities.to_string()).await?;
            match cities.get(city_id) {
                None => Err(DomainError::Validation(vec![
                    boxoffice_domain::FieldError::new("city_id", "no such city"),
                ]))?,
                Some(city) if city.retired => Err(DomainError::Validation(vec![
                    boxoffice_domain::FieldError::new("city_id", "the city is retired"),
                ]))?,
                Some(_) => {}
            }
        }
        self.streams
            .execute::<Cinema>(&cinema_id.stream(), command, context)
            .await
    }

    /// The current state of a catalogue stream, read from the log.
    pub async fn load<A: Aggregate>(&self, stream: &str) -> Result<A, CommandError> {
        Ok(self.streams.load::<A>(stream).await?.state)
    }

    /// Schedules a show of a catalogue movie in a catalogue hall: books the hall's time on
    /// the cinema's stream (refused if it overlaps another show, cleaning gap included),
    /// then schedules the show on its own stream with a snapshot of the hall's layout and
    /// prices. If the show cannot be scheduled, the booking is released again.
    pub async fn schedule_show(
        &self,
        writers: &ShowWriters,
        show: CatalogueShow,
        settings: &ShowSettings,
        context: &CommandContext,
    ) -> Result<Outcome, CommandError> {
        let movie = self.load::<Movie>(&show.movie_id.stream()).await?;
        let field = |field: &str, message: &str| {
            CommandError::Rejected(DomainError::Validation(vec![
                boxoffice_domain::FieldError::new(field, message),
            ]))
        };
        let details = movie
            .details()
            .ok_or_else(|| field("movie_id", "no such movie"))?;
        if movie.is_retired() {
            return Err(field("movie_id", "the movie is retired"));
        }
        let ends_at = show
            .starts_at
            .checked_add_signed(Duration::minutes(i64::from(details.duration_minutes)))
            .ok_or_else(|| field("starts_at", "is too far in the future"))?;
        let cinema = self.load::<Cinema>(&show.cinema_id.stream()).await?;
        let hall = cinema
            .hall(&show.hall_id)
            .ok_or_else(|| field("hall_id", "no such hall"))?;
        let info = cinema
            .info()
            .ok_or_else(|| field("hall_id", "no such hall"))?;
        let cities = self.load::<Cities>(&StreamName::Cities.to_string()).await?;
        let time_zone = cities
            .get(&info.city_id)
            .map_or("", |city| city.details.time_zone.as_str());
        let priced = catalogue::price_show(
            show.prices.as_ref().unwrap_or(&hall.details.prices),
            &info.details.ticket_types,
            // Prices the request names are the prices: no matinee on top.
            info.details
                .matinee
                .as_ref()
                .filter(|_| show.prices.is_none()),
            time_zone,
            show.starts_at,
        );
        let prices = priced.prices;
        let ticket_prices = show.ticket_prices.unwrap_or(priced.ticket_prices);
        catalogue::check_show_prices(&prices, &hall.seats)?;
        let booked = self
            .cinema(
                show.cinema_id,
                CinemaCommand::BookShow {
                    show_id: show.show_id,
                    hall_id: show.hall_id,
                    movie_id: show.movie_id,
                    starts_at: show.starts_at,
                    ends_at,
                    cleaning_minutes: settings.cleaning_minutes,
                },
                context,
            )
            .await?;
        // The layout as it was when the time was booked (a retry sees the same one).
        let cinema = self
            .streams
            .load_until::<Cinema>(&show.cinema_id.stream(), booked.position)
            .await?
            .state;
        let seats = cinema
            .hall(&show.hall_id)
            .map(|h| h.seats.to_vec())
            .unwrap_or_default();
        let command = ShowCommand::ScheduleShow {
            show_id: show.show_id.0,
            movie_id: show.movie_id.0,
            title: details.title.clone(),
            starts_at: show.starts_at,
            ends_at,
            seats,
            prices,
            ticket_prices,
            hold_ttl_seconds: settings.hold_ttl_seconds,
            expiry_grace_seconds: settings.expiry_grace_seconds,
            max_holds_per_customer: settings.max_holds_per_customer,
            waitlist_max_wait_seconds: settings.waitlist_max_wait_seconds,
            venue: Some(Venue {
                cinema_id: show.cinema_id,
                hall_id: show.hall_id,
                day_number: cinema.booking(&show.show_id).and_then(|b| b.day_number),
            }),
            refund_policy: cinema.info().and_then(|i| i.details.refund_policy),
            accessible_seating: Some(
                cinema
                    .info()
                    .and_then(|i| i.details.accessible_seating)
                    .unwrap_or_default(),
            ),
        };
        match writers
            .execute(show.show_id, command, context.clone())
            .await
        {
            // Free the hall only if this command booked it: a booking that was already
            // there (the same show scheduled by another request) belongs to a live show.
            Err(CommandError::Rejected(rejection))
                if !booked.events.is_empty() || booked.replayed =>
            {
                self.release(show.cinema_id, show.show_id, context).await?;
                Err(CommandError::Rejected(rejection))
            }
            other => other,
        }
    }

    /// Cancels a show and, when it plays in a catalogue hall, frees its time there.
    pub async fn cancel_show(
        &self,
        writers: &ShowWriters,
        show_id: ShowId,
        reason: String,
        context: &CommandContext,
    ) -> Result<Outcome, CommandError> {
        let outcome = writers
            .execute(show_id, ShowCommand::CancelShow { reason }, context.clone())
            .await;
        if matches!(
            outcome,
            Ok(_) | Err(CommandError::Rejected(DomainError::ShowCancelled))
        ) {
            let first = self
                .streams
                .log()
                .read_stream(&show_id.stream(), 0, 1)
                .await?;
            let venue = first.first().and_then(|recorded| {
                match ShowEvent::from_stored(
                    &recorded.event_type,
                    recorded.schema_version,
                    &recorded.data,
                ) {
                    Ok(ShowEvent::ShowScheduled(e)) => e.venue,
                    _ => None,
                }
            });
            if let Some(venue) = venue {
                self.release(venue.cinema_id, show_id, context).await?;
            }
        }
        outcome
    }

    async fn release(
        &self,
        cinema_id: CinemaId,
        show_id: ShowId,
        context: &CommandContext,
    ) -> Result<(), CommandError> {
        let context = CommandContext {
            idempotency_key: format!("{}/release", context.idempotency_key),
            ..context.clone()
        };
        self.cinema(cinema_id, CinemaCommand::ReleaseShow { show_id }, &context)
            .await?;
        Ok(())
    }
}
