//! The actions projector: consecutive events of one stream with the same actor and
//! idempotency key are one command's outcome; each batch's actions are written in one
//! statement.

use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use tokio_postgres::Transaction;

const RECORD_SQL: &str = include_str!("sql/record.sql");

pub struct Actions;

/// One action as the batch saw it.
struct Action<'a> {
    stream: &'a str,
    key: String,
    first: &'a boxoffice_eventstore::RecordedEvent,
    last_version: i64,
    outcome: Vec<&'a str>,
}

#[async_trait]
impl Projector for Actions {
    fn name(&self) -> &'static str {
        "actions"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_actions"]
    }

    fn cares_about(&self, _event: &Event) -> bool {
        true
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut actions: Vec<Action<'_>> = Vec::new();
        for applying in events {
            let event = applying.recorded;
            let key = match (&event.metadata.actor, &event.metadata.idempotency_key) {
                (Some(actor), Some(key)) => format!("{actor}/{key}"),
                _ => event.event_id.to_string(),
            };
            match actions.last_mut() {
                Some(action) if action.stream == event.stream && action.key == key => {
                    action.last_version = to_i64(event.version);
                    action.outcome.push(&event.event_type);
                }
                _ => actions.push(Action {
                    stream: &event.stream,
                    key,
                    first: event,
                    last_version: to_i64(event.version),
                    outcome: vec![&event.event_type],
                }),
            }
        }
        if actions.is_empty() {
            return Ok(());
        }
        let column = |pick: fn(&Action<'_>) -> Option<String>| -> Vec<Option<String>> {
            actions.iter().map(pick).collect()
        };
        let streams: Vec<&str> = actions.iter().map(|a| a.stream).collect();
        let keys: Vec<&str> = actions.iter().map(|a| a.key.as_str()).collect();
        let actors = column(|a| a.first.metadata.actor.clone());
        let commands = column(|a| a.first.metadata.command.clone());
        let idempotency_keys = column(|a| a.first.metadata.idempotency_key.clone());
        let correlations = column(|a| a.first.metadata.correlation_id.clone());
        let causations = column(|a| a.first.metadata.causation_id.clone());
        let first_versions: Vec<i64> = actions.iter().map(|a| to_i64(a.first.version)).collect();
        let last_versions: Vec<i64> = actions.iter().map(|a| a.last_version).collect();
        let times: Vec<chrono::DateTime<chrono::Utc>> =
            actions.iter().map(|a| a.first.recorded_at).collect();
        let (commits, prepares): (Vec<i64>, Vec<i64>) = actions
            .iter()
            .map(|a| {
                a.first
                    .position
                    .to_checkpoint()
                    .unwrap_or((i64::MAX, i64::MAX))
            })
            .unzip();
        let outcomes: Vec<serde_json::Value> = actions
            .iter()
            .map(|a| serde_json::Value::from(a.outcome.clone()))
            .collect();
        tx.execute(
            RECORD_SQL,
            &[
                &streams,
                &keys,
                &actors,
                &commands,
                &idempotency_keys,
                &correlations,
                &causations,
                &first_versions,
                &last_versions,
                &times,
                &commits,
                &prepares,
                &outcomes,
            ],
        )
        .await?;
        Ok(())
    }
}

/// Versions are far below `i64::MAX`.
fn to_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}
