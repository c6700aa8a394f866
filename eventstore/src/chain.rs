//! The hash chain that makes the log tamper-evident.
//!
//! Every event carries `hash = SHA-256(previous hash || canonical encoding)`, where the
//! previous hash is that of the event before it in its stream (32 zero bytes before the
//! first) and the canonical encoding is the UTF-8 text of the JSON object
//!
//! ```text
//! {"data":…,"event_id":…,"event_type":…,"metadata":…,"recorded_at":…,"schema_version":…,"stream":…,"version":…}
//! ```
//!
//! written with keys sorted (by code point, at every depth), no whitespace, strings escaped
//! only where JSON requires (`"`, `\`, control characters; `\n`, `\r`, `\t`, `\b`, `\f`
//! short, others as `\u00xx`), non-ASCII characters as themselves, integers in decimal and
//! other numbers as Python's `repr` of the double writes them (`31.2304`, `1e-05`).
//! `event_id` is the lower-case hyphenated UUID, `recorded_at` is RFC 3339 in UTC with six
//! fractional digits (`2026-11-28T19:02:00.000000Z`). This is exactly what Python's
//! `json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes,
//! so an auditor can recompute a chain from an export with a few lines of their own
//! (docs/audit.md).
//!
//! A stream's last hash commits to its whole history: changing, removing, inserting or
//! reordering any earlier event changes it. What the chain proves is relative to a hash
//! kept elsewhere (a seal); alone, someone able to rewrite the log can rewrite the chain.

use crate::{Metadata, NewEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use uuid::Uuid;

/// Stream heads an adapter remembers at most; past it the memory starts afresh.
const MAX_REMEMBERED_HEADS: usize = 200_000;

/// A SHA-256 hash of the chain; shown and stored as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EventHash(pub [u8; 32]);

impl EventHash {
    /// What the first event of a stream chains to.
    pub const GENESIS: EventHash = EventHash([0; 32]);

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventHash({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hash is 64 hexadecimal digits")]
pub struct BadHash;

impl FromStr for EventHash {
    type Err = BadHash;

    fn from_str(text: &str) -> Result<Self, BadHash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(BadHash);
        }
        let mut hash = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let digits = std::str::from_utf8(pair).map_err(|_| BadHash)?;
            hash[i] = u8::from_str_radix(digits, 16).map_err(|_| BadHash)?;
        }
        Ok(Self(hash))
    }
}

impl TryFrom<&[u8]> for EventHash {
    type Error = BadHash;

    fn try_from(bytes: &[u8]) -> Result<Self, BadHash> {
        Ok(Self(bytes.try_into().map_err(|_| BadHash)?))
    }
}

impl Serialize for EventHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EventHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[0-9a-f]{64}$"))
            .description(Some(
                "SHA-256 of the previous event's hash in the stream and this event's canonical encoding (docs/audit.md).",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EventHash {}

/// What the chain covers of one event.
#[derive(Debug, Clone, Copy)]
pub struct Chained<'a> {
    pub stream: &'a str,
    pub version: u64,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub schema_version: i32,
    pub data: &'a Value,
    pub metadata: &'a Metadata,
    pub recorded_at: DateTime<Utc>,
}

impl Chained<'_> {
    /// The event's hash, chained to `previous`.
    pub fn hash(&self, previous: &EventHash) -> EventHash {
        let mut digest = Sha256::new();
        digest.update(previous.0);
        digest.update(self.canonical());
        EventHash(digest.finalize().into())
    }

    /// The canonical encoding (see the module documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let metadata = serde_json::to_value(self.metadata)
            .expect("metadata is strings and a map of JSON values: it always serialises");
        // The object `{"data", "event_id", ..., "version"}` in the canonical encoding,
        // written field by field in code-point order of the keys (what `canonical_json`
        // writes for it, without copying the event's data into a new value first).
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"data\":");
        write_canonical(self.data, &mut out);
        out.extend_from_slice(b",\"event_id\":\"");
        out.extend_from_slice(
            self.event_id
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(b"\",\"event_type\":");
        write_string(self.event_type, &mut out);
        out.extend_from_slice(b",\"metadata\":");
        write_canonical(&metadata, &mut out);
        out.extend_from_slice(b",\"recorded_at\":");
        write_string(&recorded_at_text(self.recorded_at), &mut out);
        out.extend_from_slice(b",\"schema_version\":");
        write_number(self.schema_version, &mut out);
        out.extend_from_slice(b",\"stream\":");
        write_string(self.stream, &mut out);
        out.extend_from_slice(b",\"version\":");
        write_number(self.version, &mut out);
        out.push(b'}');
        out
    }
}

/// Any JSON value in the canonical encoding (see the module documentation).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out);
    out
}

/// The links of events about to be appended to `stream` as versions `first_version`,
/// `first_version + 1`, ..., after the event whose hash is `previous`: each event's
/// recorded time (its own when copied, else `now`) and hash.
pub fn link(
    stream: &str,
    first_version: u64,
    previous: EventHash,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, EventHash)> {
    let now = truncate_to_micros(now);
    let mut previous = previous;
    events
        .iter()
        .enumerate()
        .map(|(n, event)| {
            let recorded_at = event.recorded_at.map_or(now, truncate_to_micros);
            previous = event
                .chained(stream, first_version + n as u64, recorded_at)
                .hash(&previous);
            (recorded_at, previous)
        })
        .collect()
}

/// Per stream, the last version an adapter saw and its event's hash: what the next append
/// chains to. An event's hash never changes, so a remembered hash is right for its version
/// for ever; a version not remembered costs the adapter one read.
#[derive(Default)]
pub(crate) struct Heads(Mutex<HashMap<String, (u64, EventHash)>>);

impl Heads {
    /// The hash of `stream`'s event at `version`, if that is the head remembered.
    pub fn at(&self, stream: &str, version: u64) -> Option<EventHash> {
        let heads = self.0.lock().unwrap_or_else(|p| p.into_inner());
        heads
            .get(stream)
            .and_then(|(v, hash)| (*v == version).then_some(*hash))
    }

    /// Remembers a head, unless a later one is remembered already.
    pub fn remember(&self, stream: &str, version: u64, hash: EventHash) {
        let mut heads = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if heads.len() >= MAX_REMEMBERED_HEADS && !heads.contains_key(stream) {
            heads.clear();
        }
        match heads.get_mut(stream) {
            Some(head) if head.0 >= version => {}
            Some(head) => *head = (version, hash),
            None => {
                heads.insert(stream.to_owned(), (version, hash));
            }
        }
    }

    /// Remembers the head a read ended at.
    pub fn remember_read(&self, events: &[crate::RecordedEvent]) {
        if let Some(last) = events.last() {
            if let Some(hash) = last.hash {
                self.remember(&last.stream, last.version, hash);
            }
        }
    }
}

/// `recorded_at` as the chain and exports write it: UTC, six fractional digits.
pub fn recorded_at_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The instant truncated to what the log stores (microseconds).
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            let mut write = |i: usize, key: &str, value: &Value| {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_canonical(value, out);
            };
            // serde_json's map iterates in key order unless a crate turns on its
            // `preserve_order` feature; sort only then.
            if map.keys().is_sorted() {
                for (i, (key, value)) in map.iter().enumerate() {
                    write(i, key, value);
                }
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (i, (key, value)) in entries.into_iter().enumerate() {
                    write(i, key, value);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => write_string(text, out),
        Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
            (Some(n), _, _) => write_number(n, out),
            (None, Some(n), _) => write_number(n, out),
            // Negative zero is written as zero: PostgreSQL's jsonb keeps no sign on zero, so
            // that is what the stored event reads back as.
            (None, None, Some(x)) => {
                let x = if x == 0.0 { 0.0 } else { x };
                out.extend_from_slice(python_repr(x).as_bytes())
            }
            (None, None, None) => out.extend_from_slice(number.to_string().as_bytes()),
        },
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    // serde_json escapes exactly what JSON requires, as the module documentation says.
    serde_json::to_writer(&mut *out, text).expect("a string always serialises into memory");
}

fn write_number(n: impl std::fmt::Display, out: &mut Vec<u8>) {
    use std::io::Write;
    write!(out, "{n}").expect("writing into memory does not fail");
}

/// A finite double as Python's `repr` writes it: the shortest digits that read back as the
/// same double, in positional notation when the decimal exponent is in [-4, 16), else as
/// `d.ddde±XX`.
fn python_repr(x: f64) -> String {
    // Rust's `{:e}` writes the same shortest round-trip digits: `3.12304e1`, `-1e-7`.
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let (whole, fraction) = if point <= 0 {
            (
                "0".to_owned(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_owned(),
                digits[point as usize..].to_owned(),
            )
        };
        let fraction = if fraction.is_empty() {
            "0".to_owned()
        } else {
            fraction
        };
        format!("{sign}{whole}.{fraction}")
    } else {
        let mantissa = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{mantissa}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn doubles_are_written_as_python_writes_them() {
        // Each right-hand side is what `repr(float(x))` prints in CPython 3.
        for (x, python) in [
            (31.2304, "31.2304"),
            (121.4737, "121.4737"),
            (-0.5, "-0.5"),
            (45.0, "45.0"),
            (0.0, "0.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123.456e-10, "1.23456e-08"),
        ] {
            assert_eq!(python_repr(x), python, "{x}");
        }
    }

    #[test]
    fn a_double_hashes_the_same_after_a_trip_through_its_json_text() {
        // Doubles with all 17 significant digits (a coordinate as a client may send it),
        // and negative zero, which storage turns into zero.
        let mut checked = 0;
        let mut x = 117.748_214_402_220_19_f64;
        for _ in 0..20_000 {
            x = f64::from_bits(x.to_bits() + 7_919);
            for value in [x, -x / 3.0, x * 1e-9] {
                let value = serde_json::json!({ "longitude": value });
                let text = serde_json::to_string(&value).unwrap();
                let back: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(canonical_json(&back), canonical_json(&value), "{text}");
                checked += 1;
            }
        }
        assert_eq!(checked, 60_000);
        assert_eq!(
            canonical_json(&serde_json::json!(-0.0)),
            canonical_json(&serde_json::json!(0.0))
        );
    }

    #[test]
    fn the_encoding_sorts_keys_at_every_depth_and_keeps_text_as_it_is() {
        let value = serde_json::json!({
            "b": [1, {"z": null, "a": true}],
            "a": "上海 \"quoted\"\n\u{1}",
            "é": -3,
            "c": 31.5,
        });
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"上海 \"quoted\"\n\u0001","b":[1,{"a":true,"z":null}],"c":31.5,"é":-3}"#
        );
    }

    #[test]
    fn an_event_is_encoded_as_the_canonical_json_of_its_covered_fields() {
        let data = serde_json::json!({
            "seats": ["A1", "座位 7", "quote \" and \\ and \u{1}"],
            "total": {"amount_minor": 12_000, "currency": "CNY"},
            "latitude": 31.230416, "delta": -3, "big": u64::MAX, "none": null,
            "ok": true, "nested": [[], {}, [0.5, -0.0]]
        });
        let metadata = Metadata {
            actor: Some("staff:售票员".into()),
            correlation_id: Some("req-1".into()),
            other: [("tenant".to_owned(), serde_json::json!({"b": 1, "a": 2}))].into(),
            ..Metadata::default()
        };
        for (stream, version, schema_version) in [("show-1", 0, 1), ("影院-ü", u64::MAX, -7)] {
            let event = Chained {
                stream,
                version,
                event_id: Uuid::from_u128(0xabcdef),
                event_type: "SeatsHeld\n",
                schema_version,
                data: &data,
                metadata: &metadata,
                recorded_at: Utc.with_ymd_and_hms(2026, 11, 28, 19, 2, 0).unwrap(),
            };
            let object = serde_json::json!({
                "data": event.data,
                "event_id": event.event_id.hyphenated().to_string(),
                "event_type": event.event_type,
                "metadata": event.metadata,
                "recorded_at": recorded_at_text(event.recorded_at),
                "schema_version": event.schema_version,
                "stream": event.stream,
                "version": event.version,
            });
            assert_eq!(
                String::from_utf8(event.canonical()).unwrap(),
                String::from_utf8(canonical_json(&object)).unwrap()
            );
        }
    }

    #[test]
    fn every_field_is_covered_and_the_first_event_chains_to_zeros() {
        let data = serde_json::json!({"seats": ["A1"]});
        let metadata = Metadata {
            actor: Some("alice".into()),
            ..Metadata::default()
        };
        let event = Chained {
            stream: "show-1",
            version: 0,
            event_id: Uuid::from_u128(7),
            event_type: "SeatsHeld",
            schema_version: 1,
            data: &data,
            metadata: &metadata,
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 28, 19, 2, 0).unwrap(),
        };
        assert_eq!(
            String::from_utf8(event.canonical()).unwrap(),
            concat!(
                r#"{"data":{"seats":["A1"]},"event_id":"00000000-0000-0000-0000-000000000007","#,
                r#""event_type":"SeatsHeld","metadata":{"actor":"alice"},"#,
                r#""recorded_at":"2026-11-28T19:02:00.000000Z","schema_version":1,"#,
                r#""stream":"show-1","version":0}"#
            )
        );
        let first = event.hash(&EventHash::GENESIS);
        let other_data = serde_json::json!({"seats": ["A2"]});
        let changed = [
            Chained {
                data: &other_data,
                ..event
            },
            Chained {
                version: 1,
                ..event
            },
            Chained {
                stream: "show-2",
                ..event
            },
            Chained {
                event_type: "HoldReleased",
                ..event
            },
            Chained {
                schema_version: 2,
                ..event
            },
            Chained {
                event_id: Uuid::from_u128(8),
                ..event
            },
            Chained {
                recorded_at: event.recorded_at + chrono::Duration::microseconds(1),
                ..event
            },
        ];
        for other in changed {
            assert_ne!(other.hash(&EventHash::GENESIS), first, "{other:?}");
        }
        assert_ne!(event.hash(&first), first, "the previous hash is covered");
        assert_eq!(first.to_hex().parse::<EventHash>(), Ok(first));
    }
}
