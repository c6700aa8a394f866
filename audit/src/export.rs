//! Exports an auditor can check with no access to the system: NDJSON, one event per line,
//! in log order, each with the hash of the event before it in its stream and its own.
//!
//! A file opens with a header line naming what it holds (`{"export":{"format":1,
//! "stream":…}}` or `…"after":…`) and closes with an end line counting its event lines and
//! naming the last position (`{"end":{"lines":N,"last_position":…}}`), so that a file cut
//! short, or with lines dropped, does not pass for whole. An event line holds exactly the
//! fields the hash covers (`stream`, `version`, `event_id`, `event_type`, `schema_version`,
//! `data`, `metadata`, `recorded_at`), plus `position`, `previous_hash` and `hash`, so the
//! chain can be recomputed from the file alone (docs/audit.md shows it in a few lines of
//! Python).
//!
//! [`verify_export`] checks a file alone: every line's hash, every stream's versions
//! without a gap and in order, the lines in log order, the header and the end line; in an
//! export of a whole stream or of the whole log, that every stream starts at its first
//! event. Given the seals' public key, an export of the whole log is checked as
//! `verify-log` checks the log: the chain of seals in it, and that the events sit where
//! the seals put them (see [`crate::coverage`]). Given a seal kept outside the system
//! too, the file must reach every head it fixed (and, for the whole log, hold it).

use crate::coverage::Coverage;
use crate::seal::{PublicKey, Seal, SealChain, SEAL_EVENT};
use crate::verify_log::Finding;
use boxoffice_domain::StreamName;
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

/// The first line of an export: what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    export: Header,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<Position>,
}

/// The format this code writes and reads.
const FORMAT: u32 = 1;

/// The last line of an export: how many event lines it holds, and the last one's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndLine {
    end: End,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    lines: u64,
    last_position: Option<Position>,
}

impl Selection {
    fn header(&self) -> Header {
        match self {
            Self::Stream(stream) => Header {
                format: FORMAT,
                stream: Some(stream.clone()),
                after: None,
            },
            Self::After(after) => Header {
                format: FORMAT,
                stream: None,
                after: Some(*after),
            },
        }
    }
}

/// Reads the events of `selection` page by page, each with the hash its stream had before
/// it, and hands out the file a piece at a time: the header, a page of lines, ..., the end
/// line (the HTTP body, a file).
pub struct Exporter {
    log: Arc<dyn EventLog>,
    selection: Selection,
    /// The last hash seen per stream (to fill `previous_hash` without a read).
    heads: HashMap<String, EventHash>,
    next_version: u64,
    /// The stream selected has been read to its end.
    stream_read: bool,
    /// What has been handed out: nothing, the header, every event, or the end line too.
    stage: Stage,
    lines: u64,
    last_position: Option<Position>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Events,
    End,
    Done,
}

impl Exporter {
    pub fn new(log: Arc<dyn EventLog>, selection: Selection) -> Self {
        Self {
            log,
            selection,
            heads: HashMap::new(),
            next_version: 0,
            stream_read: false,
            stage: Stage::Header,
            lines: 0,
            last_position: None,
        }
    }

    /// Event lines handed out so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The next piece of the file, as NDJSON text; `None` after the end line.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, EventLogError> {
        let mut chunk = Vec::new();
        loop {
            match self.stage {
                Stage::Header => {
                    // The whole log, or what follows a position, as it is now.
                    if let Selection::After(_) = self.selection {
                        boxoffice_eventstore::readable(self.log.as_ref()).await?;
                    }
                    let header = HeaderLine {
                        export: self.selection.header(),
                    };
                    push_line(&mut chunk, &header);
                    self.stage = Stage::Events;
                }
                Stage::Events => {
                    let lines = self.next_page().await?;
                    if lines.is_empty() {
                        self.stage = Stage::End;
                        continue;
                    }
                    chunk.reserve(lines.len() * 512);
                    for line in &lines {
                        push_line(&mut chunk, line);
                    }
                }
                Stage::End => {
                    let end = EndLine {
                        end: End {
                            lines: self.lines,
                            last_position: self.last_position,
                        },
                    };
                    push_line(&mut chunk, &end);
                    self.stage = Stage::Done;
                }
                Stage::Done => return Ok(None),
            }
            return Ok(Some(chunk));
        }
    }

    /// The next page of event lines; empty at the end.
    async fn next_page(&mut self) -> Result<Vec<ExportLine>, EventLogError> {
        let page = match &mut self.selection {
            Selection::Stream(stream) => {
                if self.stream_read {
                    return Ok(Vec::new());
                }
                let page = self
                    .log
                    .read_stream(stream, self.next_version, PAGE)
                    .await?;
                if let Some(last) = page.last() {
                    self.next_version = last.version + 1;
                }
                self.stream_read = page.len() < PAGE;
                page
            }
            Selection::After(after) => {
                let page = self.log.read_all(*after, PAGE).await?;
                if let Some(last) = page.last() {
                    *after = last.position;
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
        self.lines += lines.len() as u64;
        if let Some(last) = lines.last() {
            self.last_position = Some(last.position);
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

/// Appends `value` as one NDJSON line (export lines are plain data: they always serialise).
fn push_line(out: &mut Vec<u8>, value: &impl Serialize) {
    if serde_json::to_writer(&mut *out, value).is_ok() {
        out.push(b'\n');
    }
}

/// Writes the export of `selection` to `out`; `progress` hears the count of event lines
/// after each page. Answers how many event lines were written.
pub async fn export(
    log: Arc<dyn EventLog>,
    selection: Selection,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let mut exporter = Exporter::new(log, selection);
    while let Some(chunk) = exporter.next_chunk().await? {
        out.write_all(&chunk)?;
        progress(exporter.lines());
    }
    out.flush()?;
    Ok(exporter.lines())
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
    /// Event lines.
    pub lines: u64,
    pub streams: usize,
    /// Seals in the file signed with the key given (none without a key).
    pub seals: u64,
    pub findings: Vec<Finding>,
    /// The seals in the file were made on another log (see [`crate::coverage::Outcome`]).
    pub foreign_seals: bool,
    /// What the header says the file holds: `the whole log`, `stream S`, `the log after P`.
    pub holds: String,
    /// What is worth saying that is not a finding.
    pub notes: Vec<String>,
}

/// What to check an export against: the auditor's copy of the seals' key, and a seal kept
/// outside the system.
#[derive(Default)]
pub struct Against<'a> {
    pub key: Option<&'a PublicKey>,
    pub kept: Option<&'a Seal>,
}

/// Checks an export on its own: see the module documentation. A line that is not an export
/// line is a finding too (named by its line number).
pub fn verify_export(
    file: impl BufRead,
    against: &Against<'_>,
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
    // The heads the kept seal fixed, and whether the file showed each.
    let mut sealed: HashMap<(String, u64), (EventHash, bool)> = against
        .kept
        .map(|seal| {
            seal.body
                .streams
                .iter()
                .map(|head| ((head.stream.clone(), head.version), (head.hash, false)))
                .collect()
        })
        .unwrap_or_default();
    let seals_stream = StreamName::Seals.to_string();
    let mut header: Option<Header> = None;
    let mut end: Option<(usize, End)> = None;
    let mut last_position: Option<Position> = None;
    // Filled once the header says what the file holds.
    let mut whole_streams = false;
    let mut seal_check: Option<(SealChain<'_>, Coverage)> = None;
    let mut kept_in_file: Option<Result<(), String>> = None;
    let mut first = true;
    for (index, line) in file.split(b'\n').enumerate() {
        let number = index + 1;
        let place = format!("line {number}");
        let line = match String::from_utf8(line?) {
            Ok(line) => line,
            Err(_) => {
                file_finding(&mut findings, &place, "is not UTF-8 text".into());
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if std::mem::take(&mut first) {
            match serde_json::from_str::<HeaderLine>(&line) {
                Ok(HeaderLine { export }) if export.format == FORMAT => {
                    let from_start = match (&export.stream, export.after) {
                        (Some(_), None) => Some(false),
                        (None, Some(after)) => Some(after == Position::START),
                        _ => None,
                    };
                    match from_start {
                        None => file_finding(
                            &mut findings,
                            FILE,
                            "the header names no stream and no position".into(),
                        ),
                        Some(log_from_start) => {
                            whole_streams = export.stream.is_some() || log_from_start;
                            if export.stream.is_none() {
                                seal_check = against.key.map(|key| {
                                    if log_from_start {
                                        (SealChain::from_start(key), Coverage::from_start(None))
                                    } else {
                                        (
                                            SealChain::mid_log(key),
                                            Coverage::mid_log(
                                                export.after.unwrap_or(Position::START),
                                            ),
                                        )
                                    }
                                });
                            }
                        }
                    }
                    header = Some(export);
                    continue;
                }
                Ok(HeaderLine { export }) => {
                    file_finding(
                        &mut findings,
                        FILE,
                        format!("format {} is not one this tool reads", export.format),
                    );
                    break;
                }
                Err(_) => file_finding(
                    &mut findings,
                    FILE,
                    "does not begin with an export header (its first lines are cut, or it \
                     is not an export)"
                        .into(),
                ),
            }
        }
        if let Some((at, _)) = &end {
            file_finding(
                &mut findings,
                FILE,
                format!("{place} comes after the end line (line {at})"),
            );
        }
        let parsed: ExportLine = match serde_json::from_str(&line) {
            Ok(parsed) => parsed,
            Err(error) => {
                match serde_json::from_str::<EndLine>(&line) {
                    Ok(EndLine { end: said }) if end.is_none() => end = Some((number, said)),
                    _ => {
                        findings.entry(place.clone()).or_insert(Finding {
                            stream: place,
                            version: None,
                            problem: format!("not an export line: {error}"),
                        });
                    }
                }
                continue;
            }
        };
        report.lines += 1;
        if last_position.is_some_and(|p| parsed.position <= p) {
            findings.entry(ORDER.into()).or_insert(Finding {
                stream: place.clone(),
                version: None,
                problem: format!(
                    "{} v{} is out of log order (moved)",
                    parsed.stream, parsed.version
                ),
            });
        }
        last_position = Some(parsed.position);
        if let Some(header) = &header {
            let outside = match (&header.stream, header.after) {
                (Some(stream), _) => *stream != parsed.stream,
                (None, Some(after)) => parsed.position <= after,
                (None, None) => false,
            };
            if outside {
                file_finding(
                    &mut findings,
                    SELECTION,
                    format!(
                        "{place}: {} v{} is not part of what the header says the file holds",
                        parsed.stream, parsed.version
                    ),
                );
            }
        }
        let at = |problem: &str| Finding {
            stream: parsed.stream.clone(),
            version: Some(parsed.version),
            problem: problem.to_owned(),
        };
        let mut problem = None;
        let stream = streams.entry(parsed.stream.clone()).or_insert_with(|| {
            if whole_streams && (parsed.version != 0 || parsed.previous_hash != EventHash::GENESIS)
            {
                problem = Some(Finding {
                    stream: parsed.stream.clone(),
                    version: Some(0),
                    problem: format!(
                        "the file begins the stream at version {}: its first lines are \
                             missing",
                        parsed.version
                    ),
                });
            }
            Stream {
                next_version: parsed.version,
                hash: parsed.previous_hash,
                broken: false,
            }
        });
        let problem = if problem.is_some() || stream.broken {
            problem
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
        // A version at the end of the numbers has no successor: whatever follows is out of
        // place (never an overflow on a file's say-so).
        stream.next_version = parsed.version.saturating_add(1);
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
        // The seals in the file, and where they put the events.
        let Some((chain, coverage)) = &mut seal_check else {
            continue;
        };
        if parsed.stream != seals_stream {
            coverage.event(
                &parsed.stream,
                parsed.version,
                Some(parsed.hash),
                parsed.position,
            );
            continue;
        }
        let seal = if parsed.event_type == SEAL_EVENT {
            Seal::from_json(&parsed.data).map_err(|e| e.to_string())
        } else {
            Err(format!("an event of type {}", parsed.event_type))
        };
        match seal {
            Ok(seal) => {
                let (holds, problem) = chain.next(&seal);
                report.seals += u64::from(holds);
                if let Some(problem) = problem {
                    findings
                        .entry(seals_stream.clone())
                        .or_insert_with(|| at(&problem));
                }
                coverage.seal(&seal, holds);
                if let Some(kept) = against.kept.filter(|k| k.body.number == seal.body.number) {
                    kept_in_file = Some(if kept.body.digest() == seal.body.digest() {
                        Ok(())
                    } else {
                        Err(format!(
                            "seal {} in the file is not the one kept",
                            kept.body.number
                        ))
                    });
                }
            }
            Err(reason) => {
                findings
                    .entry(seals_stream.clone())
                    .or_insert_with(|| at(&format!("is not a seal ({reason})")));
            }
        }
    }
    match end {
        None => file_finding(
            &mut findings,
            FILE,
            "ends without its end line (cut short)".into(),
        ),
        Some((_, said)) if said.lines != report.lines => file_finding(
            &mut findings,
            FILE,
            format!(
                "the end line counts {} event lines, the file holds {} (lines dropped or \
                 added)",
                said.lines, report.lines
            ),
        ),
        Some((_, said)) if said.last_position != last_position => file_finding(
            &mut findings,
            FILE,
            "the end line names another last position than the last line's (lines dropped \
             or added)"
                .into(),
        ),
        Some(_) => {}
    }
    let full_log = header
        .as_ref()
        .is_some_and(|h| h.stream.is_none() && h.after == Some(Position::START));
    if let Some((_, coverage)) = seal_check {
        let outcome = coverage.outcome();
        report.foreign_seals = outcome.foreign_seals;
        for finding in outcome.findings {
            findings.entry(finding.stream.clone()).or_insert(finding);
        }
    }
    if let Some(kept) = against.kept {
        let number = kept.body.number;
        let key_holds = against.key.map(|key| kept.verify(key));
        if let Some(Err(error)) = key_holds {
            file_finding(&mut findings, SEAL, error.to_string());
        }
        match &kept_in_file {
            Some(Err(problem)) => file_finding(&mut findings, SEAL, problem.clone()),
            None if full_log && against.key.is_some() => file_finding(
                &mut findings,
                SEAL,
                format!("seal {number}, which was kept, is not in the file (cut)"),
            ),
            _ => {}
        }
        let mut held = 0;
        for ((stream, version), (_, seen)) in &sealed {
            let Some(read) = streams.get(stream) else {
                if full_log {
                    findings.entry(stream.clone()).or_insert(Finding {
                        stream: stream.clone(),
                        version: Some(0),
                        problem: format!(
                            "seal {number} fixed it at version {version}, but the file holds \
                             none of it (dropped)"
                        ),
                    });
                }
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
        if held == 0 && !full_log {
            report.notes.push(format!(
                "the file holds none of the streams seal {number} fixed: it says nothing of \
                 this file (give the seal that fixed its streams last)"
            ));
        }
    }
    report.streams = streams.len();
    report.holds = match &header {
        Some(Header {
            stream: Some(stream),
            ..
        }) => format!("stream {stream}"),
        Some(Header {
            after: Some(Position::START),
            ..
        }) => "the whole log".into(),
        Some(Header {
            after: Some(after), ..
        }) => format!("the log after {after}"),
        _ => "what its header does not say".into(),
    };
    report.findings = findings.into_values().collect();
    Ok(report)
}

/// Files a finding about the file as a whole (one per `key`).
fn file_finding(findings: &mut BTreeMap<String, Finding>, key: &str, problem: String) {
    findings.entry(key.into()).or_insert(Finding {
        stream: key.into(),
        version: None,
        problem,
    });
}

/// Where findings about the file as a whole, its order, what it holds and the kept seal are
/// filed.
const FILE: &str = "(file)";
const ORDER: &str = "(order)";
const SELECTION: &str = "(selection)";
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
        let at = DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)?;
        // Exactly the text the hash covers: another way to write the same instant would
        // check here and fail every other tool that hashes the text as it stands.
        if boxoffice_eventstore::chain::recorded_at_text(at) != text {
            return Err(serde::de::Error::custom(
                "recorded_at is not written as the log writes it (UTC, six fractional digits)",
            ));
        }
        Ok(at)
    }
}
