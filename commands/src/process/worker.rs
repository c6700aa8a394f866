//! Carrying the process manager's tasks out.
//!
//! A round claims due tasks in one short statement (a lease: the task is not due again
//! until the lease runs out), then carries each out with no transaction open, then deletes
//! it or puts it back with a delay. No transaction may span a provider call or an append:
//! an open transaction holds the cluster's snapshot xmin, and the event log hands out only
//! events of transactions older than that, so every projector and every read waiting for
//! its own writes would stall for as long as the provider takes. A worker that dies
//! mid-round leaves its tasks claimed until the lease runs out; then another takes them up
//! (every task is idempotent, so doing one twice does it once).

use super::tasks::{Planned, Task};
use crate::{Cause, CommandError, Exchanges, Payments, Promos};
use boxoffice_domain::ShowId;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Tasks a worker claims at once.
const TASKS_PER_ROUND: i64 = 20;
/// How long a claim keeps other workers off a task: longer than a round of provider calls
/// normally takes, short enough that a crashed worker's tasks are soon taken up again.
const LEASE: Duration = Duration::from_secs(120);
/// The longest a failed task waits before its next try.
const MAX_RETRY_DELAY_SECONDS: f64 = 3600.0;

const CLAIM_SQL: &str = include_str!("sql/claim_tasks.sql");
const DONE_SQL: &str = include_str!("sql/task_done.sql");
const FAILED_SQL: &str = include_str!("sql/task_failed.sql");

/// What carries the tasks out.
pub struct Workers {
    pub payments: Payments,
    pub promos: Promos,
    pub exchanges: Exchanges,
}

/// Carries out the process manager's tasks until told to stop.
pub struct TaskWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl TaskWorker {
    /// Starts working; `wake` is notified when new tasks are written.
    pub fn start(pool: Pool, workers: Workers, wake: Arc<Notify>) -> Self {
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let claimed = match run_round(&pool, &workers).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(%error, "payments process: cannot read its tasks");
                        0
                    }
                };
                if claimed as i64 == TASKS_PER_ROUND {
                    continue;
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopping.changed() => return,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the task in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A task as claimed.
struct Claimed {
    task_id: Uuid,
    payload: serde_json::Value,
    attempts: i32,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Claims the due tasks and carries them out; returns how many it claimed.
async fn run_round(pool: &Pool, workers: &Workers) -> Result<usize, Failure> {
    let claim = Uuid::new_v4();
    let lease = LEASE.as_secs_f64();
    let mut claimed: Vec<Claimed> = pool
        .get()
        .await?
        .query(CLAIM_SQL, &[&claim, &TASKS_PER_ROUND, &lease])
        .await?
        .iter()
        .map(|row| Claimed {
            task_id: row.get("task_id"),
            payload: row.get("payload"),
            attempts: row.get("attempts"),
            created_at: row.get("created_at"),
        })
        .collect();
    claimed.sort_by_key(|task| task.created_at);
    for task in &claimed {
        let outcome = match serde_json::from_value::<Planned>(task.payload.clone()) {
            Ok(planned) => carry_out(&planned.task, &planned.cause, workers).await,
            Err(error) => Err(CommandError::Failed(error.to_string())),
        };
        let client = pool.get().await?;
        match outcome {
            Ok(()) => {
                client.execute(DONE_SQL, &[&task.task_id, &claim]).await?;
            }
            Err(error) => {
                let wait = 2_f64
                    .powi(task.attempts.min(12))
                    .min(MAX_RETRY_DELAY_SECONDS);
                tracing::warn!(task_id = %task.task_id, %error, attempts = task.attempts,
                    "payments process: task failed; will try again");
                client
                    .execute(
                        FAILED_SQL,
                        &[&task.task_id, &claim, &error.to_string(), &wait],
                    )
                    .await?;
            }
        }
    }
    Ok(claimed.len())
}

async fn carry_out(task: &Task, cause: &Cause, workers: &Workers) -> Result<(), CommandError> {
    let Workers {
        payments,
        promos,
        exchanges,
    } = workers;
    match task {
        Task::PayOut {
            payment_id,
            refund_id,
            amount,
            reason,
        } => {
            payments
                .pay_out(*payment_id, *refund_id, amount, reason, cause)
                .await
        }
        Task::Collect {
            payment_id,
            charge_id,
            amount,
        } => {
            payments
                .collect(*payment_id, *charge_id, amount, cause)
                .await
        }
        Task::GiveBack {
            code,
            hold_id,
            reason,
        } => promos.give_back(code, *hold_id, reason, cause).await,
        Task::Settle { payment_id } => {
            let payment = payments.payment(*payment_id).await?;
            let Some(started) = payment.started() else {
                return Err(CommandError::Failed(format!("no payment {payment_id}")));
            };
            payments
                .settle(started.show_id, *payment_id, cause)
                .await
                .map(|_| ())
        }
        Task::CompleteTransfer {
            from_show_id,
            transfer,
        } => match exchanges
            .complete(ShowId(*from_show_id), transfer, cause)
            .await
        {
            // Refused there and undone here: nothing more to do.
            Ok(_) | Err(CommandError::Rejected(_)) => Ok(()),
            Err(other) => Err(other),
        },
    }
}
