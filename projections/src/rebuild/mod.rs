//! Rebuilding read models from the log without taking them away. Each projector folds the
//! whole log into shadow copies of its tables, catches up with the live log, and the copies
//! are swapped in for the live tables in one transaction per projector: queries see the old
//! model until the swap commits and the new one after it, never an empty or half-built one.
//!
//! Step by step:
//! 1. One rebuild at a time (an advisory lock held by the rebuild's session). The schema
//!    `boxoffice_rebuild` is made afresh, with an empty copy of each table of the chosen
//!    projectors under its live name, keys and unique indexes included (the projectors'
//!    upserts need them), and an empty copy of the checkpoint table.
//! 2. Loading: the log is read from its start in large batches, each decoded on a blocking
//!    thread while the one before is applied, and given to every projector at once, each on
//!    a session of its own whose search path finds the shadow tables first. The projectors'
//!    own `apply` does the folding, exactly as when they follow the log live.
//! 3. At the log's end, the other indexes are made (one sort each, instead of one insertion
//!    per row while loading), and each table is vacuumed and analysed, so its first queries
//!    after the swap are planned as before. The log grew meanwhile: the shadows catch up.
//! 4. The swap, per projector, in one transaction: the live checkpoint row is locked (a
//!    server's runner holds it while it applies a batch, and waits for it before the next);
//!    whatever the live model has applied and the shadow has not is applied to the shadow;
//!    the live tables are locked, each dropped and its shadow moved into its schema; the
//!    checkpoint moves to where the shadow stands. No event is applied twice or skipped:
//!    servers' runners go on from that checkpoint. The lock waits for the queries reading
//!    the first table, and new queries wait behind it, so it gives up after a second
//!    (`lock_timeout`) when a long one (a verification) holds the table; the projector's
//!    other tables are locked at once or not at all (a query reading two of them could hold
//!    one while waiting for the other: a circle PostgreSQL breaks by ending one). A try that
//!    gives up rolls back everything it did and is tried again after another catch-up.
//! 5. The schema, empty now, is dropped.
//!
//! A rebuild that dies (kill -9, a lost connection) leaves the live read models serving as
//! they were: the swap is one transaction, and the next rebuild drops the shadow tables
//! left behind. Only what the migrations make is carried over (columns, defaults, checks,
//! keys, indexes, their names); grants an operator added by hand to a table are not.

mod shadow;

use crate::runner::{FeedBatch, ProjectionError, REBUILD_BATCH};
use crate::Projector;
use boxoffice_eventstore::{EventLog, Position};
use deadpool_postgres::Pool;
use futures_util::future::try_join_all;
use shadow::{Loader, Shadow};
use std::sync::Arc;

/// How a rebuild is getting on, for a progress bar or a log.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Loading the shadow tables: events of the log folded so far, of about `total` (the
    /// log's length when the rebuild started).
    Loading { done: u64, total: u64 },
    /// The log's end is reached: the remaining indexes are being made and the tables
    /// analysed.
    Settling,
    /// The projector's live tables were in use for the whole of a try to swap: it is tried
    /// again.
    Waiting { projector: &'static str },
    /// The projector's rebuilt read model serves now, folded from `events` events.
    Swapped {
        projector: &'static str,
        events: u64,
    },
}

/// Rebuilds the read models of `projectors` from the log into shadow tables and swaps them
/// in while servers go on serving the live ones; how many events each folded.
pub async fn rebuild(
    log: &dyn EventLog,
    pool: &Pool,
    projectors: &[Arc<dyn Projector>],
    mut progress: impl FnMut(Step),
) -> Result<Vec<(&'static str, u64)>, ProjectionError> {
    let (shadow, mut loaders) = Shadow::open(pool, projectors).await?;
    let rebuilt = run(log, &mut loaders, &mut progress).await;
    // The loading sessions end before the schema goes (they may hold its tables).
    drop(loaders);
    let closed = shadow.close().await;
    let rebuilt = rebuilt?;
    closed?;
    Ok(rebuilt)
}

async fn run(
    log: &dyn EventLog,
    loaders: &mut [Loader],
    progress: &mut impl FnMut(Step),
) -> Result<Vec<(&'static str, u64)>, ProjectionError> {
    let total = log.lag(Position::START).await?.events;
    load(log, loaders, Position::START, |done| {
        progress(Step::Loading { done, total })
    })
    .await?;
    progress(Step::Settling);
    try_join_all(loaders.iter_mut().map(Loader::settle)).await?;
    // What the log gained meanwhile, read once for all of them.
    if let Some(reached) = loaders.iter().map(|l| l.position).min() {
        load(log, loaders, reached, |_| {}).await?;
    }
    let mut rebuilt = Vec::with_capacity(loaders.len());
    for loader in loaders.iter_mut() {
        loader.catch_up(log, None).await?;
        loader.swap(log, progress).await?;
        let (projector, events) = (loader.projector.name(), loader.events);
        progress(Step::Swapped { projector, events });
        rebuilt.push((projector, events));
    }
    Ok(rebuilt)
}

/// Reads the log from `from` to its readable end once for every loader, the next batch
/// read and decoded while the loaders apply the one before, each on its own session.
async fn load(
    log: &dyn EventLog,
    loaders: &mut [Loader],
    from: Position,
    mut done: impl FnMut(u64),
) -> Result<(), ProjectionError> {
    let (batches, mut next) = tokio::sync::mpsc::channel(1);
    let reading = async move {
        let mut after = from;
        loop {
            let batch = FeedBatch::read(log, after, REBUILD_BATCH).await;
            let end = match &batch {
                Ok(batch) => {
                    after = batch.last();
                    batch.events.is_empty()
                }
                Err(_) => true,
            };
            // The loaders stopped (they failed): nothing more to read for.
            if batches.send(batch).await.is_err() || end {
                return;
            }
        }
    };
    // Owning the receiver: if a loader fails, the reader's next send fails and it stops.
    let applying = async move {
        let mut read = 0u64;
        while let Some(batch) = next.recv().await {
            let batch = batch?;
            if batch.events.is_empty() {
                break;
            }
            try_join_all(loaders.iter_mut().map(|loader| loader.apply(&batch))).await?;
            read += batch.events.len() as u64;
            done(read);
        }
        Ok(())
    };
    let ((), applied) = tokio::join!(reading, applying);
    applied
}
