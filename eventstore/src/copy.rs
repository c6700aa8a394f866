//! Copies a whole log from one backend to another (`boxoffice events copy`), preserving
//! event ids, order and stream versions.
//!
//! Events are appended in the source's log order, each run of consecutive events of one
//! stream in one append that expects the stream to be exactly where the source had it. So
//! at any moment the target holds a prefix of the source, and an interrupted copy resumes
//! by finding where that prefix ends: it counts the target's events, checks that the last
//! one is the source's event at that place, and goes on after it. Events found in the
//! target anyway (its newest may not show in reads at once) are recognised by id and
//! skipped, never doubled.

use crate::{EventLog, EventLogError, ExpectedVersion, NewEvent, Position, RecordedEvent};

/// Events read per page from either log.
const PAGE: usize = 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Events the target already had (copied by an earlier, interrupted run).
    pub already_there: u64,
    /// Events this run appended.
    pub copied: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Log(#[from] EventLogError),
    #[error("the target is not an earlier copy of the source: {0}")]
    NotAPrefix(String),
}

/// Copies every event of `from` that `to` lacks; `limit` stops after that many (to copy in
/// parts, and to test resuming). `progress` hears the running total after each page.
pub async fn copy_log(
    from: &dyn EventLog,
    to: &dyn EventLog,
    limit: Option<u64>,
    mut progress: impl FnMut(CopyReport),
) -> Result<CopyReport, CopyError> {
    // The source as it is now, to its newest event.
    crate::readable(from).await?;
    let (already_there, last) = count(to).await?;
    let mut report = CopyReport {
        already_there,
        copied: 0,
    };
    let mut after = match last {
        None => Position::START,
        Some(last) => find(from, already_there, &last).await?,
    };
    loop {
        let budget = limit.map_or(PAGE as u64, |l| (l - report.copied).min(PAGE as u64));
        if budget == 0 {
            return Ok(report);
        }
        let page = from.read_all(after, budget as usize).await?;
        let Some(end) = page.last().map(|e| e.position) else {
            return Ok(report);
        };
        for run in page.chunk_by(|a, b| a.stream == b.stream) {
            let there = append_run(to, run).await?;
            report.already_there += there;
            report.copied += run.len() as u64 - there;
        }
        after = end;
        progress(report);
    }
}

/// Appends one run of consecutive events of a stream where the source had them. Events the
/// target has already (a resumed copy may start a little early: the newest events of a log
/// can take a moment to show in its reads) are recognised by id and skipped; returns how
/// many were.
async fn append_run(to: &dyn EventLog, run: &[RecordedEvent]) -> Result<u64, CopyError> {
    let first = &run[0];
    let expected = match first.version {
        0 => ExpectedVersion::NoStream,
        v => ExpectedVersion::Exact(v - 1),
    };
    let events = run.iter().map(new_event).collect();
    match to.append(&first.stream, expected, events).await {
        Ok(_) => Ok(0),
        Err(
            refused @ (EventLogError::WrongExpectedVersion { .. }
            | EventLogError::DuplicateEvent(_)),
        ) => {
            let there = to
                .read_stream(&first.stream, first.version, run.len())
                .await?;
            for (copied, original) in there.iter().zip(run) {
                if copied.event_id != original.event_id {
                    return Err(CopyError::NotAPrefix(format!(
                        "{} v{} is {} in the target, {} in the source",
                        original.stream, original.version, copied.event_id, original.event_id
                    )));
                }
            }
            let skipped = there.len();
            if skipped == 0 {
                // Nothing of the run is there: something else is in the way (the stream
                // moved, or an event id is used in another stream).
                return Err(refused.into());
            }
            if skipped < run.len() {
                let rest = &run[skipped..];
                let expected = ExpectedVersion::after(rest[0].version.checked_sub(1));
                to.append(
                    &first.stream,
                    expected,
                    rest.iter().map(new_event).collect(),
                )
                .await?;
            }
            Ok(skipped as u64)
        }
        Err(other) => Err(other.into()),
    }
}

fn new_event(event: &RecordedEvent) -> NewEvent {
    NewEvent {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version,
        data: event.data.clone(),
        metadata: event.metadata.clone(),
        // The original time: the copy's hash chain is then the original's.
        recorded_at: Some(event.recorded_at),
    }
}

/// How many events `log` holds, and its last one.
async fn count(log: &dyn EventLog) -> Result<(u64, Option<RecordedEvent>), EventLogError> {
    let (mut count, mut last, mut after) = (0u64, None, Position::START);
    loop {
        let page = log.read_all(after, PAGE).await?;
        let Some(end) = page.last() else {
            return Ok((count, last));
        };
        after = end.position;
        count += page.len() as u64;
        last = page.into_iter().last();
    }
}

/// The position in `from` of its `n`th event, which must be `expected`.
async fn find(
    from: &dyn EventLog,
    n: u64,
    expected: &RecordedEvent,
) -> Result<Position, CopyError> {
    let (mut seen, mut after) = (0u64, Position::START);
    loop {
        let page = from.read_all(after, PAGE).await?;
        if page.is_empty() {
            return Err(CopyError::NotAPrefix(format!(
                "the target holds {n} events, the source only {seen}"
            )));
        }
        if seen + page.len() as u64 >= n {
            let event = &page[(n - seen - 1) as usize];
            if event.event_id != expected.event_id
                || event.stream != expected.stream
                || event.version != expected.version
            {
                return Err(CopyError::NotAPrefix(format!(
                    "the target's event {n} is {} ({} v{}), the source's is {} ({} v{})",
                    expected.event_id,
                    expected.stream,
                    expected.version,
                    event.event_id,
                    event.stream,
                    event.version
                )));
            }
            return Ok(event.position);
        }
        seen += page.len() as u64;
        after = page.last().map(|e| e.position).unwrap_or(after);
    }
}
