//! The payments process manager: follows the log and carries out what its events call
//! for outside their own stream.
//!
//! It runs as a projector (its checkpoint moves in the same transaction as what it
//! writes), but what it writes is work to do: refunds and extra charges through the
//! provider, promo code uses to give back, payments to settle on their show. A worker then
//! carries each task out and deletes it; a task that fails is tried again later. Every
//! task is idempotent (by the refund, charge, hold or payment id it names), so doing one
//! twice after a crash does it once.

use boxoffice_commands::payments::{Payments, Promos};
use boxoffice_commands::{CommandError, Exchanges};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoCode;
use boxoffice_domain::show::OrderTransferredOut;
use boxoffice_domain::{HoldId, Money, ShowEvent, ShowId};
use boxoffice_projections::{Applying, Event, Projector};
use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_postgres::Transaction;
use uuid::Uuid;

const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x9a41_07c3_5e2d_4b8f_b6a1_0c7d_e3f5_2948);
/// Tasks a worker takes at once.
const TASKS_PER_ROUND: i64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Pay money back through the provider.
    PayOut {
        payment_id: Uuid,
        refund_id: Uuid,
        amount: Money,
        reason: String,
    },
    /// Take more money through the provider (an exchange to dearer seats).
    Collect {
        payment_id: Uuid,
        charge_id: Uuid,
        amount: Money,
    },
    /// Give a promo code's use back: its hold expired or was released.
    GiveBack {
        code: PromoCode,
        hold_id: HoldId,
        reason: String,
    },
    /// A payment succeeded: settle it on its show (if the notification's own settling did
    /// not get that far).
    Settle { payment_id: Uuid },
    /// Seats left an order for another show: finish the exchange there, or undo it (if the
    /// request that started it did not get that far).
    CompleteTransfer {
        from_show_id: Uuid,
        transfer: Box<OrderTransferredOut>,
    },
}

impl Task {
    fn id(&self) -> Uuid {
        let name = match self {
            Self::PayOut { refund_id, .. } => format!("pay-out/{refund_id}"),
            Self::Collect { charge_id, .. } => format!("collect/{charge_id}"),
            Self::GiveBack { hold_id, .. } => format!("give-back/{hold_id}"),
            Self::Settle { payment_id } => format!("settle/{payment_id}"),
            Self::CompleteTransfer { transfer, .. } => {
                format!("complete-transfer/{}", transfer.exchange_id)
            }
        };
        Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes())
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::PayOut { .. } => "pay_out",
            Self::Collect { .. } => "collect",
            Self::GiveBack { .. } => "give_back",
            Self::Settle { .. } => "settle",
            Self::CompleteTransfer { .. } => "complete_transfer",
        }
    }
}

pub struct PaymentsProcess {
    pub wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl Projector for PaymentsProcess {
    fn name(&self) -> &'static str {
        "payments_process"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["process_tasks"]
    }

    fn cares_about(&self, event: &Event) -> bool {
        match event {
            Event::Show(e) => match e {
                ShowEvent::OrderRefunded(e) => e.payment_id.is_some(),
                ShowEvent::SeatsExchanged(e) => e.payment_id.is_some(),
                ShowEvent::OrderTransferredIn(e) => e.payment_id.is_some(),
                ShowEvent::OrderTransferredOut(_) => true,
                ShowEvent::HoldExpired(e) => e.promo_code.is_some(),
                ShowEvent::HoldReleased(e) => e.promo_code.is_some(),
                ShowEvent::PaymentRefused(_) => true,
                _ => false,
            },
            Event::Payment(PaymentEvent::PaymentSucceeded(_)) => true,
            _ => false,
        }
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut tasks = Vec::new();
        for applying in events {
            match &applying.event {
                Event::Show(ShowEvent::OrderRefunded(e)) => {
                    if let Some(payment_id) = e.payment_id {
                        tasks.push(Task::PayOut {
                            payment_id,
                            refund_id: e.refund_id.0,
                            amount: e.amount.clone(),
                            reason: e.reason.as_str().to_owned(),
                        });
                    }
                }
                Event::Show(ShowEvent::PaymentRefused(e)) => tasks.push(Task::PayOut {
                    payment_id: e.payment_id,
                    refund_id: e.refund_id.0,
                    amount: e.amount.clone(),
                    reason: format!("payment refused: {}", e.reason),
                }),
                Event::Show(ShowEvent::SeatsExchanged(e)) => settle_difference(
                    &mut tasks,
                    e.payment_id,
                    e.exchange_id,
                    (&e.charge, &e.refund),
                    "exchange to cheaper seats",
                ),
                Event::Show(ShowEvent::OrderTransferredOut(e)) => {
                    tasks.push(Task::CompleteTransfer {
                        from_show_id: applying.stream_id,
                        transfer: Box::new(e.clone()),
                    })
                }
                Event::Show(ShowEvent::OrderTransferredIn(e)) => settle_difference(
                    &mut tasks,
                    e.payment_id,
                    e.exchange_id,
                    (&e.charge, &e.refund),
                    "exchange to a cheaper show",
                ),
                Event::Show(ShowEvent::HoldExpired(e)) => {
                    if let Some(code) = &e.promo_code {
                        tasks.push(Task::GiveBack {
                            code: code.clone(),
                            hold_id: e.hold_id,
                            reason: "hold expired".into(),
                        });
                    }
                }
                Event::Show(ShowEvent::HoldReleased(e)) => {
                    if let Some(code) = &e.promo_code {
                        tasks.push(Task::GiveBack {
                            code: code.clone(),
                            hold_id: e.hold_id,
                            reason: "hold released".into(),
                        });
                    }
                }
                Event::Payment(PaymentEvent::PaymentSucceeded(_)) => tasks.push(Task::Settle {
                    payment_id: applying.stream_id,
                }),
                _ => {}
            }
        }
        if !tasks.is_empty() {
            let ids: Vec<Uuid> = tasks.iter().map(Task::id).collect();
            let kinds: Vec<&str> = tasks.iter().map(Task::kind).collect();
            let payloads: Vec<serde_json::Value> = tasks
                .iter()
                .map(|t| serde_json::to_value(t).unwrap_or_default())
                .collect();
            tx.execute(
                "INSERT INTO process_tasks (task_id, kind, payload)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])
                 ON CONFLICT (task_id) DO NOTHING",
                &[&ids, &kinds, &payloads],
            )
            .await?;
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// The charge or refund an exchange decided, through the order's payment (none for orders
/// paid at the counter: the counter settles them).
fn settle_difference(
    tasks: &mut Vec<Task>,
    payment_id: Option<Uuid>,
    exchange_id: Uuid,
    (charge, refund): (&Money, &Money),
    reason: &str,
) {
    let Some(payment_id) = payment_id else {
        return;
    };
    if charge.amount_minor > 0 {
        tasks.push(Task::Collect {
            payment_id,
            charge_id: exchange_id,
            amount: charge.clone(),
        });
    }
    if refund.amount_minor > 0 {
        tasks.push(Task::PayOut {
            payment_id,
            refund_id: exchange_id,
            amount: refund.clone(),
            reason: reason.to_owned(),
        });
    }
}

/// Carries out the process manager's tasks until told to stop.
pub struct TaskWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TaskWorker {
    pub fn start(pool: Pool, workers: Workers, wake: Arc<Notify>) -> Self {
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let worked = match run_due(&pool, &workers).await {
                    Ok(worked) => worked,
                    Err(error) => {
                        tracing::warn!(%error, "payments process: cannot read its tasks");
                        0
                    }
                };
                if worked as i64 == TASKS_PER_ROUND {
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

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Carries out the tasks that are due; returns how many it took.
/// What carries the tasks out.
pub struct Workers {
    pub payments: Payments,
    pub promos: Promos,
    pub exchanges: Exchanges,
}

async fn run_due(
    pool: &Pool,
    workers: &Workers,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "SELECT task_id, payload, attempts FROM process_tasks WHERE not_before <= now()
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            &[&TASKS_PER_ROUND],
        )
        .await?;
    for row in &rows {
        let task_id: Uuid = row.get(0);
        let attempts: i32 = row.get(2);
        let outcome = match serde_json::from_value::<Task>(row.get(1)) {
            Ok(task) => carry_out(&task, workers).await,
            Err(error) => Err(CommandError::Failed(error.to_string())),
        };
        match outcome {
            Ok(()) => {
                tx.execute("DELETE FROM process_tasks WHERE task_id = $1", &[&task_id])
                    .await?;
            }
            Err(error) => {
                let wait = 2_f64.powi(attempts.min(12)).min(3600.0);
                tracing::warn!(%task_id, %error, attempts, "payments process: task failed; will try again");
                tx.execute(
                    "UPDATE process_tasks SET attempts = attempts + 1, last_error = $2,
                        not_before = now() + make_interval(secs => $3)
                     WHERE task_id = $1",
                    &[&task_id, &error.to_string(), &wait],
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(rows.len())
}

async fn carry_out(task: &Task, workers: &Workers) -> Result<(), CommandError> {
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
                .pay_out(*payment_id, *refund_id, amount, reason)
                .await
        }
        Task::Collect {
            payment_id,
            charge_id,
            amount,
        } => payments.collect(*payment_id, *charge_id, amount).await,
        Task::GiveBack {
            code,
            hold_id,
            reason,
        } => promos.give_back(code, *hold_id, reason).await,
        Task::Settle { payment_id } => {
            let payment = payments.payment(*payment_id).await?;
            let Some(started) = payment.started() else {
                return Err(CommandError::Failed(format!("no payment {payment_id}")));
            };
            payments
                .settle(started.show_id, *payment_id)
                .await
                .map(|_| ())
        }
        Task::CompleteTransfer {
            from_show_id,
            transfer,
        } => match exchanges.complete(ShowId(*from_show_id), transfer).await {
            // Refused there and undone here: nothing more to do.
            Ok(_) | Err(CommandError::Rejected(_)) => Ok(()),
            Err(other) => Err(other),
        },
    }
}
