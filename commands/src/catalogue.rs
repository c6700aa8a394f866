//! Commands on the catalogue (cities, cinemas, movies), and scheduling shows from it.
//!
//! Catalogue streams change a few times a day, not thousands of times a second, so there
//! is no writer task per stream: each command loads its stream, decides, and appends with
//! the version it read, trying again if the stream moved. A retry of a command (same actor
//! and idempotency key) is recognised from the events' metadata and answered as before.

use crate::idempotency::digest;
use crate::{Clock, CommandContext, CommandError, ShowWriters};
use boxoffice_domain::catalogue::{self, Cinema, CinemaCommand, Cities, Movie};
use boxoffice_domain::{
    Aggregate, CinemaId, DomainError, HallId, Money, MovieId, ShowCommand, ShowEvent, ShowId,
    StoredEvent, StreamName, Timestamp, Venue,
};
use boxoffice_eventstore::{
    EventLog, EventLogError, ExpectedVersion, Metadata, NewEvent, Position,
};
use chrono::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Tries at one command while other commands keep moving its stream.
const MAX_ATTEMPTS: usize = 8;
/// Events read per page when loading a stream.
const PAGE: usize = 1_000;

/// What a catalogue command did.
#[derive(Debug, Clone)]
pub struct CatalogueOutcome<E> {
    /// Its events: none when the command asked for what already was so.
    pub events: Vec<E>,
    /// The log position after its events (or of the stream's last event, if none).
    pub position: Position,
    pub replayed: bool,
}

/// A show to schedule in a hall of the catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueShow {
    pub show_id: ShowId,
    pub movie_id: MovieId,
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    pub starts_at: Timestamp,
    /// Prices per category; the hall's when absent.
    pub prices: Option<BTreeMap<String, Money>>,
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
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
}

impl Catalogue {
    pub fn new(log: Arc<dyn EventLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }

    pub async fn cities(
        &self,
        command: catalogue::CitiesCommand,
        context: &CommandContext,
    ) -> Result<CatalogueOutcome<catalogue::CitiesEvent>, CommandError> {
        self.execute::<Cities>(&StreamName::Cities.to_string(), command, context)
            .await
    }

    pub async fn movie(
        &self,
        movie_id: MovieId,
        command: catalogue::MovieCommand,
        context: &CommandContext,
    ) -> Result<CatalogueOutcome<catalogue::MovieEvent>, CommandError> {
        self.execute::<Movie>(&movie_id.stream(), command, context)
            .await
    }

    /// A command on a cinema. Opening one checks that its city exists and is not retired.
    pub async fn cinema(
        &self,
        cinema_id: CinemaId,
        command: CinemaCommand,
        context: &CommandContext,
    ) -> Result<CatalogueOutcome<catalogue::CinemaEvent>, CommandError> {
        if let CinemaCommand::OpenCinema { city_id, .. } = &command {
            let (cities, _) = self.load::<Cities>(&StreamName::Cities.to_string()).await?;
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
        self.execute::<Cinema>(&cinema_id.stream(), command, context)
            .await
    }

    /// The current state of a catalogue stream, read from the log.
    pub async fn load<A: Aggregate>(&self, stream: &str) -> Result<(A, Option<u64>), CommandError> {
        let loaded = self.load_for::<A>(stream, None).await?;
        Ok((loaded.state, loaded.version))
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
    ) -> Result<crate::Outcome, CommandError> {
        let (movie, _) = self.load::<Movie>(&show.movie_id.stream()).await?;
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
        let (cinema, _) = self.load::<Cinema>(&show.cinema_id.stream()).await?;
        let hall = cinema
            .hall(&show.hall_id)
            .ok_or_else(|| field("hall_id", "no such hall"))?;
        let prices = show.prices.unwrap_or_else(|| hall.details.prices.clone());
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
        let (cinema, _) = self
            .load_for::<Cinema>(&show.cinema_id.stream(), Some(booked.position))
            .await
            .map(|l| (l.state, l.version))?;
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
            hold_ttl_seconds: settings.hold_ttl_seconds,
            expiry_grace_seconds: settings.expiry_grace_seconds,
            max_holds_per_customer: settings.max_holds_per_customer,
            waitlist_max_wait_seconds: settings.waitlist_max_wait_seconds,
            venue: Some(Venue {
                cinema_id: show.cinema_id,
                hall_id: show.hall_id,
            }),
            refund_policy: cinema.info().and_then(|i| i.details.refund_policy),
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
    ) -> Result<crate::Outcome, CommandError> {
        let outcome = writers
            .execute(show_id, ShowCommand::CancelShow { reason }, context.clone())
            .await;
        if matches!(
            outcome,
            Ok(_) | Err(CommandError::Rejected(DomainError::ShowCancelled))
        ) {
            let first = self.log.read_stream(&show_id.stream(), 0, 1).await?;
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

    /// Decides `command` on the aggregate of `stream` and appends its events at the version
    /// read, reading again and deciding again while other commands move the stream.
    pub async fn execute<A: Aggregate>(
        &self,
        stream: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<CatalogueOutcome<A::Event>, CommandError> {
        let digest = digest(&command);
        for _ in 0..MAX_ATTEMPTS {
            let loaded = self.load_for::<A>(stream, None).await?;
            if let Some(earlier) = loaded.earlier(context) {
                if earlier.digest != digest {
                    return Err(CommandError::KeyReused);
                }
                return Ok(CatalogueOutcome {
                    events: earlier.events,
                    position: earlier.position,
                    replayed: true,
                });
            }
            let events = loaded.state.decide(&command, self.clock.now())?;
            if events.is_empty() {
                return Ok(CatalogueOutcome {
                    events,
                    position: loaded.last_position,
                    replayed: false,
                });
            }
            let command_id = context.derive_id("command").to_string();
            let new_events = events
                .iter()
                .enumerate()
                .map(|(n, event)| NewEvent {
                    event_id: context.event_id(stream, n),
                    event_type: event.event_type().to_owned(),
                    schema_version: event.schema_version(),
                    data: event.to_json(),
                    metadata: Metadata {
                        correlation_id: context.correlation_id.clone(),
                        causation_id: Some(command_id.clone()),
                        actor: Some(context.actor.clone()),
                        idempotency_key: Some(context.idempotency_key.clone()),
                        command_digest: Some(digest.clone()),
                    },
                })
                .collect();
            match self
                .log
                .append(stream, ExpectedVersion::after(loaded.version), new_events)
                .await
            {
                Ok(appended) => {
                    return Ok(CatalogueOutcome {
                        events,
                        position: appended.position,
                        replayed: false,
                    })
                }
                // Someone else wrote (or our own earlier try did): read again and decide.
                Err(
                    EventLogError::WrongExpectedVersion { .. } | EventLogError::DuplicateEvent(_),
                ) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(CommandError::Unavailable(format!(
            "{stream} kept changing; try again"
        )))
    }

    /// Folds a stream (up to the event at `until`, if given), noting what each command key
    /// produced.
    async fn load_for<A: Aggregate>(
        &self,
        stream: &str,
        until: Option<Position>,
    ) -> Result<Loaded<A>, CommandError> {
        let mut loaded = Loaded {
            state: A::default(),
            version: None,
            last_position: Position::START,
            recorded: Vec::new(),
        };
        let mut from = 0;
        loop {
            let page = self.log.read_stream(stream, from, PAGE).await?;
            for recorded in &page {
                if until.is_some_and(|until| recorded.position > until) {
                    return Ok(loaded);
                }
                let event = A::Event::from_stored(
                    &recorded.event_type,
                    recorded.schema_version,
                    &recorded.data,
                )
                .map_err(|e| CommandError::Failed(e.to_string()))?;
                loaded.state.evolve(&event);
                loaded.version = Some(recorded.version);
                loaded.last_position = recorded.position;
                loaded
                    .recorded
                    .push((recorded.metadata.clone(), recorded.position, event));
            }
            if page.len() < PAGE {
                return Ok(loaded);
            }
            from += PAGE as u64;
        }
    }
}

struct Loaded<A: Aggregate> {
    state: A,
    version: Option<u64>,
    last_position: Position,
    recorded: Vec<(Metadata, Position, A::Event)>,
}

struct Earlier<E> {
    digest: String,
    events: Vec<E>,
    position: Position,
}

impl<A: Aggregate> Loaded<A> {
    /// What an earlier try of this command (same actor and key) appended, if any.
    fn earlier(&self, context: &CommandContext) -> Option<Earlier<A::Event>> {
        let mut found: Option<Earlier<A::Event>> = None;
        for (metadata, position, event) in &self.recorded {
            if metadata.actor.as_deref() == Some(context.actor.as_str())
                && metadata.idempotency_key.as_deref() == Some(context.idempotency_key.as_str())
            {
                let earlier = found.get_or_insert_with(|| Earlier {
                    digest: metadata.command_digest.clone().unwrap_or_default(),
                    events: Vec::new(),
                    position: *position,
                });
                earlier.events.push(event.clone());
                earlier.position = *position;
            }
        }
        found
    }
}
