//! The rebuild's shadow tables: the schema that holds them, a session per projector that
//! loads them, and the transaction that swaps them in for the live tables.
//!
//! Every session here is taken out of the pool for good: a pooled session whose search path
//! finds the shadow tables first would serve queries from half-built copies. Dropping a
//! session ends it.

use super::Step;
use crate::runner::checkpoints;
use crate::runner::{FeedBatch, ProjectionError, REBUILD_BATCH};
use crate::{Applying, Projector};
use boxoffice_eventstore::{EventLog, Position};
use deadpool_postgres::{ClientWrapper, Object, Pool};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::Transaction;

const ONE_AT_A_TIME_SQL: &str = include_str!("sql/one_at_a_time.sql");
const FRESH_SCHEMA_SQL: &str = include_str!("sql/fresh_schema.sql");
const DROP_SCHEMA_SQL: &str = include_str!("sql/drop_schema.sql");
const CHECKPOINTS_TABLE_SQL: &str = include_str!("sql/checkpoints_table.sql");
const SHADOW_TABLE_SQL: &str = include_str!("sql/shadow_table.sql");
const SHADOW_SESSION_SQL: &str = include_str!("sql/shadow_session.sql");
const SETTLE_TABLE_SQL: &str = include_str!("sql/settle_table.sql");
const SWAP_SETTINGS_SQL: &str = include_str!("sql/swap_settings.sql");
const SWAP_TABLE_SQL: &str = include_str!("sql/swap_table.sql");
const LOCK_TABLES_SQL: &str = include_str!("sql/lock_tables.sql");
const SET_PATH_SQL: &str = include_str!("sql/set_path.sql");

/// How often a swap is tried while queries keep a live table in use (with the wait of each
/// try, `lock_timeout` in swap_settings.sql, and the pauses between, about 15 minutes).
const SWAP_TRIES: u32 = 300;
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The schema and the rebuild's lock, held by one session.
pub(super) struct Shadow {
    control: ClientWrapper,
}

/// One projector's shadow tables and the session that loads them.
pub(super) struct Loader {
    pub projector: Arc<dyn Projector>,
    session: ClientWrapper,
    /// The session's search path without the shadow schema (the live tables), and with it.
    live_path: String,
    shadow_path: String,
    tables: Vec<Table>,
    /// How far the shadow tables have folded the log, and how many events that took.
    pub position: Position,
    pub events: u64,
}

struct Table {
    name: &'static str,
    /// Where the live table is, and the shadow goes.
    live_schema: String,
    /// Indexes made once the table is loaded.
    later: Vec<String>,
}

/// What a try at swapping came to.
pub(super) enum Swap {
    Done,
    /// A live table stayed in use for the whole of the wait, or another was in use at once.
    Busy,
}

impl Shadow {
    /// Takes the rebuild's lock, makes its schema afresh, and a loader with empty shadow
    /// tables for each of `projectors`.
    pub async fn open(
        pool: &Pool,
        projectors: &[Arc<dyn Projector>],
    ) -> Result<(Self, Vec<Loader>), ProjectionError> {
        let control = Object::take(pool.get().await?);
        let mine: bool = control.query_one(ONE_AT_A_TIME_SQL, &[]).await?.get("mine");
        if !mine {
            return Err(ProjectionError::RebuildRunning);
        }
        control.batch_execute(FRESH_SCHEMA_SQL).await?;
        let checkpoints: String = control
            .query_one(CHECKPOINTS_TABLE_SQL, &[])
            .await?
            .get("statement");
        control.batch_execute(&checkpoints).await?;
        let shadow = Self { control };
        let mut loaders = Vec::with_capacity(projectors.len());
        for projector in projectors {
            let mut tables = Vec::new();
            for &table in projector.tables() {
                tables.push(shadow.table(table).await?);
            }
            // Its checkpoint row must exist for the swap to lock it.
            checkpoints::load(pool, projector.name()).await?;
            let session = Object::take(pool.get().await?);
            let paths = session.query_one(SHADOW_SESSION_SQL, &[]).await?;
            loaders.push(Loader {
                projector: projector.clone(),
                live_path: paths.get("live_path"),
                shadow_path: paths.get("shadow_path"),
                session,
                tables,
                position: Position::START,
                events: 0,
            });
        }
        Ok((shadow, loaders))
    }

    /// Makes the shadow copy of `name`, with the keys and unique indexes its projector's
    /// upserts need; the other indexes are kept for later.
    async fn table(&self, name: &'static str) -> Result<Table, ProjectionError> {
        let unrebuildable = |reason: &str| ProjectionError::Unrebuildable {
            table: name.to_owned(),
            reason: reason.to_owned(),
        };
        let rows = self.control.query(SHADOW_TABLE_SQL, &[&name]).await?;
        let first = rows
            .first()
            .ok_or_else(|| unrebuildable("there is no such table"))?;
        let mut table = Table {
            name,
            live_schema: first.get("live_schema"),
            later: Vec::new(),
        };
        for row in &rows {
            let statement: String = row.get("statement");
            // An index's definition is PostgreSQL's, moved onto the shadow table by
            // replacing its table's name: one it did not print as expected is not made
            // on the live table by mistake.
            if !statement.contains("boxoffice_rebuild.") {
                return Err(unrebuildable(&format!("cannot copy `{statement}`")));
            }
            match row.get::<_, i32>("step") {
                2 => table.later.push(statement),
                _ => self.control.batch_execute(&statement).await?,
            }
        }
        Ok(table)
    }

    /// Drops the schema (with whatever shadow tables are left in it) and ends the rebuild.
    pub async fn close(self) -> Result<(), ProjectionError> {
        self.control.batch_execute(DROP_SCHEMA_SQL).await?;
        Ok(())
    }
}

impl Loader {
    /// Folds the batch's events after the shadow's position into the shadow tables.
    pub async fn apply(&mut self, batch: &FeedBatch) -> Result<(), ProjectionError> {
        if batch.last() <= self.position {
            return Ok(());
        }
        let tx = self.session.transaction().await?;
        self.events += fold(&*self.projector, &tx, batch, self.position).await?;
        tx.commit().await?;
        self.position = batch.last();
        Ok(())
    }

    /// Makes the indexes kept for later, and vacuums and analyses each loaded table.
    pub async fn settle(&mut self) -> Result<(), ProjectionError> {
        for table in &self.tables {
            for statement in &table.later {
                self.session.batch_execute(statement).await?;
            }
            let settle: String = self
                .session
                .query_one(SETTLE_TABLE_SQL, &[&table.name])
                .await?
                .get("statement");
            self.session.batch_execute(&settle).await?;
        }
        Ok(())
    }

    /// Swaps the shadow tables in, trying again (after catching up with the log) while long
    /// queries keep a live table in use.
    pub async fn swap(
        &mut self,
        log: &dyn EventLog,
        progress: &mut impl FnMut(Step),
    ) -> Result<(), ProjectionError> {
        let mut pause = FIRST_PAUSE;
        for _ in 0..SWAP_TRIES {
            match self.try_swap(log).await? {
                Swap::Done => return Ok(()),
                Swap::Busy => progress(Step::Waiting {
                    projector: self.projector.name(),
                }),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            self.catch_up(log, None).await?;
        }
        Err(ProjectionError::Unrebuildable {
            table: self
                .tables
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!("queries kept it in use through {SWAP_TRIES} tries to swap it in"),
        })
    }

    /// One try: in one transaction, the live checkpoint locked, the events the live model
    /// has applied and the shadow has not applied to the shadow, the live tables dropped and
    /// the shadows moved into their place, and the checkpoint moved to where the shadow
    /// stands.
    async fn try_swap(&mut self, log: &dyn EventLog) -> Result<Swap, ProjectionError> {
        let name = self.projector.name();
        let tx = self.session.transaction().await?;
        tx.query_one(SET_PATH_SQL, &[&self.live_path]).await?;
        let live = checkpoints::lock(&tx, name).await?;
        // What the shadow will have folded if this transaction commits; a try that gives up
        // rolls the events folded here back, so the loader's own count moves only then.
        let (mut position, mut events) = (self.position, self.events);
        if live > position {
            tx.query_one(SET_PATH_SQL, &[&self.shadow_path]).await?;
            while position < live {
                let mut batch = FeedBatch::read(log, position, REBUILD_BATCH).await?;
                batch.end_at(live);
                if batch.events.is_empty() {
                    return Err(ProjectionError::Unrebuildable {
                        table: name.to_owned(),
                        reason: format!("the log ends before the live checkpoint {live}"),
                    });
                }
                events += fold(&*self.projector, &tx, &batch, position).await?;
                position = batch.last();
            }
            tx.query_one(SET_PATH_SQL, &[&self.live_path]).await?;
        }
        tx.batch_execute(SWAP_SETTINGS_SQL).await?;
        // The first table waited for; the others taken at once or not at all. A query that
        // reads two of them may hold the second while it waits for the first: waiting for
        // the second too would close a circle (PostgreSQL then ends one of the two), so the
        // swap lets go of everything and tries again.
        let (first, rest) = self.tables.split_at(1);
        for (tables, at_once) in [(first, false), (rest, true)] {
            if tables.is_empty() {
                continue;
            }
            let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
            let schemas: Vec<&str> = tables.iter().map(|t| t.live_schema.as_str()).collect();
            let lock: String = tx
                .query_one(LOCK_TABLES_SQL, &[&names, &schemas, &at_once])
                .await?
                .get("statement");
            match tx.batch_execute(&lock).await {
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => return Ok(Swap::Busy),
                locked => locked?,
            }
        }
        for table in &self.tables {
            let statement: String = tx
                .query_one(SWAP_TABLE_SQL, &[&table.name, &table.live_schema])
                .await?
                .get("statement");
            tx.batch_execute(&statement).await?;
        }
        checkpoints::swapped(&tx, name, position, events).await?;
        tx.commit().await?;
        (self.position, self.events) = (position, events);
        Ok(Swap::Done)
    }

    /// Folds the log into the shadow tables from their position, up to `until` or the log's
    /// readable end.
    pub async fn catch_up(
        &mut self,
        log: &dyn EventLog,
        until: Option<Position>,
    ) -> Result<(), ProjectionError> {
        while until.is_none_or(|until| self.position < until) {
            let batch = FeedBatch::read(log, self.position, REBUILD_BATCH).await?;
            if batch.events.is_empty() {
                return Ok(());
            }
            self.apply(&batch).await?;
        }
        Ok(())
    }
}

/// Folds the batch's events after `after` into the tables `tx` finds first; how many events
/// of the log that was.
async fn fold(
    projector: &dyn Projector,
    tx: &Transaction<'_>,
    batch: &FeedBatch,
    after: Position,
) -> Result<u64, ProjectionError> {
    let events: Vec<Applying<'_>> = batch.applying_after(after).collect();
    if events.iter().any(|e| projector.cares_about(e.event)) {
        projector.apply(tx, &events).await?;
    }
    Ok(batch.events.iter().filter(|e| e.position > after).count() as u64)
}
