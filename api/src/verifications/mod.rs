//! Verifications auditors start over HTTP and follow until done: every read model rebuilt
//! from the log and compared with the live one at its checkpoint
//! (`boxoffice_projections::verify`), then the log walked for broken chains, gaps and
//! seals that do not hold (`boxoffice_audit::verify_log`). Each runs in the background of
//! the server process that started it; its status, progress and result are kept in
//! `audit_verifications`, so any process answers for it and results outlive restarts.
//!
//! One runs at a time, across every server process, and nothing holds a transaction open
//! for it (an open transaction with an id would stall every log reader):
//! 1. Starting ends, as errors, running rows whose lease has passed (their process died),
//!    then inserts the new row as `running`. A unique index admits one running row, so of
//!    two processes starting at once one inserts and the other is told which one runs.
//! 2. While it runs, the process renews the row's lease every [`RENEW_EVERY`] for
//!    [`LEASE`], with the progress so far, each time in one short statement. If the row is
//!    no longer running (its lease passed while this process could not reach the database,
//!    and another start ended it), the work stops.
//! 3. The end writes the status and the result in one statement, only if the row is still
//!    running. A server that stops gracefully ends its verification as an error; one that
//!    dies leaves a row whose lease runs out.
//!
//! The scratch copies of a verification are temporary tables of sessions of its own, so
//! stopping the work at any point leaves nothing behind.

use crate::auth::Identity;
use boxoffice_audit::seal::PublicKey;
use boxoffice_audit::verify_log::{verify_log, LogReport, Walk};
use boxoffice_eventstore::EventLog;
use boxoffice_projections::verify::{verify, Verification};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;
use utoipa::ToSchema;
use uuid::Uuid;

/// The schema steps of the verifications' table, applied by
/// `boxoffice_eventstore::migrations` as the component `verifications`.
pub const MIGRATIONS: &[&str] = &[include_str!("sql/001_audit_verifications.sql")];

const END_ABANDONED_SQL: &str = include_str!("sql/end_abandoned.sql");
const BEGIN_SQL: &str = include_str!("sql/begin.sql");
const RUNNING_SQL: &str = include_str!("sql/running.sql");
const RENEW_SQL: &str = include_str!("sql/renew.sql");
const FINISH_SQL: &str = include_str!("sql/finish.sql");
const VERIFICATION_SQL: &str = include_str!("sql/verification.sql");

/// How long a running verification's row stays its process's without a renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often the process running a verification renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(5);

const ABANDONED: &str = "abandoned: the server process running it stopped renewing its lease";
const STOPPED: &str = "the server stopped while it ran; start another";

/// A verification as auditors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    pub verification_id: Uuid,
    /// `running`, `passed` (every read model equals its rebuild and the log is intact),
    /// `failed` (a difference or a finding: see `result`) or `error` (it could not run to
    /// the end: see `error`).
    #[schema(example = "running")]
    pub status: String,
    /// Who started it.
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: VerificationProgress,
    /// When it has passed or failed: what it found.
    #[schema(value_type = Option<VerificationResult>)]
    pub result: Option<serde_json::Value>,
    /// Why it could not run to the end.
    pub error: Option<String>,
}

/// How far a verification has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationProgress {
    /// Events of the log folded into the read models' scratch copies so far.
    pub events_rebuilt: u64,
    /// Events of the log walked so far (after the read models).
    pub events_walked: u64,
}

/// What a verification found.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResult {
    /// Each read model against its rebuild at its live checkpoint; null when the log could
    /// not be rebuilt into them, which the log's findings then explain (a log changed by hand
    /// need not be one the projectors can apply).
    pub read_models: Option<Verification>,
    /// Why the read models could not be rebuilt, when they could not.
    pub read_models_error: Option<String>,
    /// The walk of the log: broken chains, gaps, seals that do not hold.
    pub log: LogReport,
}

impl VerificationResult {
    fn passed(&self) -> bool {
        self.read_models.as_ref().is_some_and(Verification::equal) && self.log.intact()
    }
}

/// How a start went.
pub enum Started {
    /// This one is running now.
    New(Uuid),
    /// Another one is running (its id, unless it ended just now).
    Refused(Option<Uuid>),
}

/// The verifications this process runs (at most one at a time).
pub struct Verifications {
    pool: Pool,
    log: Arc<dyn EventLog>,
    key: PublicKey,
    running: Mutex<Option<(Uuid, AbortHandle)>>,
}

/// Progress the work reports and the lease renewals write.
#[derive(Default)]
struct Counters {
    rebuilt: AtomicU64,
    walked: AtomicU64,
}

impl Counters {
    fn get(&self) -> (i64, i64) {
        let read = |counter: &AtomicU64| {
            i64::try_from(counter.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
        };
        (read(&self.rebuilt), read(&self.walked))
    }
}

impl Verifications {
    /// Seals are checked against `key`, the public half of this server's signing key.
    pub fn new(pool: Pool, log: Arc<dyn EventLog>, key: PublicKey) -> Self {
        Self {
            pool,
            log,
            key,
            running: Mutex::new(None),
        }
    }

    /// Starts a verification for `caller`, unless one is running in any process.
    pub async fn start(
        &self,
        client: &mut deadpool_postgres::Client,
        caller: &Identity,
    ) -> Result<Started, tokio_postgres::Error> {
        // A refusal names the one running, unless it ended between the two statements:
        // then starting is tried again.
        for _ in 0..3 {
            let id = Uuid::new_v4();
            let tx = client.transaction().await?;
            tx.execute(END_ABANDONED_SQL, &[&ABANDONED]).await?;
            let begun = tx
                .query_opt(BEGIN_SQL, &[&id, &caller.sub, &LEASE.as_secs_f64()])
                .await?;
            if begun.is_some() {
                tx.commit().await?;
                self.spawn(id);
                return Ok(Started::New(id));
            }
            let running = tx.query_opt(RUNNING_SQL, &[]).await?;
            tx.commit().await?;
            if let Some(row) = running {
                return Ok(Started::Refused(Some(row.get("verification_id"))));
            }
        }
        Ok(Started::Refused(None))
    }

    fn spawn(&self, id: Uuid) {
        let (pool, log, key) = (self.pool.clone(), self.log.clone(), self.key.clone());
        let task = tokio::spawn(async move {
            let counters = Counters::default();
            let outcome = tokio::select! {
                outcome = work(log.as_ref(), &pool, &key, &counters) => outcome,
                () = keep_lease(&pool, id, &counters) => {
                    tracing::warn!(%id, "verification stopped: its lease was lost");
                    return;
                }
            };
            let (status, result, error) = match outcome {
                Ok(result) => {
                    let status = if result.passed() { "passed" } else { "failed" };
                    (status, serde_json::to_value(&result).ok(), None)
                }
                Err(error) => {
                    tracing::warn!(%id, %error, "verification could not run");
                    ("error", None, Some(error))
                }
            };
            tracing::info!(%id, status, "verification done");
            if let Err(error) = finish(&pool, id, status, result, error, &counters).await {
                tracing::error!(%id, %error, "cannot record a verification's end; its lease will run out");
            }
        });
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        *running = Some((id, task.abort_handle()));
    }

    /// Stops this process's verification, if one runs, and records that the server stopped.
    pub async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((id, task)) = running else { return };
        task.abort();
        let (counters, none) = (Counters::default(), None);
        // Changes nothing when it had finished.
        if let Err(error) = finish(
            &self.pool,
            id,
            "error",
            none,
            Some(STOPPED.into()),
            &counters,
        )
        .await
        {
            tracing::warn!(%id, %error, "cannot record that a verification stopped");
        }
    }
}

/// The verification `id`, if there is one.
pub async fn view(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<Option<VerificationView>, tokio_postgres::Error> {
    let row = client
        .query_opt(VERIFICATION_SQL, &[&id, &ABANDONED])
        .await?;
    Ok(row.map(|row| {
        let count = |column: &str| u64::try_from(row.get::<_, i64>(column)).unwrap_or(0);
        VerificationView {
            verification_id: row.get("verification_id"),
            status: row.get("status"),
            requested_by: row.get("requested_by"),
            started_at: row.get("started_at"),
            finished_at: row.get("finished_at"),
            progress: VerificationProgress {
                events_rebuilt: count("events_rebuilt"),
                events_walked: count("events_walked"),
            },
            result: row.get("result"),
            error: row.get("error"),
        }
    }))
}

/// The read models, then the log (walked also when the read models could not be rebuilt).
async fn work(
    log: &dyn EventLog,
    pool: &Pool,
    key: &PublicKey,
    counters: &Counters,
) -> Result<VerificationResult, String> {
    let projectors = boxoffice_projections::all();
    let read_models = verify(log, pool, &projectors, |done| {
        counters.rebuilt.store(done, Ordering::Relaxed)
    })
    .await
    .map_err(|e| format!("verifying the read models: {e}"));
    let walk = Walk {
        stream: None,
        key,
        kept: None,
    };
    let log = verify_log(log, &walk, |done| {
        counters.walked.store(done, Ordering::Relaxed)
    })
    .await
    .map_err(|e| format!("walking the log: {e}"))?;
    // A rebuild that fails on an intact log could not run; on a broken one, the findings
    // are the answer and the failure is part of it.
    let (read_models, read_models_error) = match read_models {
        Ok(verification) => (Some(verification), None),
        Err(error) if !log.intact() => (None, Some(error)),
        Err(error) => return Err(error),
    };
    Ok(VerificationResult {
        read_models,
        read_models_error,
        log,
    })
}

/// Renews the lease until it cannot: returns when the row is no longer running, or no
/// renewal has got through for a whole lease.
async fn keep_lease(pool: &Pool, id: Uuid, counters: &Counters) {
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let (rebuilt, walked) = counters.get();
        let renewal = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            client
                .execute(RENEW_SQL, &[&id, &LEASE.as_secs_f64(), &rebuilt, &walked])
                .await
                .map_err(|e| e.to_string())
        };
        match renewal.await {
            Ok(1) => renewed = Instant::now(),
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%id, %error, "cannot renew a verification's lease");
                if renewed.elapsed() >= LEASE {
                    return;
                }
            }
        }
    }
}

async fn finish(
    pool: &Pool,
    id: Uuid,
    status: &str,
    result: Option<serde_json::Value>,
    error: Option<String>,
    counters: &Counters,
) -> Result<(), String> {
    let (rebuilt, walked) = counters.get();
    let client = pool.get().await.map_err(|e| e.to_string())?;
    client
        .execute(
            FINISH_SQL,
            &[&id, &status, &result, &error, &rebuilt, &walked],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
