//! The port's vocabulary: positions in the log, expected versions, the events going in and
//! coming out (with their metadata and hash-chain link), and the errors an adapter reports.

use crate::chain::{Chained, EventHash};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub commit: u64,
    pub prepare: u64,
}

impl Position {
    /// Before the first event.
    pub const START: Position = Position {
        commit: 0,
        prepare: 0,
    };

    pub fn new(commit: u64, prepare: u64) -> Self {
        Self { commit, prepare }
    }

    /// As projectors store it in `projection_checkpoints` (two `bigint`s); `None` for a
    /// position above 2^63, which no backend hands out (EventStoreDB positions are byte
    /// offsets in its transaction log) and which is refused rather than stored wrong.
    pub fn to_checkpoint(self) -> Option<(i64, i64)> {
        Some((
            i64::try_from(self.commit).ok()?,
            i64::try_from(self.prepare).ok()?,
        ))
    }

    /// A stored checkpoint back as a position (a negative value, which is never written,
    /// reads as the start).
    pub fn from_checkpoint(commit: i64, prepare: i64) -> Self {
        Self::new(commit.max(0) as u64, prepare.max(0) as u64)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.commit, self.prepare)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a position is two numbers joined by a dash, such as `1042-17`")]
pub struct BadPosition;

impl FromStr for Position {
    type Err = BadPosition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (commit, prepare) = s.split_once('-').ok_or(BadPosition)?;
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BadPosition);
            }
            part.parse::<u64>().map_err(|_| BadPosition)
        };
        Ok(Self::new(number(commit)?, number(prepare)?))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Position {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[0-9]+-[0-9]+$"))
            .description(Some(
                "A place in the event log: `commit-prepare`. Positions compare in log order.",
            ))
            .examples(["1042-17"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Position {}

impl Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The state a stream must be in for an append to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version (versions count from 0).
    Exact(u64),
}

impl ExpectedVersion {
    /// The expectation that matches a stream whose last version is `last` (`None`: empty).
    pub fn after(last: Option<u64>) -> Self {
        last.map_or(Self::NoStream, Self::Exact)
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// Who and what caused an event; stored beside it, never inside the domain data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metadata {
    /// The request that led to this event (the HTTP request id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The command or event that directly caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// Who asked: a customer id, `staff:{sub}`, or `system:{component}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The client's idempotency key for the command that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// A digest of the command, so a key reused for a different command is recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_digest: Option<String>,
    /// The command that produced the event (such as `HoldSeats`), for the auditors' list of
    /// who did what; absent on events written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Fields this version does not know (written by a newer one), kept as they are: the
    /// hash chain covers the metadata as stored.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// Where a stored body that cannot be read as metadata at all is kept, whole.
    pub const UNREADABLE: &'static str = "(unreadable)";

    /// Metadata as the log stores it. Fields this version does not know are kept (see
    /// `other`); a body it cannot read at all (not an object, a field of the wrong type)
    /// is kept whole under [`Self::UNREADABLE`], so that the event stays readable and the
    /// hash chain still covers what is stored: read as empty, a change to it would pass
    /// for the empty metadata it replaced.
    pub fn from_stored(stored: serde_json::Value) -> Self {
        Self::deserialize(&stored).unwrap_or_else(|_| Self {
            other: [(Self::UNREADABLE.to_owned(), stored)].into(),
            ..Self::default()
        })
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: Metadata,
    /// When it was recorded: the adapter's clock at the append when absent; given when a
    /// log is copied, so the copy's hash chain is the original's.
    pub recorded_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    /// What the hash chain covers of this event, once it has its place and time.
    pub fn chained<'a>(
        &'a self,
        stream: &'a str,
        version: u64,
        recorded_at: DateTime<Utc>,
    ) -> Chained<'a> {
        Chained {
            stream,
            version,
            event_id: self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            data: &self.data,
            metadata: &self.metadata,
            recorded_at,
        }
    }
}

/// How far a reader is behind the readable end of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lag {
    /// Events after the reader's position: exactly 0 when none follow, otherwise at least
    /// 1 and, where the backend cannot count without reading them, an estimate.
    pub events: u64,
    /// When the oldest event the reader has not read was recorded (`None`: none follow).
    pub oldest: Option<DateTime<Utc>>,
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedEvent {
    pub stream: String,
    pub version: u64,
    pub position: Position,
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: Metadata,
    pub recorded_at: DateTime<Utc>,
    /// The event's link in its stream's hash chain ([`crate::chain`]); `None` only on
    /// PostgreSQL rows written before the chain, until `migrate` computes theirs.
    pub hash: Option<EventHash>,
}

impl RecordedEvent {
    /// What the hash chain covers of this event.
    pub fn chained(&self) -> Chained<'_> {
        Chained {
            stream: &self.stream,
            version: self.version,
            event_id: self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            data: &self.data,
            metadata: &self.metadata,
            recorded_at: self.recorded_at,
        }
    }
}

/// One stream's batch in a group append ([`crate::EventLog::append_many`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    pub stream: String,
    /// The state the stream must be in for this batch to go in.
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Version of the last event appended: the next append expects this.
    pub last_version: u64,
    /// Position of the last event appended.
    pub position: Position,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EventLogError {
    #[error("stream {stream} is at {actual}, the append expected {expected}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: ExpectedVersion,
    },
    #[error("event {0} is already in the log")]
    DuplicateEvent(Uuid),
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    #[error("the event log failed: {0}")]
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_as_text_and_order_by_commit_then_prepare() {
        let p: Position = "1042-17".parse().unwrap();
        assert_eq!(p, Position::new(1042, 17));
        assert_eq!(p.to_string(), "1042-17");
        assert!(Position::new(1, 99) < Position::new(2, 0));
        assert!(Position::new(2, 1) < Position::new(2, 3));
        for bad in [
            "",
            "12",
            "-1-2",
            "1-",
            "a-b",
            "1-2-3",
            "+1-2",
            "99999999999999999999-1",
        ] {
            assert_eq!(bad.parse::<Position>(), Err(BadPosition), "{bad}");
        }
    }

    #[test]
    fn stored_metadata_it_cannot_read_is_kept_whole_not_read_as_empty() {
        let empty = Metadata::from_stored(serde_json::json!({}));
        assert_eq!(empty, Metadata::default());
        let newer = Metadata::from_stored(serde_json::json!({"actor": "a", "tenant": "t"}));
        assert_eq!(newer.actor.as_deref(), Some("a"));
        assert_eq!(newer.other["tenant"], "t");
        for odd in [
            serde_json::json!({"actor": 5}),
            serde_json::json!([1]),
            serde_json::json!("text"),
        ] {
            let read = Metadata::from_stored(odd.clone());
            assert_ne!(read, empty, "{odd}");
            assert_eq!(read.other[Metadata::UNREADABLE], odd);
            assert_eq!(
                serde_json::to_value(&read).unwrap()[Metadata::UNREADABLE],
                odd
            );
        }
    }

    #[test]
    fn metadata_leaves_out_what_it_does_not_have() {
        let m = Metadata {
            actor: Some("alice".into()),
            ..Metadata::default()
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"actor": "alice"})
        );
    }
}
