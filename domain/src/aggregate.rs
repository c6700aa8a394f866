//! The shape every aggregate of the log shares, so a stream can be folded without knowing
//! which aggregate it holds.
//!
//! Each aggregate (a show, the cities, a cinema, a movie, a payment, a promo code) is a
//! decider: [`Aggregate::decide`] turns a command into events against the current state,
//! [`Aggregate::evolve`] applies one event. Its events are [`StoredEvent`]s: a type name, a
//! schema version and a JSON body. Together they let any stream, at any version, be
//! rebuilt the same way (`A::Event::from_stored` then `A::evolve`, event by event): by the
//! command side, by the audit, by a test. Nothing here may read the clock or do IO.

use crate::{DomainError, Timestamp};

/// An aggregate: rebuilt by folding its events, deciding commands purely.
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
///
/// A stored event must stay readable for ever: when a body changes shape, its schema
/// version goes up and [`StoredEvent::from_stored`] keeps reading the old one (upcasting);
/// a type is never renamed.
pub trait StoredEvent: Sized {
    fn event_type(&self) -> &'static str;
    /// The schema version this code writes the event with.
    fn schema_version(&self) -> i32;
    /// The JSON body stored in the log.
    fn to_json(&self) -> serde_json::Value;
    /// Reads a stored event, upcasting older schema versions.
    fn from_stored(
        event_type: &str,
        schema_version: i32,
        data: &serde_json::Value,
    ) -> Result<Self, UnknownEvent>;
}

/// A stored event this version of the code cannot read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read event {event_type} v{schema_version}: {reason}")]
pub struct UnknownEvent {
    pub event_type: String,
    pub schema_version: i32,
    pub reason: String,
}

/// Implements [`StoredEvent`] for an enum whose variants each wrap a struct of the same
/// name; every schema version is 1 so far. An event type the enum does not have is refused
/// as `not a {enum}`, or with the words given before the variants.
macro_rules! stored_events {
    ($enum:ident { $($variant:ident),* $(,)? }) => {
        $crate::aggregate::stored_events!(
            $enum,
            concat!("not a ", stringify!($enum)),
            { $($variant),* }
        );
    };
    ($enum:ident, $not_ours:expr, { $($variant:ident),* $(,)? }) => {
        impl $crate::aggregate::StoredEvent for $enum {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => stringify!($variant),)*
                }
            }

            fn schema_version(&self) -> i32 {
                1
            }

            fn to_json(&self) -> serde_json::Value {
                let body = match self {
                    $(Self::$variant(e) => serde_json::to_value(e),)*
                };
                // Plain structs of strings, numbers and maps with string keys.
                body.expect("events always serialise to JSON")
            }

            fn from_stored(
                event_type: &str,
                schema_version: i32,
                data: &serde_json::Value,
            ) -> Result<Self, $crate::aggregate::UnknownEvent> {
                use serde::Deserialize;
                let unknown = |reason: String| $crate::aggregate::UnknownEvent {
                    event_type: event_type.to_owned(),
                    schema_version,
                    reason,
                };
                if schema_version != 1 {
                    return Err(unknown("unsupported schema version".into()));
                }
                let event = match event_type {
                    $(stringify!($variant) => $variant::deserialize(data).map(Self::$variant),)*
                    _ => return Err(unknown(($not_ours).into())),
                };
                event.map_err(|e| unknown(e.to_string()))
            }
        }
    };
}
pub(crate) use stored_events;
