//! Pure translations between the port's types and the `eventstore` client's: versions and
//! revisions, positions and checkpoints, errors, and how an event's schema version and
//! metadata travel in EventStoreDB's custom metadata. No IO here, so every rule is unit
//! tested without a server.

use crate::{
    EventHash, EventLogError, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent,
};
use eventstore::{CurrentRevision, ExpectedRevision};
use serde::{Deserialize, Serialize};

/// Whether an event of `$all` is in one of the log's streams (named by their prefixes).
pub fn is_ours(prefixes: &[String], stream: &str) -> bool {
    prefixes
        .iter()
        .any(|prefix| stream.starts_with(prefix.as_str()))
}

/// The port's expectation as the client's expected revision. Stream versions and
/// EventStoreDB revisions both count from 0, so `Exact(n)` is revision `n`.
pub fn expected_revision(expected: ExpectedVersion) -> ExpectedRevision {
    match expected {
        ExpectedVersion::Any => ExpectedRevision::Any,
        ExpectedVersion::NoStream => ExpectedRevision::NoStream,
        ExpectedVersion::Exact(version) => ExpectedRevision::Exact(version),
    }
}

/// The client's expected revision back as the port's expectation (`StreamExists` has no
/// counterpart: the port never asks for it, and it reads as `Any`).
pub fn expected_version(revision: &ExpectedRevision) -> ExpectedVersion {
    match revision {
        ExpectedRevision::Exact(version) => ExpectedVersion::Exact(*version),
        ExpectedRevision::NoStream => ExpectedVersion::NoStream,
        ExpectedRevision::Any | ExpectedRevision::StreamExists => ExpectedVersion::Any,
    }
}

/// What the stream actually was at, as the port says it.
pub fn actual_version(current: &CurrentRevision) -> ExpectedVersion {
    match current {
        CurrentRevision::Current(version) => ExpectedVersion::Exact(*version),
        CurrentRevision::NoStream => ExpectedVersion::NoStream,
    }
}

/// A port position as an EventStoreDB `$all` position: commit and prepare, unchanged.
pub fn esdb_position(position: Position) -> eventstore::Position {
    eventstore::Position {
        commit: position.commit,
        prepare: position.prepare,
    }
}

pub fn position(position: eventstore::Position) -> Position {
    Position::new(position.commit, position.prepare)
}

/// What rides in EventStoreDB's custom metadata: the port's metadata, and what EventStoreDB
/// has no field for: the event's schema version, and its link in the hash chain (its hash,
/// and the recorded time the hash covers, which the server's own `created` could not be:
/// it is only known once written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMetadata {
    #[serde(rename = "$schema_version")]
    pub schema_version: i32,
    #[serde(
        rename = "$recorded_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "$hash", default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<EventHash>,
    #[serde(flatten)]
    pub metadata: Metadata,
}

/// An event about to be appended, as the client sends it: same id (so a retried append is
/// recognised by the server), type, JSON data, and the custom metadata above with the
/// event's link in the chain.
pub fn event_data(
    event: &NewEvent,
    (recorded_at, hash): (chrono::DateTime<chrono::Utc>, EventHash),
) -> Result<eventstore::EventData, EventLogError> {
    let metadata = StoredMetadata {
        schema_version: event.schema_version,
        recorded_at: Some(recorded_at),
        hash: Some(hash),
        metadata: event.metadata.clone(),
    };
    eventstore::EventData::json(event.event_type.clone(), &event.data)
        .and_then(|data| data.metadata_as_json(&metadata))
        .map(|data| data.id(event.event_id))
        .map_err(|e| EventLogError::Failed(format!("cannot encode event {}: {e}", event.event_id)))
}

/// A recorded event of the client as the port's. Events whose data is not JSON, or whose
/// custom metadata is not ours, are refused: this log only holds events this project wrote.
pub fn recorded(event: &eventstore::RecordedEvent) -> Result<RecordedEvent, EventLogError> {
    let unreadable = |what: &str, e: serde_json::Error| {
        EventLogError::Failed(format!(
            "event {} in {} has {what} that is not this project's: {e}",
            event.id, event.stream_id
        ))
    };
    let data: serde_json::Value =
        serde_json::from_slice(&event.data).map_err(|e| unreadable("data", e))?;
    let stored: StoredMetadata = if event.custom_metadata.is_empty() {
        StoredMetadata {
            schema_version: 1,
            recorded_at: None,
            hash: None,
            metadata: Metadata::default(),
        }
    } else {
        serde_json::from_slice(&event.custom_metadata).map_err(|e| unreadable("metadata", e))?
    };
    if event.position == eventstore::Position::end() {
        return Err(EventLogError::Failed(format!(
            "event {} in {} came without a log position: EventStoreDB 22.6 or later is needed",
            event.id, event.stream_id
        )));
    }
    Ok(RecordedEvent {
        stream: event.stream_id.clone(),
        version: event.revision,
        position: position(event.position),
        event_id: event.id,
        event_type: event.event_type.clone(),
        schema_version: stored.schema_version,
        data,
        metadata: stored.metadata,
        recorded_at: stored.recorded_at.unwrap_or_else(|| created(event)),
        hash: stored.hash,
    })
}

/// When the event was written, to the microsecond: the client's `created` is cut to whole
/// seconds, the server's `created` metadata counts 100 ns ticks since the Unix epoch.
pub fn created(event: &eventstore::RecordedEvent) -> chrono::DateTime<chrono::Utc> {
    event
        .metadata
        .get("created")
        .and_then(|ticks| ticks.parse::<i64>().ok())
        .and_then(|ticks| chrono::DateTime::from_timestamp_micros(ticks / 10))
        .unwrap_or(event.created)
}

/// Whether errors like this one pass (retry later) rather than stay.
pub fn is_transient(error: &eventstore::Error) -> bool {
    matches!(
        error,
        eventstore::Error::ConnectionClosed
            | eventstore::Error::GrpcConnectionError(_)
            | eventstore::Error::DeadlineExceeded
            | eventstore::Error::NotLeaderException(_)
            | eventstore::Error::ServerError(_)
            | eventstore::Error::Grpc {
                code: tonic::Code::Unavailable
                    | tonic::Code::DeadlineExceeded
                    | tonic::Code::Aborted
                    | tonic::Code::ResourceExhausted,
                ..
            }
    )
}

/// Whether the server could take this as a `$all` position at all: prepare never exceeds
/// commit, and both fit in an i64 (it refuses anything else, and the client then drops its
/// connection).
pub fn is_valid_position(position: Position) -> bool {
    position.prepare <= position.commit && position.commit <= i64::MAX as u64
}

/// The client's error as the port's: a wrong expected version is the typed conflict the
/// writers retry on; lost connections and timeouts are `Unavailable` (retry later);
/// everything else is a failure.
pub fn error(stream: &str, error: eventstore::Error) -> EventLogError {
    match error {
        eventstore::Error::WrongExpectedVersion { expected, current } => {
            EventLogError::WrongExpectedVersion {
                stream: stream.to_owned(),
                expected: expected_version(&expected),
                actual: actual_version(&current),
            }
        }
        error if is_transient(&error) => {
            EventLogError::Unavailable(format!("EventStoreDB: {error}"))
        }
        other => EventLogError::Failed(format!("EventStoreDB: {other}")),
    }
}

/// The connection string the client understands. KurrentDB (EventStoreDB renamed) speaks
/// the same protocol; its `kurrentdb://` and `kurrent://` schemes become `esdb://`.
pub fn client_url(url: &str) -> String {
    for (scheme, esdb) in [
        ("kurrentdb+discover://", "esdb+discover://"),
        ("kurrent+discover://", "esdb+discover://"),
        ("kurrentdb://", "esdb://"),
        ("kurrent://", "esdb://"),
    ] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return format!("{esdb}{rest}");
        }
    }
    url.to_owned()
}

/// The URL with any password hidden, for logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::collections::HashMap;
    use uuid::Uuid;

    #[test]
    fn versions_map_to_revisions_and_back() {
        for version in [
            ExpectedVersion::Any,
            ExpectedVersion::NoStream,
            ExpectedVersion::Exact(0),
            ExpectedVersion::Exact(41),
            ExpectedVersion::Exact(u64::MAX),
        ] {
            assert_eq!(expected_version(&expected_revision(version)), version);
        }
        assert_eq!(
            expected_revision(ExpectedVersion::Exact(7)),
            ExpectedRevision::Exact(7),
            "version n is revision n: both count from 0"
        );
        assert_eq!(
            expected_version(&ExpectedRevision::StreamExists),
            ExpectedVersion::Any
        );
        assert_eq!(
            actual_version(&CurrentRevision::Current(3)),
            ExpectedVersion::Exact(3)
        );
        assert_eq!(
            actual_version(&CurrentRevision::NoStream),
            ExpectedVersion::NoStream
        );
    }

    #[test]
    fn positions_map_to_checkpoints_and_back() {
        for p in [
            Position::START,
            Position::new(1042, 17),
            Position::new(i64::MAX as u64, i64::MAX as u64),
        ] {
            assert_eq!(position(esdb_position(p)), p);
            let (commit, prepare) = p.to_checkpoint().unwrap();
            assert_eq!(Position::from_checkpoint(commit, prepare), p);
        }
        assert_eq!(Position::new(u64::MAX, 0).to_checkpoint(), None);
        assert_eq!(Position::from_checkpoint(-1, -5), Position::START);
        // Order is kept: commit first, then prepare.
        assert!(position(esdb_position(Position::new(5, 9))) < Position::new(6, 0));
    }

    fn esdb_event(data: &[u8], custom_metadata: &[u8]) -> eventstore::RecordedEvent {
        eventstore::RecordedEvent {
            stream_id: "show-1".into(),
            id: Uuid::from_u128(7),
            revision: 3,
            event_type: "SeatsHeld".into(),
            data: Bytes::copy_from_slice(data),
            metadata: HashMap::new(),
            custom_metadata: Bytes::copy_from_slice(custom_metadata),
            is_json: true,
            position: eventstore::Position {
                commit: 900,
                prepare: 880,
            },
            created: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn metadata_and_schema_version_round_trip_through_custom_metadata() {
        let new = NewEvent {
            event_id: Uuid::from_u128(7),
            event_type: "SeatsHeld".into(),
            schema_version: 2,
            data: serde_json::json!({"seats": ["贵宾F7"]}),
            metadata: Metadata {
                correlation_id: Some("req-1".into()),
                causation_id: Some("cmd-1".into()),
                actor: Some("alice".into()),
                idempotency_key: Some("k-1".into()),
                command_digest: Some("d".into()),
                command: Some("HoldSeats".into()),
                other: [("from_a_newer_writer".to_owned(), serde_json::json!([1]))].into(),
            },
            recorded_at: None,
        };
        let at = chrono::DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap();
        let links = crate::chain::link(
            "show-1",
            3,
            EventHash::GENESIS,
            std::slice::from_ref(&new),
            at,
        );
        let stored = StoredMetadata {
            schema_version: new.schema_version,
            recorded_at: Some(links[0].0),
            hash: Some(links[0].1),
            metadata: new.metadata.clone(),
        };
        let bytes = serde_json::to_vec(&stored).unwrap();
        let data = serde_json::to_vec(&new.data).unwrap();
        let back = recorded(&esdb_event(&data, &bytes)).unwrap();
        assert_eq!(back.event_id, new.event_id);
        assert_eq!(back.event_type, new.event_type);
        assert_eq!(back.schema_version, 2);
        assert_eq!(back.data, new.data);
        assert_eq!(back.metadata, new.metadata);
        assert_eq!(back.version, 3);
        assert_eq!(back.position, Position::new(900, 880));
        assert_eq!(back.stream, "show-1");
        // The chain's link rides along: the recorded time it covers, and the hash, which
        // the event read back reproduces.
        assert_eq!(back.recorded_at, at);
        assert_eq!(back.hash, Some(links[0].1));
        assert_eq!(back.chained().hash(&EventHash::GENESIS), links[0].1);
        // The client accepts what we send (the id is kept for idempotent retries).
        assert!(event_data(&new, links[0]).is_ok());
        // Absent metadata reads as schema version 1 with nothing in it.
        let bare = recorded(&esdb_event(&data, b"")).unwrap();
        assert_eq!(
            (bare.schema_version, bare.metadata),
            (1, Metadata::default())
        );
        // Data that is not JSON is refused, not guessed at.
        assert!(recorded(&esdb_event(b"\x00binary", &bytes)).is_err());
        // So is an event without a position (servers before 22.6 on stream reads).
        let mut old = esdb_event(&data, &bytes);
        old.position = eventstore::Position::end();
        assert!(recorded(&old).is_err());
        // The write time to the microsecond, from the server's ticks when present.
        let mut timed = esdb_event(&data, &bytes);
        timed
            .metadata
            .insert("created".into(), "18000000001234567".into());
        assert_eq!(
            recorded(&timed).unwrap().recorded_at.timestamp_micros(),
            1_800_000_000_123_456
        );
        assert_eq!(back.recorded_at.timestamp(), 1_800_000_000);
    }

    #[test]
    fn errors_map_to_the_ports_conflict_unavailable_or_failure() {
        let conflict = error(
            "show-1",
            eventstore::Error::WrongExpectedVersion {
                expected: ExpectedRevision::Exact(4),
                current: CurrentRevision::Current(6),
            },
        );
        assert!(matches!(
            conflict,
            EventLogError::WrongExpectedVersion {
                ref stream,
                expected: ExpectedVersion::Exact(4),
                actual: ExpectedVersion::Exact(6),
            } if stream == "show-1"
        ));
        let fresh = error(
            "show-2",
            eventstore::Error::WrongExpectedVersion {
                expected: ExpectedRevision::NoStream,
                current: CurrentRevision::Current(0),
            },
        );
        assert!(matches!(
            fresh,
            EventLogError::WrongExpectedVersion {
                expected: ExpectedVersion::NoStream,
                actual: ExpectedVersion::Exact(0),
                ..
            }
        ));
        for unavailable in [
            eventstore::Error::ConnectionClosed,
            eventstore::Error::DeadlineExceeded,
            // What the client makes of gRPC Unavailable, Internal and Unknown.
            eventstore::Error::ServerError("Server Is Not Ready".into()),
            eventstore::Error::Grpc {
                code: tonic::Code::Unavailable,
                message: "down".into(),
            },
        ] {
            assert!(matches!(
                error("s", unavailable),
                EventLogError::Unavailable(_)
            ));
        }
        for failed in [
            eventstore::Error::AccessDenied,
            eventstore::Error::ResourceDeleted,
            eventstore::Error::Grpc {
                code: tonic::Code::InvalidArgument,
                message: "bad".into(),
            },
        ] {
            assert!(matches!(error("s", failed), EventLogError::Failed(_)));
        }
    }

    #[test]
    fn positions_the_server_would_refuse_are_known_before_asking() {
        assert!(is_valid_position(Position::new(900, 880)));
        assert!(is_valid_position(Position::new(0, 0)));
        assert!(
            !is_valid_position(Position::new(880, 900)),
            "prepare after commit"
        );
        assert!(!is_valid_position(Position::new(u64::MAX, 0)));
    }

    #[test]
    fn only_this_projects_streams_are_ours_and_passwords_stay_out_of_logs() {
        let ours: Vec<String> = ["show-", "cinema-", "movie-", "cities"]
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        assert!(is_ours(&ours, "show-5eed"));
        assert!(is_ours(&ours, "cinema-1"));
        assert!(is_ours(&ours, "movie-1"));
        assert!(is_ours(&ours, "cities"));
        assert!(!is_ours(&ours, "$stats-127.0.0.1:2113"));
        assert!(!is_ours(&ours, "orders-of-another-app"));
        assert_eq!(
            redacted("esdb://admin:changeit@db1:2113,db2:2113?tls=true"),
            "esdb://admin:***@db1:2113,db2:2113?tls=true"
        );
        assert_eq!(
            client_url("kurrentdb://admin:changeit@db:2113?tls=true"),
            "esdb://admin:changeit@db:2113?tls=true"
        );
        assert_eq!(
            client_url("kurrent+discover://db:2113"),
            "esdb+discover://db:2113"
        );
        assert_eq!(client_url("esdb://db:2113"), "esdb://db:2113");
        assert_eq!(
            redacted("esdb://localhost:2113?tls=false"),
            "esdb://localhost:2113?tls=false"
        );
    }
}
