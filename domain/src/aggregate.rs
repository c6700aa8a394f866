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
///
/// [`StoredEvent::readable`] says which bodies that is. A schema-version bump adds the new
/// (type, version) to it and keeps every older one of the type, still read by
/// `from_stored`: no pair ever leaves the list, since the log keeps its events for ever.
/// Each pair it lists needs a fixture, `tests/fixtures/events/{stream kind}/{Type}.v{N}.json`:
/// a body as the log holds it and what today's code writes for it once read
/// (`tests/tests/event_fixtures.rs` fails for a pair without one).
pub trait StoredEvent: Sized {
    /// Every (event type, schema version) [`StoredEvent::from_stored`] reads, each once: the
    /// version of each type this code writes, and every older one it upcasts.
    fn readable() -> &'static [(&'static str, i32)];
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
/// name; every schema version is 1 so far, so `readable` lists each variant at version 1.
/// The list is the variants': a variant left out of it leaves `event_type`'s match
/// incomplete, which does not compile. An event type the enum does not have is refused as
/// `not a {enum}`, or with the words given before the variants.
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
            fn readable() -> &'static [(&'static str, i32)] {
                &[$((stringify!($variant), 1)),*]
            }

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

#[cfg(test)]
mod tests {
    //! Each event enum's `readable()` against the enum itself: it lists exactly the pairs
    //! `from_stored` reads, each reading as the variant of its type, and the pair each
    //! variant writes. The samples are the stored bodies of the fixtures in
    //! `tests/fixtures/events`, since only a stored body can show an older version; that
    //! every pair has one, and what it decodes to, is `tests/tests/event_fixtures.rs`'s part.
    //! A variant left out of `readable()` does not compile with `stored_events!`, and in a
    //! hand-written impl fails the test kit, which checks every event a rule produces is
    //! listed.

    use super::StoredEvent;
    use crate::access::AccessEvent;
    use crate::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
    use crate::payment::PaymentEvent;
    use crate::promo::PromoEvent;
    use crate::ShowEvent;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;
    use std::fmt::Debug;
    use std::path::Path;

    /// The stored body of the fixture for `event_type` at `version` in `kind`'s folder.
    fn sample(kind: &str, event_type: &str, version: i32) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/events")
            .join(kind)
            .join(format!("{event_type}.v{version}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{kind}: {event_type} v{version} has no sample: {e}"));
        let fixture: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        fixture["data"].clone()
    }

    #[track_caller]
    fn lists_what_it_reads_and_writes<E: StoredEvent + PartialEq + Debug>(kind: &str) {
        let readable = E::readable();
        assert!(!readable.is_empty(), "{kind}: reads nothing");
        let distinct: BTreeSet<_> = readable.iter().collect();
        assert_eq!(
            distinct.len(),
            readable.len(),
            "{kind}: a pair is listed twice"
        );
        for &(event_type, version) in readable {
            let data = sample(kind, event_type, version);
            let event = E::from_stored(event_type, version, &data)
                .unwrap_or_else(|e| panic!("{kind}: listed but not read: {e}"));
            assert_eq!(event.event_type(), event_type, "{kind}: v{version}");
            let written = (event.event_type(), event.schema_version());
            assert!(
                readable.contains(&written),
                "{kind}: {written:?} is written but not listed"
            );
            let again = E::from_stored(written.0, written.1, &event.to_json());
            assert_eq!(again.ok().as_ref(), Some(&event), "{kind}: {written:?}");

            let newest = readable
                .iter()
                .filter(|(t, _)| *t == event_type)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(version);
            for other in (0..=newest + 1).filter(|v| !readable.contains(&(event_type, *v))) {
                assert!(
                    E::from_stored(event_type, other, &data).is_err(),
                    "{kind}: {event_type} v{other} is read but not listed"
                );
            }
        }
        assert!(E::from_stored("NotAnEvent", 1, &json!({})).is_err());
    }

    #[test]
    fn every_event_enum_lists_exactly_the_types_and_versions_it_reads_and_writes() {
        lists_what_it_reads_and_writes::<ShowEvent>("show");
        lists_what_it_reads_and_writes::<CitiesEvent>("cities");
        lists_what_it_reads_and_writes::<CinemaEvent>("cinema");
        lists_what_it_reads_and_writes::<MovieEvent>("movie");
        lists_what_it_reads_and_writes::<PaymentEvent>("payment");
        lists_what_it_reads_and_writes::<PromoEvent>("promo");
        lists_what_it_reads_and_writes::<AccessEvent>("access");
    }
}
