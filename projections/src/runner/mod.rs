//! Runs projectors: follows the log from each projector's checkpoint and applies batches.
//!
//! A batch and the checkpoint move in one transaction that first locks the checkpoint row.
//! If the row no longer says what this runner last wrote (another process applied the
//! batch, or an operator rebuilt the read model), nothing is applied and the runner
//! follows the log again from the stored checkpoint.

mod checkpoints;

pub use checkpoints::EtagPosition;
pub(crate) use checkpoints::{etag_moved, etag_positions, stored_position};

use crate::{Applying, Event, Projector};
use boxoffice_domain::access::AccessEvent;
use boxoffice_domain::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoEvent;
use boxoffice_domain::{ShowEvent, StoredEvent, StreamName};
use boxoffice_eventstore::postgres::{db_error, pool_error};
use boxoffice_eventstore::{EventLog, EventLogError, Position, RecordedEvent};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

const PING_SQL: &str = include_str!("sql/ping.sql");
const COMMIT_WITHOUT_WAITING_SQL: &str = include_str!("sql/commit_without_waiting.sql");

/// Most events a running projector applies in one transaction.
const BATCH: usize = 200;
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
    pub fn start(log: Arc<dyn EventLog>, pool: Pool, projectors: Vec<Arc<dyn Projector>>) -> Self {
        let (stop, stopping) = watch::channel(false);
        let mut positions = HashMap::new();
        let mut tasks = Vec::new();
        for projector in projectors {
            let (position, receiver) = watch::channel(Position::START);
            positions.insert(projector.name(), receiver);
            tasks.push(tokio::spawn(run(
                projector,
                log.clone(),
                pool.clone(),
                position,
                stopping.clone(),
            )));
        }
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
    position: watch::Sender<Position>,
    mut stop: watch::Receiver<bool>,
) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(1);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let before = *position.borrow();
        match follow(&*projector, &*log, &pool, &position, &mut stop).await {
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

async fn follow(
    projector: &dyn Projector,
    log: &dyn EventLog,
    pool: &Pool,
    position: &watch::Sender<Position>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    let mut checkpoint = checkpoints::load(pool, projector.name()).await?;
    position.send_replace(checkpoint);
    let mut subscription = log.subscribe(checkpoint).await?;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let batch = tokio::select! {
            batch = subscription.next_batch(BATCH) => batch?,
            _ = stop.changed() => return Ok(()),
        };
        let events = parse(&batch)?;
        match apply_batch(pool, projector, &batch, &events, checkpoint).await? {
            Applied::Through(reached) => checkpoint = reached,
            Applied::Moved(stored) => {
                checkpoint = stored;
                subscription = log.subscribe(stored).await?;
            }
        }
        position.send_replace(checkpoint);
    }
}

enum Applied {
    Through(Position),
    /// The stored checkpoint was not where this runner left it.
    Moved(Position),
}

/// The events of a batch, read into domain events (streams of no projector are skipped).
pub(crate) fn parse(batch: &[RecordedEvent]) -> Result<Vec<Applying<'_>>, ProjectionError> {
    batch
        .iter()
        .filter_map(|recorded| {
            let name = StreamName::parse(&recorded.stream)?;
            let (t, v, data) = (
                recorded.event_type.as_str(),
                recorded.schema_version,
                &recorded.data,
            );
            let event = match name {
                StreamName::Show(_) => ShowEvent::from_stored(t, v, data).map(Event::Show),
                StreamName::Cities => CitiesEvent::from_stored(t, v, data).map(Event::Cities),
                StreamName::Cinema(_) => CinemaEvent::from_stored(t, v, data).map(Event::Cinema),
                StreamName::Movie(_) => MovieEvent::from_stored(t, v, data).map(Event::Movie),
                StreamName::Payment(_) => PaymentEvent::from_stored(t, v, data).map(Event::Payment),
                StreamName::Promo(_) => PromoEvent::from_stored(t, v, data).map(Event::Promo),
                StreamName::Access => AccessEvent::from_stored(t, v, data).map(Event::Access),
                // The log's own seals are no projector's business.
                StreamName::Seals => return None,
            };
            Some(
                event
                    .map(|event| Applying {
                        stream_id: name.id(),
                        event,
                        recorded,
                    })
                    .map_err(|e| ProjectionError::Unreadable {
                        stream: recorded.stream.clone(),
                        event_id: recorded.event_id,
                        reason: e.to_string(),
                    }),
            )
        })
        .collect()
}

async fn apply_batch(
    pool: &Pool,
    projector: &dyn Projector,
    batch: &[RecordedEvent],
    events: &[Applying<'_>],
    expected: Position,
) -> Result<Applied, ProjectionError> {
    let Some(last) = batch.last() else {
        return Ok(Applied::Through(expected));
    };
    let name = projector.name();
    let mut client = pool.get().await?;
    if !events.iter().any(|e| projector.cares_about(&e.event)) {
        // Nothing for this read model: move the checkpoint if it is still where we left it.
        let moved =
            checkpoints::advance(&client, name, expected, last.position, batch.len()).await?;
        drop(client);
        if moved {
            return Ok(Applied::Through(last.position));
        }
        return Ok(Applied::Moved(checkpoints::load(pool, name).await?));
    }
    let tx = client.transaction().await?;
    tx.batch_execute(COMMIT_WITHOUT_WAITING_SQL).await?;
    let stored = checkpoints::lock(&tx, name).await?;
    if stored != expected {
        return Ok(Applied::Moved(stored));
    }
    projector.apply(&tx, events).await?;
    // The row is locked and at `expected`: it moves.
    checkpoints::advance(&tx, name, expected, last.position, batch.len()).await?;
    tx.commit().await?;
    Ok(Applied::Through(last.position))
}

/// Empties the read models of `projectors` and replays the whole log into them. Safe while
/// servers run: their runners notice the reset checkpoint and follow from it.
pub async fn rebuild(
    log: &dyn EventLog,
    pool: &Pool,
    projectors: &[Arc<dyn Projector>],
) -> Result<Vec<(&'static str, u64)>, ProjectionError> {
    for projector in projectors {
        checkpoints::load(pool, projector.name()).await?;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        checkpoints::lock(&tx, projector.name()).await?;
        // Table names come from the projector's own constant list, never from input.
        let tables = projector.tables().join(", ");
        tx.batch_execute(&format!("TRUNCATE {tables}")).await?;
        checkpoints::reset(&tx, projector.name()).await?;
        tx.commit().await?;
    }
    // The log is read and decoded once; each batch goes to every projector at once, each in
    // a transaction of its own (their tables are disjoint).
    let mut checkpoints = vec![Position::START; projectors.len()];
    let mut applied = vec![0u64; projectors.len()];
    let mut batch = log.read_all(Position::START, REBUILD_BATCH).await?;
    while let Some(last) = batch.last().map(|e| e.position) {
        let events = parse(&batch)?;
        // The next batch is read while this one is applied.
        let applying = futures_util::future::join_all(projectors.iter().zip(&checkpoints).map(
            |(projector, checkpoint)| apply_batch(pool, &**projector, &batch, &events, *checkpoint),
        ));
        let (results, following) = tokio::join!(applying, log.read_all(last, REBUILD_BATCH));
        for (n, result) in results.into_iter().enumerate() {
            match result? {
                Applied::Through(reached) => {
                    applied[n] += batch.len() as u64;
                    checkpoints[n] = reached;
                }
                // A running server applied this batch first; it carries on from there.
                Applied::Moved(stored) => checkpoints[n] = stored,
            }
        }
        drop(events);
        batch = following?;
    }
    Ok(projectors
        .iter()
        .zip(applied)
        .map(|(projector, applied)| (projector.name(), applied))
        .collect())
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
