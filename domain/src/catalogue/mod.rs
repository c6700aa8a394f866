//! The catalogue staff manage and ticket clients browse: cities, cinemas with their halls
//! and seat layouts, and movies. Each is an aggregate in the decider shape, like the show:
//!
//! - [`Cities`]: every city, in one stream (`cities`), so names stay unique;
//! - [`Cinema`]: one cinema with its halls and the time each hall is booked for shows, in
//!   `cinema-{id}`, so two shows can never overlap in one hall;
//! - [`Movie`]: one movie, in `movie-{id}`.
//!
//! Scheduling a show from the catalogue books its time in the hall here first, then
//! schedules the show on its own stream with a snapshot of the hall's layout and prices.

mod cinema;
mod cities;
pub mod layout;
mod movie;

#[cfg(test)]
mod tests;

pub use cinema::{
    check_show_prices, Booking, Cinema, CinemaCommand, CinemaDetails, CinemaEvent, CinemaInfo,
    Hall, HallDetails,
};
pub use cities::{Cities, CitiesCommand, CitiesEvent, City, CityDetails};
pub use layout::{HallLayout, LayoutRow};
pub use movie::{Movie, MovieCommand, MovieDetails, MovieEvent};

use crate::{DomainError, Timestamp, UnknownEvent};

/// A catalogue aggregate: rebuilt by folding its events, deciding commands purely.
pub trait Aggregate: Default + Send + 'static {
    type Command: serde::Serialize + Send + Sync + 'static;
    type Event: StoredEvent + Clone + Send + Sync + 'static;

    fn evolve(&mut self, event: &Self::Event);

    /// The events `command` produces; none when it asks for what is already so (a retry).
    fn decide(
        &self,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, DomainError>;
}

/// An event as the log stores it: a type name, a schema version and a JSON body.
pub trait StoredEvent: Sized {
    fn event_type(&self) -> &'static str;
    fn to_json(&self) -> serde_json::Value;
    fn from_stored(
        event_type: &str,
        schema_version: i32,
        data: &serde_json::Value,
    ) -> Result<Self, UnknownEvent>;
}

/// Implements [`StoredEvent`] for an enum whose variants each wrap a struct of the same
/// name; every schema version is 1 so far.
macro_rules! stored_events {
    ($enum:ident { $($variant:ident),* $(,)? }) => {
        impl $crate::catalogue::StoredEvent for $enum {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => stringify!($variant),)*
                }
            }

            fn to_json(&self) -> serde_json::Value {
                let body = match self {
                    $(Self::$variant(e) => serde_json::to_value(e),)*
                };
                // Plain structs of strings, numbers and maps with string keys.
                body.expect("catalogue events always serialise to JSON")
            }

            fn from_stored(
                event_type: &str,
                schema_version: i32,
                data: &serde_json::Value,
            ) -> Result<Self, $crate::UnknownEvent> {
                use serde::Deserialize;
                let unknown = |reason: String| $crate::UnknownEvent {
                    event_type: event_type.to_owned(),
                    schema_version,
                    reason,
                };
                if schema_version != 1 {
                    return Err(unknown("unsupported schema version".into()));
                }
                let event = match event_type {
                    $(stringify!($variant) => $variant::deserialize(data).map(Self::$variant),)*
                    _ => return Err(unknown(concat!("not a ", stringify!($enum)).into())),
                };
                event.map_err(|e| unknown(e.to_string()))
            }
        }
    };
}
pub(crate) use stored_events;

/// Checks shared by the catalogue's text fields.
pub(crate) fn text_ok(text: &str, min: usize, max: usize) -> bool {
    let chars = text.chars().count();
    (min..=max).contains(&chars)
        && text.trim() == text
        && !text.chars().any(|c| c.is_control() && c != '\n')
}
