//! Verifying read models against the log: each read model is rebuilt from the log into a
//! scratch copy at exactly the position of the live model, and the two are compared table
//! by table, row by row. A read model that differs from what the log makes of it has lost,
//! doubled or misfolded an event, or was changed by hand; this says where.
//!
//! How one position is guaranteed while servers keep serving (and their projectors keep
//! moving):
//! 1. A `REPEATABLE READ READ ONLY` transaction reads every live checkpoint; its snapshot
//!    fixes them, and later the live tables are read in the same snapshot. A checkpoint and
//!    its read model move in one transaction, so in one snapshot they agree. The transaction
//!    reads only, so it never gets a transaction id and stalls no log reader (see the log's
//!    ordering guarantee in docs/architecture.md); what it does hold back is vacuum's
//!    clean-up of rows changed meanwhile, for as long as the verification runs.
//! 2. On a second session, the scratch copies are made as temporary tables named like the
//!    live ones, `LIKE` them (`scratch`). The projectors' SQL names tables unqualified and
//!    the session's temporary schema comes first in its search path, so each projector's own
//!    `apply` writes the copies. The log is read once from its start, in batches, and each
//!    projector is given the events up to and including its live checkpoint, not one more.
//! 3. Both sides are read ordered by each table's primary key (found in the catalog, not
//!    written here) through cursors, a page at a time, and merged in Rust (`compare`):
//!    memory stays small whatever the tables' size.
//!
//! The scratch copies live in the session's temporary schema: PostgreSQL drops them when the
//! session ends, which it does when the verification ends, fails, or its process dies. Both
//! sessions are taken out of the pool for good, so no pooled connection ever sees the
//! scratch tables in place of the live ones.
//!
//! What is compared is each projector's `tables()`. The checkpoint row is not: its ETag
//! positions, `events_applied` and `updated_at` record where and when the live runner cut
//! its batches, which a rebuild cuts elsewhere. A projector writes nothing but its tables
//! and its checkpoint row (a rebuild's copy of the checkpoint table has no rows, so the
//! ETag updates there change nothing).

mod compare;
mod scratch;

use crate::runner::stored_position;
use crate::{ProjectionError, Projector};
use boxoffice_eventstore::{EventLog, Position};
use deadpool_postgres::Pool;
use serde::Serialize;
use std::sync::Arc;
use tokio_postgres::IsolationLevel;

const LIVE_SCHEMA_SQL: &str = include_str!("sql/live_schema.sql");

/// How many differences of one table a report lists (all are counted).
pub const SHOWN: usize = 20;

/// A verification of some read models, each at the position of its live checkpoint.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    /// Events of the log read to rebuild them (up to the furthest checkpoint).
    pub events: u64,
    pub read_models: Vec<ReadModelReport>,
}

impl Verification {
    /// Whether every read model equals its rebuild.
    pub fn equal(&self) -> bool {
        self.read_models.iter().all(ReadModelReport::equal)
    }

    /// Rows that differ, in every table of every read model.
    pub fn differences(&self) -> u64 {
        self.read_models.iter().map(|m| m.differences()).sum()
    }
}

/// One read model against its rebuild.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadModelReport {
    /// The projector's name (`seat_map`, ...).
    pub read_model: String,
    /// The live checkpoint, the position at which both sides are compared.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub position: Position,
    /// Events of the log at or before that position.
    pub events: u64,
    pub tables: Vec<TableReport>,
}

impl ReadModelReport {
    pub fn equal(&self) -> bool {
        self.differences() == 0
    }

    pub fn differences(&self) -> u64 {
        self.tables.iter().map(|t| t.differences).sum()
    }
}

/// One table against its rebuild.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableReport {
    pub table: String,
    /// Its primary key's columns.
    pub key: Vec<String>,
    pub live_rows: u64,
    pub rebuilt_rows: u64,
    /// Rows that differ: changed, only live, or only rebuilt.
    pub differences: u64,
    /// The first of them (up to [`SHOWN`]) in key order.
    pub shown: Vec<Difference>,
}

/// A row that is not the same on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Difference {
    /// The row's primary key, column by column.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub key: serde_json::Value,
    /// The live row's columns that differ (the whole row when the rebuild has none); null
    /// when only the rebuild has the row.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub live: Option<serde_json::Value>,
    /// The rebuilt row's columns that differ (the whole row when the live model has none);
    /// null when only the live model has the row.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub rebuilt: Option<serde_json::Value>,
}

/// Rebuilds each of `projectors` from `log` in scratch copies, each to exactly the position
/// of its live checkpoint, and compares the copies with the live tables. Safe while servers
/// run. `progress` hears how many events have been read after each batch.
pub async fn verify(
    log: &dyn EventLog,
    pool: &Pool,
    projectors: &[Arc<dyn Projector>],
    progress: impl FnMut(u64),
) -> Result<Verification, ProjectionError> {
    // A session of its own: it lives as long as the snapshot it holds.
    let mut live = deadpool_postgres::Object::take(pool.get().await?);
    let snapshot = live
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut targets = Vec::with_capacity(projectors.len());
    for projector in projectors {
        let position = stored_position(&snapshot, projector.name()).await?;
        targets.push((projector.clone(), position.unwrap_or(Position::START)));
    }
    let mut scratch = scratch::Scratch::open(pool, projectors).await?;
    let rebuilt = scratch.rebuild(log, &targets, progress).await?;
    let copies = scratch.read().await?;
    let mut read_models = Vec::with_capacity(targets.len());
    for ((projector, position), events) in targets.iter().zip(rebuilt.per_projector) {
        let mut tables = Vec::with_capacity(projector.tables().len());
        for table in projector.tables() {
            let schema = snapshot
                .query_opt(LIVE_SCHEMA_SQL, &[table])
                .await?
                .map(|row| row.get::<_, String>("schema"))
                .ok_or_else(|| ProjectionError::Unverifiable {
                    table: table.to_string(),
                    reason: "there is no such table".into(),
                })?;
            tables.push(compare::table(&snapshot, &schema, &copies, table).await?);
        }
        read_models.push(ReadModelReport {
            read_model: projector.name().to_owned(),
            position: *position,
            events,
            tables,
        });
    }
    copies.commit().await?;
    snapshot.commit().await?;
    Ok(Verification {
        events: rebuilt.events,
        read_models,
    })
}
