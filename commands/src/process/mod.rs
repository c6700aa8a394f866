//! The payments process manager: follows the log and carries out what its events call for
//! outside their own stream — refunds and extra charges through the provider, promo code
//! uses to give back, payments to settle on their show, exchanges to another show to finish
//! or undo.
//!
//! It is split the way a saga should be:
//! - [`tasks`]: which tasks an event calls for, a pure function;
//! - [`PaymentsProcess`]: a projector whose read model is the to-do list (`process_tasks`),
//!   written in the same transaction as its checkpoint, so no event's task is lost or made
//!   twice;
//! - [`worker`]: claims due tasks under a lease, carries each out with no transaction open,
//!   and deletes it, or tries it again later with a growing delay.
//!
//! It is not part of `projections rebuild`: rebuilding would only re-derive tasks already
//! done, which are then no-ops.

pub mod tasks;
mod worker;

pub use worker::{TaskWorker, Workers};

use crate::Cause;
use boxoffice_projections::{Applying, Event, Projector};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_postgres::Transaction;
use uuid::Uuid;

/// The schema steps of the task list, applied by `boxoffice_eventstore::migrations` as the
/// component `process`.
pub const MIGRATIONS: &[&str] = &[include_str!("sql/001_process_tasks.sql")];

const INSERT_SQL: &str = include_str!("sql/insert_tasks.sql");

/// The projector that writes the tasks; `wake` tells the worker there is new work.
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
        !tasks::react(Uuid::nil(), event).is_empty()
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let planned: Vec<tasks::Planned> = events
            .iter()
            .flat_map(|applying| {
                let cause =
                    Cause::of_event(applying.recorded.event_id, &applying.recorded.metadata);
                tasks::react(applying.stream_id, applying.event)
                    .into_iter()
                    .map(move |task| tasks::Planned {
                        task,
                        cause: cause.clone(),
                    })
            })
            .collect();
        if planned.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = planned.iter().map(|p| p.task.id()).collect();
        let kinds: Vec<&str> = planned.iter().map(|p| p.task.kind()).collect();
        let payloads: Vec<serde_json::Value> = planned
            .iter()
            .map(|planned| {
                serde_json::to_value(planned)
                    .expect("a task is ids, amounts and strings: it always serialises")
            })
            .collect();
        tx.execute(INSERT_SQL, &[&ids, &kinds, &payloads]).await?;
        self.wake.notify_one();
        Ok(())
    }
}
