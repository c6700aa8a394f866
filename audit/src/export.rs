//! Exports an auditor can check with no access to the system: NDJSON, one event per line,
//! in log order, each with the hash of the event before it in its stream and its own.
//!
//! A line holds exactly the fields the hash covers (`stream`, `version`, `event_id`,
//! `event_type`, `schema_version`, `data`, `metadata`, `recorded_at`), plus `position`,
//! `previous_hash` and `hash`, so the chain can be recomputed from the file alone
//! (docs/audit.md shows it in a few lines of Python). [`verify_export`] does the same
//! here: every line's hash, every stream's versions without a gap and in order, the lines
//! in log order, and, given a seal and the key to check it with, that the file reaches
//! every head the seal fixed for the streams it holds.

use crate::seal::{PublicKey, Seal};
use crate::verify_log::Finding;
use boxoffice_eventstore::{EventHash, EventLog, EventLogError, Metadata, Position, RecordedEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::sync::Arc;
use uuid::Uuid;

/// Events read per page.
const PAGE: usize = 2_000;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLine {
    pub position: Position,
    pub stream: String,
    pub version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: Metadata,
    #[serde(with = "micros")]
    pub recorded_at: DateTime<Utc>,
    pub previous_hash: EventHash,
    pub hash: EventHash,
}

/// Which events to export.
#[derive(Debug, Clone)]
pub enum Selection {
    /// One stream, from its first event.
    Stream(String),
    /// The whole log after a position (`Position::START`: all of it).
    After(Position),
}

impl ExportLine {
    fn of(event: &RecordedEvent, previous_hash: EventHash) -> Result<Self, EventLogError> {
        let hash = event.hash.ok_or_else(|| {
            EventLogError::Failed(format!(
                "{} v{} has no hash: run `boxoffice migrate` first",
                event.stream, event.version
            ))
        })?;
        Ok(Self {
            position: event.position,
            stream: event.stream.clone(),
            version: event.version,
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            data: event.data.clone(),
            metadata: event.metadata.clone(),
            recorded_at: event.recorded_at,
            previous_hash,
            hash,
        })
    }

    fn recorded(&self) -> RecordedEvent {
        RecordedEvent {
            stream: self.stream.clone(),
            version: self.version,
            position: self.position,
            event_id: self.event_id,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            data: self.data.clone(),
            metadata: self.metadata.clone(),
            recorded_at: self.recorded_at,
            hash: Some(self.hash),
        }
    }
}

/// Reads the events of `selection` page by page, each with the hash its stream had before
/// it, and hands each page to `write` (the HTTP body, a file).
pub struct Exporter {
    log: Arc<dyn EventLog>,
    selection: Selection,
    /// The last hash seen per stream (to fill `previous_hash` without a read).
    heads: HashMap<String, EventHash>,
    next_version: u64,
    done: bool,
}

impl Exporter {
    pub fn new(log: Arc<dyn EventLog>, selection: Selection) -> Self {
        Self {
            log,
            selection,
            heads: HashMap::new(),
            next_version: 0,
            done: false,
        }
    }

    /// The next page of lines; empty at the end.
    pub async fn next_page(&mut self) -> Result<Vec<ExportLine>, EventLogError> {
        if self.done {
            return Ok(Vec::new());
        }
        let page = match &mut self.selection {
            Selection::Stream(stream) => {
                let page = self
                    .log
                    .read_stream(stream, self.next_version, PAGE)
                    .await?;
                if let Some(last) = page.last() {
                    self.next_version = last.version + 1;
                }
                self.done = page.len() < PAGE;
                page
            }
            Selection::After(after) => {
                let page = self.log.read_all(*after, PAGE).await?;
                match page.last() {
                    Some(last) => *after = last.position,
                    None => self.done = true,
                }
                page
            }
        };
        let mut lines = Vec::with_capacity(page.len());
        for event in &page {
            let previous = match self.heads.get(&event.stream) {
                Some(hash) => *hash,
                None => self.hash_before(event).await?,
            };
            let line = ExportLine::of(event, previous)?;
            self.heads.insert(event.stream.clone(), line.hash);
            lines.push(line);
        }
        Ok(lines)
    }

    /// The hash of the event before `event` in its stream (read once per stream).
    async fn hash_before(&self, event: &RecordedEvent) -> Result<EventHash, EventLogError> {
        let Some(before) = event.version.checked_sub(1) else {
            return Ok(EventHash::GENESIS);
        };
        let read = self.log.read_stream(&event.stream, before, 1).await?;
        Ok(read
            .first()
            .filter(|e| e.version == before)
            .and_then(|e| e.hash)
            .unwrap_or(EventHash::GENESIS))
    }
}

/// Writes every line of `selection` to `out`; `progress` hears the count after each page.
pub async fn export(
    log: Arc<dyn EventLog>,
    selection: Selection,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let mut exporter = Exporter::new(log, selection);
    let mut written = 0u64;
    loop {
        let lines = exporter.next_page().await?;
        if lines.is_empty() {
            out.flush()?;
            return Ok(written);
        }
        for line in &lines {
            serde_json::to_writer(&mut *out, line)
                .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
            out.write_all(b"\n")?;
        }
        written += lines.len() as u64;
        progress(written);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Log(#[from] EventLogError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// What checking an export found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    pub lines: u64,
    pub streams: usize,
    pub findings: Vec<Finding>,
}

/// Checks an export on its own: see the module documentation. A line that is not an export
/// line is a finding too (named by its line number).
pub fn verify_export(
    file: impl BufRead,
    seal: Option<(&Seal, &PublicKey)>,
) -> Result<ExportReport, std::io::Error> {
    /// One stream of the file as read so far.
    struct Stream {
        next_version: u64,
        hash: EventHash,
        broken: bool,
    }
    let mut report = ExportReport::default();
    let mut streams: HashMap<String, Stream> = HashMap::new();
    let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
    // The heads the seal fixed, and whether the file showed each.
    let mut sealed: HashMap<(String, u64), (EventHash, bool)> = seal
        .map(|(seal, _)| {
            seal.body
                .streams
                .iter()
                .map(|head| ((head.stream.clone(), head.version), (head.hash, false)))
                .collect()
        })
        .unwrap_or_default();
    let mut last_position: Option<Position> = None;
    for (index, line) in file.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        let place = format!("line {}", index + 1);
        let parsed: ExportLine = match serde_json::from_str(&line) {
            Ok(parsed) => parsed,
            Err(error) => {
                findings.entry(place.clone()).or_insert(Finding {
                    stream: place,
                    version: None,
                    problem: format!("not an export line: {error}"),
                });
                continue;
            }
        };
        if last_position.is_some_and(|p| parsed.position <= p) {
            findings.entry(ORDER.into()).or_insert(Finding {
                stream: place,
                version: None,
                problem: format!(
                    "{} v{} is out of log order (moved)",
                    parsed.stream, parsed.version
                ),
            });
        }
        last_position = Some(parsed.position);
        let stream = streams
            .entry(parsed.stream.clone())
            .or_insert_with(|| Stream {
                next_version: parsed.version,
                hash: parsed.previous_hash,
                broken: false,
            });
        let at = |problem: &str| Finding {
            stream: parsed.stream.clone(),
            version: Some(parsed.version),
            problem: problem.to_owned(),
        };
        let problem = if stream.broken {
            None
        } else if parsed.version != stream.next_version {
            Some(at("a version is missing or moved before it"))
        } else if parsed.previous_hash != stream.hash {
            Some(at(
                "its previous_hash is not the hash of the line before it in its stream",
            ))
        } else if parsed.recorded().chained().hash(&parsed.previous_hash) != parsed.hash {
            Some(at("its hash does not match its contents (changed)"))
        } else {
            None
        };
        if let Some(problem) = problem {
            stream.broken = true;
            findings.entry(parsed.stream.clone()).or_insert(problem);
        }
        stream.next_version = parsed.version + 1;
        stream.hash = parsed.hash;
        if let Some((hash, seen)) = sealed.get_mut(&(parsed.stream.clone(), parsed.version)) {
            *seen = true;
            if *hash != parsed.hash && !stream.broken {
                stream.broken = true;
                findings
                    .entry(parsed.stream.clone())
                    .or_insert_with(|| at("differs from the seal's hash for it"));
            }
        }
    }
    if let Some((seal, key)) = seal {
        let number = seal.body.number;
        if let Err(error) = seal.verify(key) {
            findings.entry(SEAL.into()).or_insert(Finding {
                stream: SEAL.into(),
                version: None,
                problem: error.to_string(),
            });
        }
        let mut held = 0;
        for ((stream, version), (_, seen)) in &sealed {
            let Some(read) = streams.get(stream) else {
                continue;
            };
            held += 1;
            if !seen {
                findings.entry(stream.clone()).or_insert(Finding {
                    stream: stream.clone(),
                    version: Some(read.next_version),
                    problem: format!(
                        "the file does not reach version {version}, which seal {number} fixed"
                    ),
                });
            }
        }
        if held == 0 {
            findings.entry(SEAL.into()).or_insert(Finding {
                stream: SEAL.into(),
                version: None,
                problem: format!("the file holds none of the streams seal {number} fixed"),
            });
        }
    }
    report.streams = streams.len();
    report.findings = findings.into_values().collect();
    Ok(report)
}

/// Where findings about the file's order and about the seal are filed.
const ORDER: &str = "(order)";
const SEAL: &str = "seal";

/// `recorded_at` exactly as the hash covers it: UTC with six fractional digits.
mod micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&boxoffice_eventstore::chain::recorded_at_text(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
