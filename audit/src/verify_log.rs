//! Walking the log to prove it intact, or to say where it is not.
//!
//! Every stream must count its versions from 0 without a gap, and every event's stored hash
//! must be the hash of its own contents chained to the event before it. Every seal must be
//! signed by the auditor's key and name the seal before it; every stream head a seal lists
//! must still be in the log with the hash the seal gives. A seal the auditor kept outside
//! the system must be in the log unchanged. Together these find an event whose data,
//! metadata, type or time was changed (its hash no longer matches), one deleted (a gap),
//! one inserted or two swapped (a hash chained to the wrong predecessor), a chain
//! recomputed after a change or a tail cut after a seal (a head that differs from the
//! seal's, or is missing), and a forged seal (a signature that does not hold). The walk
//! also splits the log as the sealer did ([`crate::coverage`]), which finds a whole stream
//! slipped in among sealed events, chain and all.
//!
//! Each broken stream is reported once, at the first version where it breaks; nothing
//! after that point in the stream can be trusted anyway.

use crate::coverage::Coverage;
use crate::seal::{PublicKey, Seal, SealChain, SEAL_EVENT};
use boxoffice_domain::StreamName;
use boxoffice_eventstore::{EventHash, EventLog, EventLogError, Position, RecordedEvent};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Events read per page.
const PAGE: usize = 2_000;

/// Something wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub stream: String,
    /// The first version where the stream breaks (none: the stream as a whole).
    pub version: Option<u64>,
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(version) => write!(f, "{}: version {version}: {}", self.stream, self.problem),
            None => write!(f, "{}: {}", self.stream, self.problem),
        }
    }
}

/// What a walk of the log found.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogReport {
    /// Events read.
    pub events: u64,
    /// Streams read.
    pub streams: usize,
    /// Seals in the log.
    pub seals: u64,
    /// One per broken stream (and per seal that does not hold), by stream name.
    pub findings: Vec<Finding>,
    /// The seals were made on another log (this one was copied, seals and all): where
    /// events sit in the log was not checked against them; everything else was.
    pub foreign_seals: bool,
}

impl LogReport {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What to walk and what to check it against.
pub struct Walk<'a> {
    /// Only this stream (and the seals' word on it); the whole log when absent.
    pub stream: Option<String>,
    /// The key seals must be signed with: the auditor's own copy.
    pub key: &'a PublicKey,
    /// A seal the auditor kept outside the system.
    pub kept: Option<&'a Seal>,
}

/// One stream as the walk has seen it so far.
struct Seen {
    next_version: u64,
    previous: EventHash,
    broken: bool,
}

/// Walks the log; `progress` hears the number of events read after each page.
pub async fn verify_log(
    log: &dyn EventLog,
    walk: &Walk<'_>,
    mut progress: impl FnMut(u64),
) -> Result<LogReport, EventLogError> {
    let mut report = LogReport::default();
    // One finding per broken stream, and one about the seal the auditor kept.
    let mut findings: BTreeMap<(String, bool), Finding> = BTreeMap::new();
    let mut found = |finding: Finding| {
        findings
            .entry((finding.stream.clone(), false))
            .or_insert(finding);
    };
    let mut kept_finding: Option<Finding> = None;
    // The walk reads the log as it is now, to its newest event.
    boxoffice_eventstore::readable(log).await?;

    // What the seals say each stream held: (version -> hash, seal number).
    let seal_events = read_seal_events(log).await?;
    let mut seals = Vec::new();
    for (version, seal) in &seal_events {
        match seal {
            Ok(seal) => seals.push((*version, seal)),
            Err(reason) => found(Finding {
                stream: StreamName::Seals.to_string(),
                version: Some(*version),
                problem: format!("is not a seal ({reason}): the sealer stops at it"),
            }),
        }
    }
    report.seals = seals.len() as u64;
    let mut sealed: HashMap<String, BTreeMap<u64, (EventHash, u64)>> = HashMap::new();
    // Each seal and whether it is signed, for the walk to split the log by.
    let mut signed: Vec<(&Seal, bool)> = Vec::with_capacity(seals.len());
    let mut chain = SealChain::from_start(walk.key);
    for &(version, seal) in &seals {
        let number = seal.body.number;
        // A seal that does not hold fixes nothing: it is a finding itself.
        let (holds, problem) = chain.next(seal);
        if let Some(problem) = problem {
            found(Finding {
                stream: StreamName::Seals.to_string(),
                version: Some(version),
                problem,
            });
        }
        if holds {
            for head in &seal.body.streams {
                sealed
                    .entry(head.stream.clone())
                    .or_default()
                    .insert(head.version, (head.hash, number));
            }
        }
        signed.push((seal, holds));
    }
    if let Some(kept) = walk.kept {
        let number = kept.body.number;
        let stream = StreamName::Seals.to_string();
        let holds = kept.verify(walk.key);
        kept_finding = match (&holds, seals.iter().find(|(_, s)| s.body.number == number)) {
            (Err(error), _) => Some(Finding {
                stream,
                version: None,
                problem: format!("the kept seal does not hold: {error}"),
            }),
            (Ok(()), None) => Some(Finding {
                stream,
                version: None,
                problem: format!("seal {number}, which was kept, is not in the log (cut)"),
            }),
            (Ok(()), Some((version, in_log))) if in_log.body.digest() != kept.body.digest() => {
                Some(Finding {
                    stream,
                    version: Some(*version),
                    problem: format!("seal {number} in the log is not the one kept"),
                })
            }
            (Ok(()), Some(_)) => None,
        };
        let holds = holds.is_ok();
        if holds {
            for head in &kept.body.streams {
                sealed
                    .entry(head.stream.clone())
                    .or_default()
                    .insert(head.version, (head.hash, number));
            }
        }
    }

    // The walk itself, splitting the log as the seals did.
    let seals_stream = StreamName::Seals.to_string();
    // A walk of one stream cannot see whether a seal ends at an event of this log; it asks
    // the log, for the first and the last signed seal (a log copied elsewhere has neither).
    let signed_throughs: Vec<Position> = signed
        .iter()
        .filter(|(_, holds)| *holds)
        .map(|(seal, _)| seal.body.through)
        .collect();
    let foreign = match (
        &walk.stream,
        signed_throughs.first(),
        signed_throughs.last(),
    ) {
        (Some(_), Some(first), Some(last)) => {
            !log.is_recorded(*first).await? && !log.is_recorded(*last).await?
        }
        _ => false,
    };
    let mut coverage = Coverage::from_start(walk.stream.clone());
    let mut due_seals = signed.into_iter().peekable();
    let mut place = |event: &RecordedEvent| {
        if event.stream == seals_stream || foreign {
            return;
        }
        while let Some((seal, holds)) =
            due_seals.next_if(|(seal, holds)| Coverage::due(seal, *holds, event.position))
        {
            coverage.seal(seal, holds);
        }
        // Past the last signed seal nothing is compared: keep nothing.
        if due_seals.peek().is_some() {
            coverage.event(&event.stream, event.version, event.hash, event.position);
        }
    };
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut check = |event: &RecordedEvent, report: &mut LogReport| {
        report.events += 1;
        let state = seen.entry(event.stream.clone()).or_insert(Seen {
            next_version: 0,
            previous: EventHash::GENESIS,
            broken: false,
        });
        if state.broken {
            state.next_version = event.version + 1;
            return None;
        }
        let at = |problem: String| Finding {
            stream: event.stream.clone(),
            version: Some(event.version),
            problem,
        };
        let problem = if event.version > state.next_version {
            Some(Finding {
                stream: event.stream.clone(),
                version: Some(state.next_version),
                problem: match event.version - state.next_version {
                    1 => "is missing from its place in the log (deleted, or inserted later)".into(),
                    n => format!(
                        "and the {} versions after it are missing from their place in the log \
                         (deleted, or inserted later)",
                        n - 1
                    ),
                },
            })
        } else if event.version < state.next_version {
            Some(at("comes again after a later version (moved)".into()))
        } else {
            match event.hash {
                None => Some(at("has no hash".into())),
                Some(stored) if event.chained().hash(&state.previous) != stored => Some(at(
                    "its hash does not match its contents and the event before it \
                     (changed, inserted or moved)"
                        .into(),
                )),
                Some(stored) => match sealed
                    .get(&event.stream)
                    .and_then(|versions| versions.get(&event.version))
                {
                    Some((hash, number)) if *hash != stored => Some(at(format!(
                        "differs from seal {number}: the stream was rewritten up to here \
                         and its chain recomputed"
                    ))),
                    _ => {
                        state.previous = stored;
                        None
                    }
                },
            }
        };
        state.next_version = event.version + 1;
        if problem.is_some() {
            state.broken = true;
        }
        problem
    };
    match &walk.stream {
        Some(stream) => {
            let mut from = 0;
            loop {
                let page = log.read_stream(stream, from, PAGE).await?;
                for event in &page {
                    if let Some(finding) = check(event, &mut report) {
                        found(finding);
                    }
                    place(event);
                    from = event.version + 1;
                }
                progress(report.events);
                if page.len() < PAGE {
                    break;
                }
            }
        }
        None => {
            let mut after = Position::START;
            loop {
                let page = log.read_all(after, PAGE).await?;
                let Some(last) = page.last() else {
                    break;
                };
                after = last.position;
                for event in &page {
                    if let Some(finding) = check(event, &mut report) {
                        found(finding);
                    }
                    place(event);
                }
                progress(report.events);
            }
        }
    }

    // Heads a seal fixed that the log no longer reaches.
    for (stream, versions) in &sealed {
        if walk.stream.as_ref().is_some_and(|only| only != stream) {
            continue;
        }
        let Some((&version, &(_, number))) = versions.last_key_value() else {
            continue;
        };
        let reaches = seen.get(stream).map_or(0, |s| s.next_version);
        if reaches <= version {
            found(Finding {
                stream: stream.clone(),
                version: Some(reaches),
                problem: format!(
                    "seal {number} fixed it at version {version}, but it ends before \
                     (its tail was cut)"
                ),
            });
        }
    }
    // Events where no seal puts them: only for streams with nothing else wrong (a stream
    // broken or cut further up is out of place too, and that says more).
    if !foreign {
        for (seal, holds) in due_seals {
            coverage.seal(seal, holds);
        }
    }
    let outcome = coverage.outcome();
    report.foreign_seals = foreign || outcome.foreign_seals;
    for finding in outcome.findings {
        found(finding);
    }
    report.streams = seen.len();
    if let Some(finding) = kept_finding {
        findings.insert((finding.stream.clone(), true), finding);
    }
    report.findings = findings.into_values().collect();
    Ok(report)
}

/// The seals in the log that read as seals, with the version of each in the `seals` stream.
pub async fn read_seals(log: &dyn EventLog) -> Result<Vec<(u64, Seal)>, EventLogError> {
    Ok(read_seal_events(log)
        .await?
        .into_iter()
        .filter_map(|(version, seal)| Some((version, seal.ok()?)))
        .collect())
}

/// Every event of the `seals` stream by version: a seal, or why it is not one (an event
/// that is not a readable seal has no business there, and fixes nothing).
pub async fn read_seal_events(
    log: &dyn EventLog,
) -> Result<Vec<(u64, Result<Seal, String>)>, EventLogError> {
    let stream = StreamName::Seals.to_string();
    let mut seals = Vec::new();
    let mut from = 0;
    loop {
        let page = log.read_stream(&stream, from, PAGE).await?;
        for event in &page {
            from = event.version + 1;
            let seal = if event.event_type == SEAL_EVENT {
                Seal::from_json(&event.data).map_err(|e| e.to_string())
            } else {
                Err(format!("an event of type {}", event.event_type))
            };
            seals.push((event.version, seal));
        }
        if page.len() < PAGE {
            return Ok(seals);
        }
    }
}
