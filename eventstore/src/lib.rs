//! The event log: the port every part of Boxoffice writes facts to and reads them from, its
//! PostgreSQL adapter (the embedded default) and its EventStoreDB adapter ([`esdb`]), and
//! copying a whole log from one to the other ([`copy`]).
//!
//! The port promises three things, checked by the [`contract`] suite for every adapter:
//! appends are atomic and guarded by the stream's expected version; a stream reads back in
//! version order; and a subscription delivers every event exactly once, in one total order
//! that never changes once read, first catching up and then following live.

pub mod chain;
pub mod contract;
pub mod copy;
pub mod esdb;
pub mod migrations;
mod model;
pub mod postgres;

pub use chain::EventHash;
pub use model::*;

use async_trait::async_trait;

/// Where an event sits in the whole log. Ordered; totally ordered across streams.
///
/// Two numbers because that is what both backends have: on PostgreSQL, the appending
/// transaction's id and the row's sequence number; on EventStoreDB, the commit and prepare
/// positions. Clients see it as the string `"{commit}-{prepare}"`.
pub use model::Position;

#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends `events` to `stream` atomically, if the stream is at `expected`.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError>;

    /// Appends several streams' batches at once, each atomically and guarded by its own
    /// expected version, in as few commits as the backend can: the group commit that lets
    /// one commit carry many shows' batches. Answers come in the order of `appends`, one per
    /// batch; a conflict or a duplicate in one batch fails that batch only, and the others
    /// go in. A stream may appear once per call (a second batch of it is refused).
    ///
    /// This default appends the batches concurrently, one append each (what a backend
    /// without a multi-stream append can do); an adapter that can commit them together
    /// does so.
    async fn append_many(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Vec<Result<AppendResult, EventLogError>> {
        let repeated = repeated_streams(&appends);
        let answers = appends.into_iter().enumerate().map(|(i, append)| {
            let refused = repeated.contains(&i);
            async move {
                if refused {
                    return Err(repeated_stream(&append.stream));
                }
                self.append(&append.stream, append.expected, append.events)
                    .await
            }
        });
        futures_util::future::join_all(answers).await
    }

    /// Takes `stream`'s write turn: a lock across every process writing to this log, held
    /// until the turn appends (and commits) or is dropped. Two writers that both take turns
    /// before reading and appending never lose a race to each other: each reads what the
    /// other appended and goes on from there, where without turns the loser reads, decides
    /// and tries again, and a writer that is always busy can keep winning. `None`: the
    /// backend has no such lock (writers then rely on expected versions alone).
    async fn turn(&self, stream: &str) -> Result<Option<Box<dyn StreamTurn>>, EventLogError> {
        let _ = stream;
        Ok(None)
    }

    /// Up to `limit` events of one stream with version >= `from_version`, in version order.
    /// A stream that does not exist reads as empty.
    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError>;

    /// Up to `limit` events of the whole log strictly after `after`, in log order. Only events
    /// whose place in the order is final are returned: an event never appears later in front
    /// of one already returned.
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError>;

    /// Follows the log from `after`: catches up, then waits for new events.
    async fn subscribe(&self, after: Position) -> Result<Box<dyn Subscription>, EventLogError>;

    /// The position of the newest event whose place is final (`Position::START` when empty).
    async fn head(&self) -> Result<Position, EventLogError>;

    /// The position of the newest event recorded now, readable yet or not
    /// (`Position::START` when empty). Once [`EventLog::head`] has reached it, `read_all`
    /// returns every event recorded before this call: see [`readable`].
    async fn last_recorded(&self) -> Result<Position, EventLogError>;

    /// Whether an event is recorded at exactly this position, readable yet or not. Every
    /// position an append returned is; a position never handed out is not.
    async fn is_recorded(&self, position: Position) -> Result<bool, EventLogError>;

    /// How many events one stream, or the whole log, holds now, if the backend can tell
    /// without reading them all (for progress reports; `None`: it cannot).
    async fn count(&self, stream: Option<&str>) -> Result<Option<u64>, EventLogError>;

    /// How far a reader at `after` is behind the readable end of the log, for lag gauges
    /// that must answer quickly however far behind it is. This default reads the events
    /// after `after` and counts them, up to [`LAG_COUNT_LIMIT`]; an adapter that can tell
    /// without reading them says so.
    async fn lag(&self, after: Position) -> Result<Lag, EventLogError> {
        let mut lag = Lag::default();
        let mut from = after;
        while lag.events < LAG_COUNT_LIMIT {
            let page = self.read_all(from, 10_000).await?;
            let Some(last) = page.last() else { break };
            lag.oldest = lag.oldest.or(page.first().map(|e| e.recorded_at));
            from = last.position;
            lag.events += page.len() as u64;
        }
        Ok(lag)
    }
}

/// The indexes of the batches of a group append whose stream an earlier batch of the same
/// group already names: the port takes one batch per stream and call, so they are refused.
pub fn repeated_streams(appends: &[StreamAppend]) -> std::collections::HashSet<usize> {
    let mut seen = std::collections::HashSet::new();
    appends
        .iter()
        .enumerate()
        .filter(|(_, append)| !seen.insert(append.stream.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// The answer to a batch refused by [`repeated_streams`].
pub fn repeated_stream(stream: &str) -> EventLogError {
    EventLogError::Failed(format!(
        "{stream} appears more than once in one group append; append its batches one after \
         the other"
    ))
}

/// Most events [`EventLog::lag`]'s default counts by reading them.
pub const LAG_COUNT_LIMIT: u64 = 100_000;

/// One writer's turn at a stream ([`EventLog::turn`]): read what is new, then append once.
/// Dropping it without appending gives the turn up and writes nothing.
#[async_trait]
pub trait StreamTurn: Send {
    /// As [`EventLog::read_stream`], for the stream of the turn.
    async fn read_stream(
        &mut self,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError>;

    /// As [`EventLog::append`], for the stream of the turn; ends the turn.
    async fn append(
        self: Box<Self>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError>;
}

/// A live reader of the log.
#[async_trait]
pub trait Subscription: Send {
    /// The next events after the last one returned, at most `max`; waits until at least one
    /// exists. Never returns an event twice or skips one.
    async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, EventLogError>;
}

/// Waits until every event recorded before the call can be read with `read_all`, and
/// returns the newest one's position. On PostgreSQL an event's place is final only once
/// every transaction older than its own has ended (see [`postgres`]): any transaction open
/// in the database server, a migration or a long query, holds the readable end of the log
/// back for a moment. A walk that must see the whole log as it is now (an auditor's
/// verification, an export) starts here; otherwise it would end early and take the log's
/// newest events, and the seals naming them, for cut. Stops waiting if that newest event
/// is deleted meanwhile.
pub async fn readable(log: &dyn EventLog) -> Result<Position, EventLogError> {
    let last = log.last_recorded().await?;
    let mut pause = std::time::Duration::from_millis(2);
    while log.head().await? < last && log.is_recorded(last).await? {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(100));
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(stream: &str) -> StreamAppend {
        StreamAppend {
            stream: stream.into(),
            expected: ExpectedVersion::Any,
            events: Vec::new(),
        }
    }

    #[test]
    fn a_group_refuses_the_second_batch_of_a_stream_and_only_that() {
        let group = [
            append("a"),
            append("b"),
            append("a"),
            append("c"),
            append("a"),
        ];
        let mut repeated: Vec<usize> = repeated_streams(&group).into_iter().collect();
        repeated.sort_unstable();
        assert_eq!(repeated, [2, 4]);
        assert!(repeated_streams(&[append("x"), append("y")]).is_empty());
        assert!(matches!(repeated_stream("a"), EventLogError::Failed(m) if m.contains('a')));
    }
}
