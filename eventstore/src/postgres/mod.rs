//! The PostgreSQL event log: the embedded default, in the same database as the read models.
//!
//! Appends are one statement: a CTE moves the stream's head row (`streams`) from the expected
//! version to the new one, and one multi-row INSERT (over `unnest` arrays) writes the events.
//! The head row is the only lock an append takes, and only on its own stream, so shows never
//! wait for each other. A head that is not where the append expected means zero rows: a
//! typed [`EventLogError::WrongExpectedVersion`], never a partial write.
//!
//! # Group commit
//!
//! [`EventLog::append_many`] writes many streams' batches in one statement and one commit
//! (`sql/append_group.sql`): the head rows of the streams are locked in stream order, each is
//! moved only if it is where its batch expects, and only the events of the streams that moved
//! are inserted, so a stream that conflicts is left out and the others commit. A group that
//! fails as a whole (an event id already in the log: a retried batch) is split up and each
//! batch appended alone, so that only the culprit fails.
//!
//! # Turns
//!
//! [`EventLog::turn`] is a transaction holding the stream's advisory lock: writers of several
//! processes that contend for one show take turns (read the tail, decide, append, commit)
//! instead of racing and deciding again. Every append takes the turns of its streams too
//! (first, in the order of the locks' keys), so an append that does not take turns waits
//! for one that does and then finds the head moved: otherwise a process that never lost a
//! race (and so never took turns) could keep winning against one that always waits for its
//! turn.
//!
//! # Ordering guarantee
//!
//! Sequence numbers (`position`) are handed out at insert time, not commit time, so a
//! transaction holding position 10 can commit after one holding 11. A reader that paged by
//! position alone would read 11, remember it, and skip 10 for ever. Each row therefore also
//! records its transaction id (`xid`); readers order by `(xid, position)` and only return
//! events whose `xid` is below the current snapshot's `xmin`, the oldest transaction still
//! running. Every transaction below `xmin` has ended, so no event can ever appear in front of
//! one already returned. The price: an event becomes readable once every transaction that
//! began before its own has ended (usually a millisecond or two). Commits send a NOTIFY; a
//! listener task turns it into a wake-up for subscriptions, which also poll as a fallback.
//!
//! # The hash chain
//!
//! Each append computes its events' hashes ([`crate::chain`]) from the hash of the event at
//! the version it expects, which this log remembers per stream from its last append or
//! read (an event's hash never changes, so a remembered one is right for its version for
//! ever; one not remembered is one indexed read). An append that expects `Any` reads the
//! stream's head and appends at it, trying again if the head moves, so every event chains
//! to the one really before it.

mod listener;

use crate::chain::{self, EventHash, Heads};
use crate::{
    repeated_stream, repeated_streams, AppendResult, EventLog, EventLogError, ExpectedVersion, Lag,
    Metadata, NewEvent, Position, RecordedEvent, StreamAppend, StreamTurn, Subscription,
};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

const NO_STREAM_SQL: &str = concat!(
    include_str!("sql/head_no_stream.sql"),
    include_str!("sql/append_events.sql")
);
const EXACT_SQL: &str = concat!(
    include_str!("sql/head_exact.sql"),
    include_str!("sql/append_events.sql")
);
const GROUP_SQL: &str = include_str!("sql/append_group.sql");
/// A stream's write turn: its advisory lock, for the rest of the transaction (the lock's key
/// is a 64-bit hash of the stream's name; two streams sharing one only take turns together).
const TURN_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
const READ_STREAM_SQL: &str = include_str!("sql/read_stream.sql");
const READ_ALL_SQL: &str = include_str!("sql/read_all.sql");
const HEAD_SQL: &str = include_str!("sql/head.sql");
const HEAD_OF_SQL: &str = include_str!("sql/head_of.sql");
const HASH_AT_SQL: &str = include_str!("sql/hash_at.sql");
const LAG_SQL: &str = include_str!("sql/lag.sql");

/// The schema steps of the event log, applied by [`crate::migrations::apply`].
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/001_events.sql"),
    include_str!("sql/002_event_hashes.sql"),
];

/// How often an idle subscription looks for events even without a notification (the
/// listener may be reconnecting).
const IDLE_POLL: Duration = Duration::from_millis(1000);

#[derive(Clone)]
pub struct PgEventLog {
    pool: Pool,
    wake: watch::Receiver<u64>,
    /// What the next append of each stream chains to.
    heads: Arc<Heads>,
    _listener: Arc<listener::Listener>,
}

/// `url` (a `postgres://` URL) with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{database}?{query}"),
        None => format!("{host_part}/{database}"),
    }
}

/// Connection settings for the pool every part of the server shares.
pub fn pool(config: &tokio_postgres::Config, size: usize) -> Pool {
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(3)))
        .recycle_timeout(Some(Duration::from_secs(3)))
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

impl PgEventLog {
    /// Uses `pool` for reads and appends and opens one more connection to LISTEN.
    pub fn new(pool: Pool, config: &tokio_postgres::Config) -> Self {
        let (listener, wake) = listener::Listener::spawn(config.clone());
        Self {
            pool,
            wake,
            heads: Arc::default(),
            _listener: Arc::new(listener),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Appends inside a transaction the caller controls (to write other rows atomically with
    /// the events, or, in tests, to commit appends in a chosen order).
    pub async fn append_in(
        tx: &tokio_postgres::Transaction<'_>,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError> {
        let (expected, previous) = match expected {
            ExpectedVersion::Any => match head_of(tx, stream).await? {
                Some((version, hash)) => (ExpectedVersion::Exact(version), hash),
                None => (ExpectedVersion::NoStream, EventHash::GENESIS),
            },
            ExpectedVersion::NoStream => (expected, EventHash::GENESIS),
            ExpectedVersion::Exact(version) => (expected, hash_at(tx, stream, version).await?),
        };
        let batch = Batch::new(stream, expected, previous, &events)?;
        let rows = tx
            .query(batch.sql(), &batch.params())
            .await
            .map_err(|e| batch.error(e))?;
        match batch.result(&rows)? {
            Some(result) => Ok(result),
            None => {
                let actual = current_version(tx, stream).await?;
                Err(batch.conflict(actual))
            }
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, EventLogError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// The version to append at and the hash to chain to.
    async fn chain_point<C: tokio_postgres::GenericClient>(
        &self,
        client: &C,
        stream: &str,
        expected: ExpectedVersion,
    ) -> Result<(ExpectedVersion, EventHash), EventLogError> {
        Ok(match expected {
            ExpectedVersion::NoStream => (expected, EventHash::GENESIS),
            ExpectedVersion::Exact(version) => match self.heads.at(stream, version) {
                Some(hash) => (expected, hash),
                None => (expected, hash_at(client, stream, version).await?),
            },
            ExpectedVersion::Any => match head_of(client, stream).await? {
                Some((version, hash)) => (ExpectedVersion::Exact(version), hash),
                None => (ExpectedVersion::NoStream, EventHash::GENESIS),
            },
        })
    }
}

impl PgEventLog {
    /// One stream's events from `from_version` on `client` (in a turn, or alone).
    async fn read_stream_on(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        let statement = client
            .prepare_cached(READ_STREAM_SQL)
            .await
            .map_err(db_error)?;
        let rows = client
            .query(
                &statement,
                &[&stream, &to_i64(from_version), &to_i64(limit as u64)],
            )
            .await
            .map_err(db_error)?;
        let events: Vec<RecordedEvent> = rows.iter().map(recorded).collect::<Result<_, _>>()?;
        self.heads.remember_read(&events);
        Ok(events)
    }

    /// One stream's append on `client` (in a transaction of the caller's, or alone).
    async fn append_on(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<AppendResult, EventLogError> {
        loop {
            let (at, previous) = self.chain_point(&**client, stream, expected).await?;
            let batch = Batch::new(stream, at, previous, events)?;
            let statement = client.prepare_cached(batch.sql()).await.map_err(db_error)?;
            let rows = client
                .query(&statement, &batch.params())
                .await
                .map_err(|e| batch.error(e))?;
            match batch.result(&rows)? {
                Some(result) => {
                    self.heads
                        .remember(stream, result.last_version, batch.last_hash());
                    return Ok(result);
                }
                // Appending at whatever the head is: it moved since it was read.
                None if expected == ExpectedVersion::Any => continue,
                None => {
                    let actual = current_version(&**client, stream).await?;
                    return Err(batch.conflict(actual));
                }
            }
        }
    }

    /// The batches `which` of `appends` (each `NoStream` or `Exact`, each stream once) in one
    /// statement: an answer per batch in that order, or an error for the whole statement.
    async fn append_group(
        &self,
        appends: &[StreamAppend],
        which: &[usize],
    ) -> Result<Option<Vec<Result<AppendResult, EventLogError>>>, EventLogError> {
        let client = self.client().await?;
        let mut group = Group::default();
        for &i in which {
            let append = &appends[i];
            let (at, previous) = self
                .chain_point(&**client, &append.stream, append.expected)
                .await?;
            group.add(&append.stream, at, previous, &append.events)?;
        }
        let statement = client.prepare_cached(GROUP_SQL).await.map_err(db_error)?;
        let rows = match client.query(&statement, &group.params()).await {
            Ok(rows) => rows,
            Err(error) => return Group::error(error).map_or(Ok(None), Err),
        };
        let mut written: HashMap<String, AppendResult> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let (Some(version), Some(xid), Some(position)) = (
                row.get::<_, Option<i64>>(1),
                row.get::<_, Option<i64>>(2),
                row.get::<_, Option<i64>>(3),
            ) else {
                continue;
            };
            written.insert(
                row.get(0),
                AppendResult {
                    last_version: from_i64(version),
                    position: Position::new(from_i64(xid), from_i64(position)),
                },
            );
        }
        let missed: Vec<&str> = group
            .streams
            .iter()
            .copied()
            .filter(|stream| !written.contains_key(*stream))
            .collect();
        let actual = if missed.is_empty() {
            HashMap::new()
        } else {
            current_versions(&**client, &missed).await?
        };
        Ok(Some(
            group
                .streams
                .iter()
                .zip(&group.expected)
                .zip(&group.last_hashes)
                .map(
                    |((stream, expected), last_hash)| match written.get(*stream) {
                        Some(result) => {
                            self.heads.remember(stream, result.last_version, *last_hash);
                            Ok(*result)
                        }
                        None => Err(EventLogError::WrongExpectedVersion {
                            stream: (*stream).to_owned(),
                            expected: *expected,
                            actual: ExpectedVersion::after(actual.get(*stream).copied()),
                        }),
                    },
                )
                .collect(),
        ))
    }
}

#[async_trait]
impl EventLog for PgEventLog {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError> {
        let client = self.client().await?;
        self.append_on(&client, stream, expected, &events).await
    }

    async fn turn(&self, stream: &str) -> Result<Option<Box<dyn StreamTurn>>, EventLogError> {
        let client = self.client().await?;
        client.batch_execute("BEGIN").await.map_err(db_error)?;
        let turn = PgTurn {
            log: self.clone(),
            stream: stream.to_owned(),
            client: Some(client),
        };
        let client = turn.client();
        let statement = client.prepare_cached(TURN_SQL).await.map_err(db_error)?;
        client
            .execute(&statement, &[&stream])
            .await
            .map_err(db_error)?;
        Ok(Some(Box::new(turn)))
    }

    async fn append_many(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Vec<Result<AppendResult, EventLogError>> {
        let mut answers: Vec<Option<Result<AppendResult, EventLogError>>> =
            appends.iter().map(|_| None).collect();
        let repeated = repeated_streams(&appends);
        // Batches appending at whatever the head is, and lone batches, take the one-stream
        // path (which follows a moving head); the rest go in together.
        let mut group = Vec::new();
        for (i, append) in appends.iter().enumerate() {
            if repeated.contains(&i) {
                answers[i] = Some(Err(repeated_stream(&append.stream)));
            } else if append.events.is_empty() {
                answers[i] = Some(Err(EventLogError::EmptyAppend));
            } else if append.expected != ExpectedVersion::Any {
                group.push(i);
            }
        }
        if group.len() > 1 {
            match self.append_group(&appends, &group).await {
                Ok(Some(results)) => {
                    for (i, result) in group.iter().zip(results) {
                        answers[*i] = Some(result);
                    }
                }
                // Split up: each batch alone below.
                Ok(None) => {}
                Err(error) => {
                    for i in &group {
                        answers[*i] = Some(Err(error.clone()));
                    }
                }
            }
        }
        let alone = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| answer.is_none())
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        // Appended from the group's own events: a lone batch (a hot show's, every time) is
        // not copied.
        let singles = alone.iter().map(|&i| {
            let append = &appends[i];
            async move {
                let client = self.client().await?;
                self.append_on(&client, &append.stream, append.expected, &append.events)
                    .await
            }
        });
        let results = futures_util::future::join_all(singles).await;
        for (i, result) in alone.into_iter().zip(results) {
            answers[i] = Some(result);
        }
        answers
            .into_iter()
            .map(|answer| answer.expect("every batch is answered above"))
            .collect()
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        let client = self.client().await?;
        self.read_stream_on(&client, stream, from_version, limit)
            .await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(READ_ALL_SQL)
            .await
            .map_err(db_error)?;
        let rows = client
            .query(
                &statement,
                &[
                    &to_i64(after.commit),
                    &to_i64(after.prepare),
                    &to_i64(limit as u64),
                ],
            )
            .await
            .map_err(db_error)?;
        rows.iter().map(recorded).collect()
    }

    async fn subscribe(&self, after: Position) -> Result<Box<dyn Subscription>, EventLogError> {
        Ok(Box::new(PgSubscription {
            log: self.clone(),
            after,
            wake: self.wake.clone(),
        }))
    }

    async fn head(&self) -> Result<Position, EventLogError> {
        let client = self.client().await?;
        let row = client.query_opt(HEAD_SQL, &[]).await.map_err(db_error)?;
        Ok(row.map_or(Position::START, |row| {
            Position::new(from_i64(row.get(0)), from_i64(row.get(1)))
        }))
    }

    async fn last_recorded(&self) -> Result<Position, EventLogError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT xid, position FROM events ORDER BY xid DESC, position DESC LIMIT 1",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map_or(Position::START, |row| {
            Position::new(from_i64(row.get(0)), from_i64(row.get(1)))
        }))
    }

    async fn is_recorded(&self, position: Position) -> Result<bool, EventLogError> {
        let (Ok(xid), Ok(sequence)) = (
            i64::try_from(position.commit),
            i64::try_from(position.prepare),
        ) else {
            return Ok(false);
        };
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM events WHERE position = $2 AND xid = $1)",
                &[&xid, &sequence],
            )
            .await
            .map_err(db_error)?;
        Ok(row.get(0))
    }

    async fn count(&self, stream: Option<&str>) -> Result<Option<u64>, EventLogError> {
        let client = self.client().await?;
        let row = match stream {
            Some(stream) => {
                client
                    .query_one(
                        "SELECT coalesce(max(version) + 1, 0) FROM events WHERE stream = $1",
                        &[&stream],
                    )
                    .await
            }
            None => client.query_one("SELECT count(*) FROM events", &[]).await,
        }
        .map_err(db_error)?;
        Ok(Some(from_i64(row.get(0))))
    }

    /// Two index probes, however far behind `after` is: the oldest event after it and the
    /// newest readable one, whose sequence numbers' difference is the estimate.
    async fn lag(&self, after: Position) -> Result<Lag, EventLogError> {
        let client = self.client().await?;
        let row = client
            .query_opt(LAG_SQL, &[&to_i64(after.commit), &to_i64(after.prepare)])
            .await
            .map_err(db_error)?;
        Ok(row.map_or_else(Lag::default, |row| Lag {
            events: from_i64(row.get("events")),
            oldest: Some(row.get("recorded_at")),
        }))
    }
}

/// A stream's write turn: a transaction holding the stream's advisory lock
/// (`pg_advisory_xact_lock`), on a connection of its own until it commits or rolls back.
struct PgTurn {
    log: PgEventLog,
    stream: String,
    /// `None` once the turn is over.
    client: Option<deadpool_postgres::Object>,
}

impl PgTurn {
    fn client(&self) -> &deadpool_postgres::Object {
        self.client
            .as_ref()
            .expect("a turn is used only while it lasts")
    }
}

#[async_trait]
impl StreamTurn for PgTurn {
    async fn read_stream(
        &mut self,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, EventLogError> {
        self.log
            .read_stream_on(self.client(), &self.stream, from_version, limit)
            .await
    }

    async fn append(
        mut self: Box<Self>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError> {
        let client = self.client.take().expect("a turn appends once");
        let appended = self
            .log
            .append_on(&client, &self.stream, expected, &events)
            .await;
        let ended = match appended {
            Ok(_) => client.batch_execute("COMMIT").await,
            Err(_) => client.batch_execute("ROLLBACK").await,
        };
        match ended {
            Ok(()) => appended,
            // The connection's state is unknown: keep it out of the pool.
            Err(error) => {
                drop(deadpool_postgres::Object::take(client));
                Err(db_error(error))
            }
        }
    }
}

impl Drop for PgTurn {
    /// A turn given up (or failed) rolls back before its connection goes back to the pool;
    /// a connection that cannot roll back is closed instead.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(deadpool_postgres::Object::take(client));
                    }
                });
            }
            Err(_) => drop(deadpool_postgres::Object::take(client)),
        }
    }
}

struct PgSubscription {
    log: PgEventLog,
    after: Position,
    wake: watch::Receiver<u64>,
}

#[async_trait]
impl Subscription for PgSubscription {
    async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, EventLogError> {
        // After a wake-up that found nothing readable yet (an older transaction is still
        // running), look again soon, backing off, instead of waiting for the idle poll.
        let mut retry: Option<Duration> = None;
        loop {
            self.wake.borrow_and_update();
            let events = self.log.read_all(self.after, max).await?;
            if let Some(last) = events.last() {
                self.after = last.position;
                return Ok(events);
            }
            let timeout = retry.unwrap_or(IDLE_POLL);
            tokio::select! {
                changed = self.wake.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                    retry = Some(Duration::from_millis(1));
                }
                () = tokio::time::sleep(timeout) => {
                    retry = retry
                        .map(|d| (d * 2).min(Duration::from_millis(250)))
                        .filter(|d| *d < Duration::from_millis(250));
                }
            }
        }
    }
}

/// One append's statement and parameters: its events numbered from the version it
/// expects and chained to the hash of the event there.
struct Batch<'a> {
    stream: &'a str,
    expected: ExpectedVersion,
    count: i64,
    ids: Vec<Uuid>,
    types: Vec<&'a str>,
    versions: Vec<i32>,
    data: Vec<&'a serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    hashes: Vec<Vec<u8>>,
    last_hash: EventHash,
    expected_version: i64,
}

impl<'a> Batch<'a> {
    /// `expected` is `NoStream` or `Exact`: an append at `Any` is resolved first.
    fn new(
        stream: &'a str,
        expected: ExpectedVersion,
        previous: EventHash,
        events: &'a [NewEvent],
    ) -> Result<Self, EventLogError> {
        if events.is_empty() {
            return Err(EventLogError::EmptyAppend);
        }
        let count = events.len() as i64;
        let first_version = match expected {
            ExpectedVersion::Exact(v) => v + 1,
            _ => 0,
        };
        let links = chain::link(stream, first_version, previous, events, chrono::Utc::now());
        let mut batch = Batch {
            stream,
            expected,
            count,
            ids: Vec::with_capacity(events.len()),
            types: Vec::with_capacity(events.len()),
            versions: Vec::with_capacity(events.len()),
            data: Vec::with_capacity(events.len()),
            metadata: Vec::with_capacity(events.len()),
            recorded_at: Vec::with_capacity(events.len()),
            hashes: Vec::with_capacity(events.len()),
            last_hash: links.last().map_or(previous, |(_, hash)| *hash),
            expected_version: match expected {
                ExpectedVersion::Exact(v) => to_i64(v),
                _ => -1,
            },
        };
        for (event, (recorded_at, hash)) in events.iter().zip(links) {
            batch.hashes.push(hash.0.to_vec());
            batch.recorded_at.push(recorded_at);
            batch.ids.push(event.event_id);
            batch.types.push(&event.event_type);
            batch.versions.push(event.schema_version);
            batch.data.push(&event.data);
            batch.metadata.push(
                serde_json::to_value(&event.metadata)
                    .map_err(|e| EventLogError::Failed(e.to_string()))?,
            );
        }
        Ok(batch)
    }

    fn sql(&self) -> &'static str {
        match self.expected {
            ExpectedVersion::Exact(_) => EXACT_SQL,
            ExpectedVersion::NoStream | ExpectedVersion::Any => NO_STREAM_SQL,
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.stream,
            &self.count,
            &self.ids,
            &self.types,
            &self.versions,
            &self.data,
            &self.metadata,
            &self.recorded_at,
            &self.hashes,
        ];
        if matches!(self.expected, ExpectedVersion::Exact(_)) {
            params.push(&self.expected_version);
        }
        params
    }

    fn last_hash(&self) -> EventHash {
        self.last_hash
    }

    fn result(&self, rows: &[Row]) -> Result<Option<AppendResult>, EventLogError> {
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let version: Option<i64> = row.get(0);
        let xid: Option<i64> = row.get(1);
        let position: Option<i64> = row.get(2);
        Ok(match (version, xid, position) {
            (Some(version), Some(xid), Some(position)) => Some(AppendResult {
                last_version: from_i64(version),
                position: Position::new(from_i64(xid), from_i64(position)),
            }),
            _ => None,
        })
    }

    fn conflict(&self, actual: Option<u64>) -> EventLogError {
        EventLogError::WrongExpectedVersion {
            stream: self.stream.to_owned(),
            expected: self.expected,
            actual: ExpectedVersion::after(actual),
        }
    }

    /// A unique violation on the event id means this very batch (same deterministic ids) was
    /// appended before: a retry. One on the version means a racing append won.
    fn error(&self, error: tokio_postgres::Error) -> EventLogError {
        if let Some(db) = error.as_db_error() {
            if db.code() == &SqlState::UNIQUE_VIOLATION {
                if db.constraint() == Some("events_event_id_key") {
                    let id = self.ids.first().copied().unwrap_or_default();
                    return EventLogError::DuplicateEvent(id);
                }
                if db.constraint() == Some("events_stream_version_key") {
                    return self.conflict(None);
                }
            }
        }
        db_error(error)
    }
}

/// A group append's statement parameters: one element per stream in the first three
/// arrays, one per event in the rest.
#[derive(Default)]
struct Group<'a> {
    streams: Vec<&'a str>,
    expected: Vec<ExpectedVersion>,
    expected_versions: Vec<i64>,
    counts: Vec<i64>,
    last_hashes: Vec<EventHash>,
    event_streams: Vec<&'a str>,
    event_versions: Vec<i64>,
    ids: Vec<Uuid>,
    types: Vec<&'a str>,
    versions: Vec<i32>,
    data: Vec<&'a serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    hashes: Vec<Vec<u8>>,
}

impl<'a> Group<'a> {
    /// Adds one stream's batch, numbered from `expected` (`NoStream` or `Exact`) and chained
    /// to `previous`.
    fn add(
        &mut self,
        stream: &'a str,
        expected: ExpectedVersion,
        previous: EventHash,
        events: &'a [NewEvent],
    ) -> Result<(), EventLogError> {
        let batch = Batch::new(stream, expected, previous, events)?;
        let first_version = batch.expected_version + 1;
        self.streams.push(stream);
        self.expected.push(expected);
        self.expected_versions.push(batch.expected_version);
        self.counts.push(batch.count);
        self.last_hashes.push(batch.last_hash);
        self.event_streams
            .extend(std::iter::repeat_n(stream, events.len()));
        self.event_versions
            .extend((0..batch.count).map(|n| first_version + n));
        self.ids.extend(batch.ids);
        self.types.extend(batch.types);
        self.versions.extend(batch.versions);
        self.data.extend(batch.data);
        self.metadata.extend(batch.metadata);
        self.recorded_at.extend(batch.recorded_at);
        self.hashes.extend(batch.hashes);
        Ok(())
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.streams,
            &self.expected_versions,
            &self.counts,
            &self.event_streams,
            &self.event_versions,
            &self.ids,
            &self.types,
            &self.versions,
            &self.data,
            &self.metadata,
            &self.recorded_at,
            &self.hashes,
        ]
    }

    /// What failed the whole statement: `None` for a unique violation (an event id already
    /// in the log, or a version a racing append took), which appending each batch alone
    /// pins on the batch that caused it.
    fn error(error: tokio_postgres::Error) -> Option<EventLogError> {
        let unique = error
            .as_db_error()
            .is_some_and(|db| db.code() == &SqlState::UNIQUE_VIOLATION);
        (!unique).then(|| db_error(error))
    }
}

async fn current_versions<C: tokio_postgres::GenericClient>(
    client: &C,
    streams: &[&str],
) -> Result<HashMap<String, u64>, EventLogError> {
    let rows = client
        .query(
            "SELECT stream, version FROM streams WHERE stream = ANY($1)",
            &[&streams],
        )
        .await
        .map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), from_i64(row.get(1))))
        .collect())
}

async fn current_version<C: tokio_postgres::GenericClient>(
    client: &C,
    stream: &str,
) -> Result<Option<u64>, EventLogError> {
    let row = client
        .query_opt("SELECT version FROM streams WHERE stream = $1", &[&stream])
        .await
        .map_err(db_error)?;
    Ok(row.map(|row| from_i64(row.get(0))))
}

/// The hash of the event at `version` of `stream`. An event without one is refused, not
/// chained: the events written before the chain existed were chained once, when the database
/// was migrated, so a missing hash was removed since, and chaining on from it would make
/// whatever was changed with it look intact.
async fn hash_at<C: tokio_postgres::GenericClient>(
    client: &C,
    stream: &str,
    version: u64,
) -> Result<EventHash, EventLogError> {
    let row = client
        .query_opt(HASH_AT_SQL, &[&stream, &to_i64(version)])
        .await
        .map_err(db_error)?;
    match row.map(|row| row.get::<_, Option<Vec<u8>>>(0)) {
        Some(Some(bytes)) => stored_hash(stream, &bytes),
        Some(None) => Err(EventLogError::Failed(format!(
            "{stream}: the event at version {version} has no hash (removed after the log was \
             chained?); nothing is appended after it until an auditor has looked \
             (`boxoffice audit verify-log`)"
        ))),
        // The version expected is not there: the append will find the conflict.
        None => Ok(EventHash::GENESIS),
    }
}

/// A stream's last version and its hash.
async fn head_of<C: tokio_postgres::GenericClient>(
    client: &C,
    stream: &str,
) -> Result<Option<(u64, EventHash)>, EventLogError> {
    let row = client
        .query_opt(HEAD_OF_SQL, &[&stream])
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let version = from_i64(row.get(0));
    match row.get::<_, Option<Vec<u8>>>(1) {
        Some(bytes) => Ok(Some((version, stored_hash(stream, &bytes)?))),
        None => Ok(Some((version, hash_at(client, stream, version).await?))),
    }
}

fn stored_hash(stream: &str, bytes: &[u8]) -> Result<EventHash, EventLogError> {
    EventHash::try_from(bytes)
        .map_err(|_| EventLogError::Failed(format!("{stream}: a stored hash is not 32 bytes")))
}

/// Computes the hashes of `stream`'s events that have none (written before the chain),
/// in version order, chaining from the event before them. Returns how many it set.
async fn chain_stream<C: tokio_postgres::GenericClient>(
    client: &C,
    stream: &str,
) -> Result<u64, EventLogError> {
    let rows = client
        .query(
            "SELECT stream, version, 0::bigint, 0::bigint, event_id, event_type, schema_version,
                data, metadata, recorded_at, hash
             FROM events WHERE stream = $1 ORDER BY version",
            &[&stream],
        )
        .await
        .map_err(db_error)?;
    let mut previous = EventHash::GENESIS;
    let mut versions = Vec::new();
    let mut hashes = Vec::new();
    for row in &rows {
        let event = recorded(row)?;
        let hash = match event.hash {
            Some(hash) => hash,
            None => {
                let hash = event.chained().hash(&previous);
                versions.push(to_i64(event.version));
                hashes.push(hash.0.to_vec());
                hash
            }
        };
        previous = hash;
    }
    if versions.is_empty() {
        return Ok(0);
    }
    let set = client
        .execute(
            "UPDATE events e SET hash = u.hash
             FROM unnest($2::bigint[], $3::bytea[]) AS u(version, hash)
             WHERE e.stream = $1 AND e.version = u.version AND e.hash IS NULL",
            &[&stream, &versions, &hashes],
        )
        .await
        .map_err(db_error)?;
    Ok(set)
}

/// Computes the hash chain of every event written before the log had one (a step of
/// migrating: see `002_event_hashes.sql`). Safe to run again and from several processes at
/// once; returns how many events it chained.
pub async fn chain_existing(client: &mut tokio_postgres::Client) -> Result<u64, EventLogError> {
    let mut chained = 0;
    loop {
        let streams: Vec<String> = client
            .query(
                "SELECT DISTINCT stream FROM events WHERE hash IS NULL LIMIT 1000",
                &[],
            )
            .await
            .map_err(db_error)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if streams.is_empty() {
            return Ok(chained);
        }
        for stream in &streams {
            let tx = client.transaction().await.map_err(db_error)?;
            // One process at a time per stream: the other finds nothing left to set.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                &[&stream.as_str()],
            )
            .await
            .map_err(db_error)?;
            chained += chain_stream(&tx, stream).await?;
            tx.commit().await.map_err(db_error)?;
        }
    }
}

fn recorded(row: &Row) -> Result<RecordedEvent, EventLogError> {
    let metadata: serde_json::Value = row.get(8);
    Ok(RecordedEvent {
        stream: row.get(0),
        version: from_i64(row.get(1)),
        position: Position::new(from_i64(row.get(2)), from_i64(row.get(3))),
        event_id: row.get(4),
        event_type: row.get(5),
        schema_version: row.get(6),
        data: row.get(7),
        metadata: Metadata::from_stored(metadata),
        recorded_at: row.get(9),
        hash: row
            .get::<_, Option<Vec<u8>>>(10)
            .map(|bytes| EventHash::try_from(bytes.as_slice()))
            .transpose()
            .map_err(|_| EventLogError::Failed("a stored hash is not 32 bytes".into()))?,
    })
}

/// Versions and positions are non-negative and far below `i64::MAX` in PostgreSQL.
fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Connection trouble and server shutdowns are "try again later"; anything else is a fault.
pub fn db_error(error: tokio_postgres::Error) -> EventLogError {
    let transient = error.is_closed()
        || match error.code() {
            None => true,
            Some(code) => {
                let class = &code.code()[..2];
                matches!(class, "08" | "53" | "57" | "58")
                    || code == &SqlState::T_R_SERIALIZATION_FAILURE
                    || code == &SqlState::T_R_DEADLOCK_DETECTED
            }
        };
    // The driver's own text for a server error is only "db error": the server's message is
    // what says what went wrong.
    let text = match error.as_db_error() {
        Some(db) => db.to_string(),
        None => error.to_string(),
    };
    if transient {
        EventLogError::Unavailable(text)
    } else {
        EventLogError::Failed(text)
    }
}

/// Not getting a connection is always a reason to retry later: the server may be down,
/// restarting, refusing connections to this database, or out of slots.
pub fn pool_error(error: deadpool_postgres::PoolError) -> EventLogError {
    EventLogError::Unavailable(format!("no database connection: {error}"))
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn swaps_the_database_name() {
        use super::with_database;
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
