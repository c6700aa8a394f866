//! The checkpoint table: how far each projector has applied the log, and the position at
//! which its ETag-bearing answers last changed.
//!
//! A checkpoint only ever moves from where its mover read it: [`advance`] names the position
//! it expects, so a runner that lost a race (another process applied the batch, or an
//! operator rebuilt the read model) changes nothing and reads the checkpoint again.

use crate::ProjectionError;
use boxoffice_eventstore::{EventLogError, Position};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use tokio_postgres::{Row, Transaction};

const CREATE_CHECKPOINT_SQL: &str = include_str!("sql/create_checkpoint.sql");
const CHECKPOINT_SQL: &str = include_str!("sql/checkpoint.sql");
const LOCK_CHECKPOINT_SQL: &str = include_str!("sql/lock_checkpoint.sql");
const ADVANCE_CHECKPOINT_SQL: &str = include_str!("sql/advance_checkpoint.sql");
const SWAPPED_CHECKPOINT_SQL: &str = include_str!("sql/swapped_checkpoint.sql");
const CHECKPOINTS_SQL: &str = include_str!("sql/checkpoints.sql");
const ETAG_MOVED_SQL: &str = include_str!("sql/etag_moved.sql");
const ETAG_POSITIONS_SQL: &str = include_str!("sql/etag_positions.sql");

/// A checkpoint row, as `boxoffice projections status` reports it.
pub(super) struct Checkpoint {
    pub name: String,
    pub position: Position,
    pub events_applied: i64,
    pub updated_at: DateTime<Utc>,
}

/// The position at which a projector's ETag-bearing answers last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtagPosition {
    pub projector: String,
    pub commit: i64,
    pub prepare: i64,
}

/// The projector's checkpoint, made at the start of the log if it has none.
pub(crate) async fn load(pool: &Pool, name: &str) -> Result<Position, ProjectionError> {
    let client = pool.get().await?;
    client.execute(CREATE_CHECKPOINT_SQL, &[&name]).await?;
    let row = client.query_one(CHECKPOINT_SQL, &[&name]).await?;
    Ok(position_of(&row))
}

/// The projector's checkpoint as stored, without making one (`None`: it has never run); for
/// readers in a read-only transaction.
pub(crate) async fn stored_position(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<Position>, ProjectionError> {
    let row = client.query_opt(CHECKPOINT_SQL, &[&name]).await?;
    Ok(row.as_ref().map(position_of))
}

/// The projector's checkpoint, locked until `tx` ends.
pub(crate) async fn lock(tx: &impl GenericClient, name: &str) -> Result<Position, ProjectionError> {
    let row = tx.query_one(LOCK_CHECKPOINT_SQL, &[&name]).await?;
    Ok(position_of(&row))
}

/// Moves the checkpoint from `expected` to `to`, counting `events`; false if it was no
/// longer at `expected`.
pub(super) async fn advance(
    client: &impl GenericClient,
    name: &str,
    expected: Position,
    to: Position,
    events: usize,
) -> Result<bool, ProjectionError> {
    let (to, expected) = (stored(to)?, stored(expected)?);
    let moved = client
        .execute(
            ADVANCE_CHECKPOINT_SQL,
            &[
                &name,
                &to.0,
                &to.1,
                &(events as i64),
                &expected.0,
                &expected.1,
            ],
        )
        .await?;
    Ok(moved == 1)
}

/// A rebuilt read model of the projector, having folded `events` events up to `at`, was
/// swapped in (in `tx`, which holds the row [`lock`]ed).
pub(crate) async fn swapped(
    tx: &impl GenericClient,
    name: &str,
    at: Position,
    events: u64,
) -> Result<(), ProjectionError> {
    let (commit, prepare) = stored(at)?;
    tx.execute(
        SWAPPED_CHECKPOINT_SQL,
        &[&name, &commit, &prepare, &(events as i64)],
    )
    .await?;
    Ok(())
}

/// Every checkpoint, by name.
pub(super) async fn all(client: &impl GenericClient) -> Result<Vec<Checkpoint>, ProjectionError> {
    let rows = client.query(CHECKPOINTS_SQL, &[]).await?;
    Ok(rows
        .iter()
        .map(|row| Checkpoint {
            name: row.get("name"),
            position: position_of(row),
            events_applied: row.get("events_applied"),
            updated_at: row.get("updated_at"),
        })
        .collect())
}

/// Records that the batch ending at `at` changed what ETag-bearing queries of `projector`'s
/// read model answer.
pub(crate) async fn etag_moved(
    tx: &Transaction<'_>,
    projector: &str,
    at: Position,
) -> Result<(), tokio_postgres::Error> {
    let (commit, prepare) = at.to_checkpoint().unwrap_or((i64::MAX, i64::MAX));
    tx.execute(ETAG_MOVED_SQL, &[&projector, &commit, &prepare])
        .await?;
    Ok(())
}

/// The positions at which the named projectors' ETag-bearing answers last changed, by name.
pub(crate) async fn etag_positions(
    client: &impl GenericClient,
    projectors: &[&str],
) -> Result<Vec<EtagPosition>, tokio_postgres::Error> {
    // Asked on every discovery request: prepared once per connection.
    let statement = client.prepare_cached(ETAG_POSITIONS_SQL).await?;
    let rows = client.query(&statement, &[&projectors]).await?;
    Ok(rows
        .iter()
        .map(|row| EtagPosition {
            projector: row.get("name"),
            commit: row.get("etag_commit"),
            prepare: row.get("etag_prepare"),
        })
        .collect())
}

fn position_of(row: &Row) -> Position {
    Position::from_checkpoint(row.get("commit_position"), row.get("prepare_position"))
}

/// A position as the checkpoint table stores it.
fn stored(position: Position) -> Result<(i64, i64), ProjectionError> {
    position.to_checkpoint().ok_or_else(|| {
        ProjectionError::Log(EventLogError::Failed(format!(
            "position {position} does not fit a checkpoint"
        )))
    })
}
