//! A verification's scratch copies: a session of its own, taken out of the pool for good, in
//! whose temporary schema each read-model table (and the checkpoint table its projector
//! touches) is made again, empty, under its live name. The projectors' own `apply` then folds
//! the log into the copies, each projector up to exactly the position it is told.
//!
//! It must never hand its session back to the pool: there, the temporary tables would stand
//! in for the live ones. Dropping it ends the session, and PostgreSQL drops the copies.

use crate::runner::{applying, decode, REBUILD_BATCH};
use crate::{Applying, ProjectionError, Projector};
use boxoffice_eventstore::{EventLog, Position};
use deadpool_postgres::{ClientWrapper, Pool, Transaction};
use futures_util::future::OptionFuture;
use std::sync::Arc;

const SCRATCH_SESSION_SQL: &str = include_str!("sql/scratch_session.sql");
const SCRATCH_TABLE_SQL: &str = include_str!("sql/scratch_table.sql");

/// Where projectors keep their checkpoints; copied so their ETag updates land in the copy.
const CHECKPOINTS: &str = "projection_checkpoints";

pub(super) struct Scratch {
    session: ClientWrapper,
}

/// What a rebuild read.
pub(super) struct Rebuilt {
    /// Events read from the log.
    pub events: u64,
    /// Events at or before each projector's position, in the order of the targets.
    pub per_projector: Vec<u64>,
}

impl Scratch {
    /// A session with an empty copy of every table of `projectors`.
    pub async fn open(
        pool: &Pool,
        projectors: &[Arc<dyn Projector>],
    ) -> Result<Self, ProjectionError> {
        let session = deadpool_postgres::Object::take(pool.get().await?);
        let mut tables: Vec<&'static str> = projectors
            .iter()
            .flat_map(|p| p.tables().iter().copied())
            .collect();
        tables.push(CHECKPOINTS);
        for table in tables {
            // Made before the search path changes, and each before its copy exists: the name
            // still finds the live table.
            let statement: String = session
                .query_opt(SCRATCH_TABLE_SQL, &[&table])
                .await?
                .map(|row| row.get("statement"))
                .ok_or_else(|| ProjectionError::Unverifiable {
                    table: table.to_owned(),
                    reason: "there is no such table".into(),
                })?;
            session.batch_execute(&statement).await?;
        }
        session.query_one(SCRATCH_SESSION_SQL, &[]).await?;
        Ok(Self { session })
    }

    /// Reads the log from its start and gives each projector every event at or before its
    /// position, in batches, each in a transaction of its own on the copies.
    pub async fn rebuild(
        &mut self,
        log: &dyn EventLog,
        targets: &[(Arc<dyn Projector>, Position)],
        mut progress: impl FnMut(u64),
    ) -> Result<Rebuilt, ProjectionError> {
        let end = targets
            .iter()
            .map(|(_, position)| *position)
            .max()
            .unwrap_or(Position::START);
        let mut rebuilt = Rebuilt {
            events: 0,
            per_projector: vec![0; targets.len()],
        };
        if end == Position::START {
            return Ok(rebuilt);
        }
        let mut batch = log.read_all(Position::START, REBUILD_BATCH).await?;
        loop {
            let within = batch.partition_point(|e| e.position <= end);
            let reached_end = within < batch.len() || batch.len() < REBUILD_BATCH;
            batch.truncate(within);
            let Some(last) = batch.last().map(|e| e.position) else {
                break;
            };
            let decoded = decode(&batch)?;
            let events: Vec<Applying<'_>> = applying(&batch, &decoded).collect();
            // The next batch is read while this one is applied.
            let following: OptionFuture<_> = if reached_end || last >= end {
                None
            } else {
                Some(log.read_all(last, REBUILD_BATCH))
            }
            .into();
            // What each projector is given: the events up to its position, if it cares.
            let mut given = Vec::with_capacity(targets.len());
            for (n, (projector, position)) in targets.iter().enumerate() {
                rebuilt.per_projector[n] +=
                    batch.partition_point(|e| e.position <= *position) as u64;
                // Parsing skips streams no projector reads: the parsed events are cut apart.
                let mine = &events[..events.partition_point(|e| e.recorded.position <= *position)];
                if mine.iter().any(|e| projector.cares_about(e.event)) {
                    given.push((projector.as_ref(), mine));
                }
            }
            let applying = apply(&mut self.session, given);
            let (applied, following) = tokio::join!(applying, following);
            applied?;
            rebuilt.events += batch.len() as u64;
            progress(rebuilt.events);
            drop(events);
            drop(decoded);
            batch = following.transpose()?.unwrap_or_default();
        }
        Ok(rebuilt)
    }

    /// A read-only transaction over the copies, for the comparison.
    pub async fn read(&mut self) -> Result<Transaction<'_>, ProjectionError> {
        Ok(self
            .session
            .build_transaction()
            .read_only(true)
            .start()
            .await?)
    }
}

/// Each projector's events applied to the copies, in a transaction of its own.
async fn apply(
    session: &mut ClientWrapper,
    given: Vec<(&dyn Projector, &[Applying<'_>])>,
) -> Result<(), ProjectionError> {
    for (projector, events) in given {
        let tx = session.transaction().await?;
        projector.apply(&tx, events).await?;
        tx.commit().await?;
    }
    Ok(())
}
