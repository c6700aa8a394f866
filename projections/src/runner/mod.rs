//! Runs projectors: follows the log from each projector's checkpoint and applies batches.
//!
//! The log is read once for all of them ([`feed`]); a projector behind the feed reads the
//! log itself until it meets it. A batch and the checkpoint move in one transaction that
//! first locks the checkpoint row. If the row no longer says what this runner last wrote
//! (another process applied the batch, or an operator's rebuild was swapped in), nothing is
//! applied and the runner follows the log again from the stored checkpoint.

pub(crate) mod checkpoints;
mod feed;

pub use checkpoints::EtagPosition;
pub(crate) use checkpoints::{etag_moved, etag_positions, stored_position};
pub(crate) use feed::{applying, decode, FeedBatch};

use crate::{Applying, Projector};
use boxoffice_eventstore::postgres::{db_error, pool_error};
use boxoffice_eventstore::{EventLog, EventLogError, Position};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

const PING_SQL: &str = include_str!("sql/ping.sql");
const COMMIT_WITHOUT_WAITING_SQL: &str = include_str!("sql/commit_without_waiting.sql");

/// Most events the feed reads at once, and a projector reading on its own applies at once.
const BATCH: usize = 200;
/// Batches of the log the feed keeps for a projector that has not taken them yet. One
/// further behind reads the log itself; a batch every projector has taken is freed at once.
pub const DEFAULT_FEED_BATCHES: usize = 32;
/// Most events a projector applies in one transaction when several of the feed's batches
/// wait for it.
const MERGED: usize = 2_000;
/// Most events a rebuild (or a verification's rebuild) reads and applies at once.
pub(crate) const REBUILD_BATCH: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Log(#[from] EventLogError),
    #[error("event {event_id} in {stream} cannot be read: {reason}")]
    Unreadable {
        stream: String,
        event_id: Uuid,
        reason: String,
    },
    /// A verification cannot compare the table (it is missing, or has no key to order by).
    #[error("read-model table {table} cannot be verified: {reason}")]
    Unverifiable { table: String, reason: String },
    /// A rebuild cannot make, load or swap in the table's shadow copy.
    #[error("read-model table {table} cannot be rebuilt: {reason}")]
    Unrebuildable { table: String, reason: String },
    #[error("another rebuild of the read models is running")]
    RebuildRunning,
}

impl From<tokio_postgres::Error> for ProjectionError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Log(db_error(error))
    }
}

impl From<deadpool_postgres::PoolError> for ProjectionError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::Log(pool_error(error))
    }
}

/// The running projectors of this process and how far each has come.
pub struct Projections {
    positions: HashMap<&'static str, watch::Receiver<Position>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Projections {
    /// Makes every projector's checkpoint (at the start of the log) that does not exist yet,
    /// before anything reads them: otherwise a server's first answers (its metrics, ETags,
    /// `GET /v1/projections`) depend on which projector tasks have begun.
    pub async fn register(
        pool: &Pool,
        projectors: &[Arc<dyn Projector>],
    ) -> Result<(), ProjectionError> {
        for projector in projectors {
            checkpoints::load(pool, projector.name()).await?;
        }
        Ok(())
    }

    /// Starts every projector, fed by one reader of the log that keeps up to `feed_batches`
    /// batches for a projector that has not taken them yet ([`DEFAULT_FEED_BATCHES`]).
    pub fn start(
        log: Arc<dyn EventLog>,
        pool: Pool,
        projectors: Vec<Arc<dyn Projector>>,
        feed_batches: usize,
    ) -> Self {
        let (stop, stopping) = watch::channel(false);
        let (feed, _) = broadcast::channel(feed_batches.max(1));
        let mut positions = HashMap::new();
        let mut tasks = Vec::new();
        let audience = feed::Audience {
            pool: pool.clone(),
            projectors: projectors.iter().map(|p| p.name()).collect(),
            kept: feed_batches.max(1),
        };
        for projector in projectors {
            let (position, receiver) = watch::channel(Position::START);
            positions.insert(projector.name(), receiver);
            tasks.push(tokio::spawn(run(
                projector,
                log.clone(),
                pool.clone(),
                feed.clone(),
                position,
                stopping.clone(),
            )));
        }
        tasks.push(tokio::spawn(feed::run(
            log, feed, audience, BATCH, stopping,
        )));
        Self {
            positions,
            stop,
            tasks,
        }
    }

    /// How far the named projector has applied the log.
    pub fn position(&self, name: &str) -> Option<Position> {
        self.positions.get(name).map(|p| *p.borrow())
    }

    /// Waits until the named projector has applied everything up to `at_least`, or `timeout`
    /// passes. Returns the projector's position either way.
    pub async fn wait_for(&self, name: &str, at_least: Position, timeout: Duration) -> Position {
        let Some(receiver) = self.positions.get(name) else {
            return Position::START;
        };
        let mut receiver = receiver.clone();
        let reached = tokio::time::timeout(timeout, receiver.wait_for(|p| *p >= at_least))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|position| *position);
        reached.unwrap_or_else(|| *receiver.borrow())
    }

    /// Stops following the log; a batch being applied is finished first.
    pub async fn shutdown(self, timeout: Duration) {
        let _ = self.stop.send(true);
        let all = futures_join(self.tasks);
        let _ = tokio::time::timeout(timeout, all).await;
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

async fn run(
    projector: Arc<dyn Projector>,
    log: Arc<dyn EventLog>,
    pool: Pool,
    feed: broadcast::Sender<Arc<FeedBatch>>,
    position: watch::Sender<Position>,
    mut stop: watch::Receiver<bool>,
) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(1);
    let mut backoff = FIRST_BACKOFF;
    // The first time, the feed replays the log from the lowest checkpoint; after a failure
    // the runner catches up on its own.
    let mut fed_from_checkpoint = true;
    loop {
        let before = *position.borrow();
        let mut runner = Runner {
            projector: &*projector,
            log: &*log,
            pool: &pool,
            position: &position,
            checkpoint: before,
        };
        let followed = runner.follow(&feed, fed_from_checkpoint, &mut stop).await;
        fed_from_checkpoint = false;
        match followed {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(projector = projector.name(), %error, "projector stopped; retrying")
            }
        }
        // A run that got somewhere before failing starts the backoff afresh.
        if *position.borrow() > before {
            backoff = FIRST_BACKOFF;
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One projector following the log: from the feed's batches, or on its own while behind.
struct Runner<'a> {
    projector: &'a dyn Projector,
    log: &'a dyn EventLog,
    pool: &'a Pool,
    position: &'a watch::Sender<Position>,
    /// Where the stored checkpoint stands, as far as this runner knows.
    checkpoint: Position,
}

impl Runner<'_> {
    /// Applies the feed's batches; `fed_from_checkpoint`: the feed's first batch starts at or
    /// before this projector's checkpoint (the feed's replay at the process's start), else
    /// the runner first reads the log itself to its end.
    async fn follow(
        &mut self,
        feed: &broadcast::Sender<Arc<FeedBatch>>,
        fed_from_checkpoint: bool,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), ProjectionError> {
        // Listening before catching up: every batch sent from now on reaches this runner,
        // or tells it, by where it starts, that it missed some.
        let mut batches = feed.subscribe();
        self.checkpoint = checkpoints::load(self.pool, self.projector.name()).await?;
        self.position.send_replace(self.checkpoint);
        if !fed_from_checkpoint {
            self.catch_up(None, stop).await?;
        }
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let first = tokio::select! {
                batch = batches.recv() => batch,
                _ = stop.changed() => return Ok(()),
            };
            let mut taken = match first {
                Ok(batch) => vec![batch],
                // Batches were missed: the next one starts after a gap, filled from the log.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            // Whatever else waits joins the same transaction.
            let mut events = taken[0].events.len();
            while events < MERGED {
                let Ok(batch) = batches.try_recv() else { break };
                events += batch.events.len();
                taken.push(batch);
            }
            self.apply_taken(&taken, stop).await?;
        }
    }

    /// Applies contiguous batches of the feed, after filling any gap between the checkpoint
    /// and their start from the log.
    async fn apply_taken(
        &mut self,
        taken: &[Arc<FeedBatch>],
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), ProjectionError> {
        let (Some(first), Some(last)) = (taken.first(), taken.last()) else {
            return Ok(());
        };
        let last = last.last();
        if last <= self.checkpoint {
            return Ok(());
        }
        if first.after > self.checkpoint {
            metrics::counter!("boxoffice_projection_feed_gaps_total", "projector" => self.projector.name())
                .increment(1);
            self.catch_up(Some(first.after), stop).await?;
            if *stop.borrow() || self.checkpoint >= last {
                return Ok(());
            }
        }
        let after = self.checkpoint;
        let events: Vec<Applying<'_>> = taken
            .iter()
            .flat_map(|batch| applying(&batch.events, &batch.decoded))
            .filter(|e| e.recorded.position > after)
            .collect();
        let count = taken
            .iter()
            .flat_map(|batch| &batch.events)
            .filter(|e| e.position > after)
            .count();
        match apply_batch(self.pool, self.projector, &events, last, count, after).await? {
            Applied::Through(reached) => self.moved_to(reached),
            Applied::Moved(stored) => {
                self.moved_to(stored);
                self.catch_up(None, stop).await?;
            }
        }
        Ok(())
    }

    /// Reads the log itself from the checkpoint and applies it, up to `until` (or to the
    /// log's readable end), or until `stop`.
    async fn catch_up(
        &mut self,
        until: Option<Position>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), ProjectionError> {
        while !*stop.borrow() && until.is_none_or(|until| self.checkpoint < until) {
            let mut batch = self.log.read_all(self.checkpoint, BATCH).await?;
            if let Some(until) = until {
                batch.truncate(batch.partition_point(|e| e.position <= until));
            }
            let Some(last) = batch.last().map(|e| e.position) else {
                return Ok(());
            };
            let decoded = decode(&batch)?;
            let events: Vec<Applying<'_>> = applying(&batch, &decoded).collect();
            let applied = apply_batch(
                self.pool,
                self.projector,
                &events,
                last,
                batch.len(),
                self.checkpoint,
            )
            .await?;
            match applied {
                Applied::Through(reached) | Applied::Moved(reached) => self.moved_to(reached),
            }
        }
        Ok(())
    }

    fn moved_to(&mut self, checkpoint: Position) {
        self.checkpoint = checkpoint;
        self.position.send_replace(checkpoint);
    }
}

enum Applied {
    Through(Position),
    /// The stored checkpoint was not where this runner left it.
    Moved(Position),
}

/// Applies `events` (the decoded ones of `count` events of the log ending at `last`) and
/// moves the checkpoint from `expected` to `last`, if it is still at `expected`.
async fn apply_batch(
    pool: &Pool,
    projector: &dyn Projector,
    events: &[Applying<'_>],
    last: Position,
    count: usize,
    expected: Position,
) -> Result<Applied, ProjectionError> {
    if count == 0 {
        return Ok(Applied::Through(expected));
    }
    let name = projector.name();
    let mut client = pool.get().await?;
    if !events.iter().any(|e| projector.cares_about(e.event)) {
        // Nothing for this read model: move the checkpoint if it is still where we left it.
        let moved = checkpoints::advance(&client, name, expected, last, count).await?;
        drop(client);
        if moved {
            projector.committed(events, expected, last);
            return Ok(Applied::Through(last));
        }
        return Ok(moved_elsewhere(
            projector,
            expected,
            checkpoints::load(pool, name).await?,
        ));
    }
    let tx = client.transaction().await?;
    tx.batch_execute(COMMIT_WITHOUT_WAITING_SQL).await?;
    let stored = checkpoints::lock(&tx, name).await?;
    if stored != expected {
        return Ok(moved_elsewhere(projector, expected, stored));
    }
    projector.apply(&tx, events).await?;
    // The row is locked and at `expected`: it moves.
    checkpoints::advance(&tx, name, expected, last, count).await?;
    tx.commit().await?;
    projector.committed(events, expected, last);
    Ok(Applied::Through(last))
}

/// The checkpoint was not at `expected` but at `stored`: another process moved it.
fn moved_elsewhere(projector: &dyn Projector, expected: Position, stored: Position) -> Applied {
    if stored > expected {
        projector.passed(expected, stored);
    }
    Applied::Moved(stored)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectorStatus {
    pub name: String,
    pub position: Position,
    pub events_applied: i64,
    pub updated_at: DateTime<Utc>,
    /// Events in the log after the checkpoint: 0 exactly when it has applied every readable
    /// event, otherwise an estimate (see [`EventLog::lag`]).
    pub lag_events: u64,
    /// How long the oldest event not yet applied has waited.
    pub lag_seconds: f64,
}

pub async fn status(
    log: &dyn EventLog,
    pool: &Pool,
) -> Result<Vec<ProjectorStatus>, ProjectionError> {
    let client = pool.get().await?;
    let mut statuses = Vec::new();
    for checkpoint in checkpoints::all(&client).await? {
        let lag = log.lag(checkpoint.position).await?;
        let lag_seconds = lag.oldest.map_or(0.0, |t| {
            (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        statuses.push(ProjectorStatus {
            name: checkpoint.name,
            position: checkpoint.position,
            events_applied: checkpoint.events_applied,
            updated_at: checkpoint.updated_at,
            lag_events: lag.events,
            lag_seconds,
        });
    }
    Ok(statuses)
}

/// Whether the read models' database answers (a trivial statement): for readiness checks.
pub async fn database_answers(client: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
    client.query_one(PING_SQL, &[]).await?;
    Ok(())
}
