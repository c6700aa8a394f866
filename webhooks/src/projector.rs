//! The projector that turns events into deliveries, one per endpoint that asked for the
//! event's kind.

use crate::kinds;
use boxoffice_projections::{Applying, Event, Projector};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_postgres::Transaction;
use uuid::Uuid;

const INSERT_SQL: &str = include_str!("sql/insert_deliveries.sql");

/// Writes the deliveries; `wake` tells the deliverer there may be new ones.
pub struct WebhookDeliveries {
    pub wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl Projector for WebhookDeliveries {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["webhook_deliveries"]
    }

    fn cares_about(&self, event: &Event) -> bool {
        kinds::of(event).is_some()
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut event_ids: Vec<Uuid> = Vec::new();
        let mut kinds: Vec<&str> = Vec::new();
        let mut show_ids: Vec<Uuid> = Vec::new();
        let mut versions: Vec<i64> = Vec::new();
        let mut bodies: Vec<String> = Vec::new();
        let mut recorded: Vec<DateTime<Utc>> = Vec::new();
        for applying in events {
            let Some(kind) = kinds::of(applying.event) else {
                continue;
            };
            event_ids.push(applying.recorded.event_id);
            kinds.push(kind);
            show_ids.push(applying.stream_id);
            versions.push(i64::try_from(applying.recorded.version).unwrap_or(i64::MAX));
            bodies.push(kinds::body(kind, applying));
            recorded.push(applying.recorded.recorded_at);
        }
        if event_ids.is_empty() {
            return Ok(());
        }
        let made = tx
            .execute(
                INSERT_SQL,
                &[&event_ids, &kinds, &show_ids, &versions, &bodies, &recorded],
            )
            .await?;
        if made > 0 {
            self.wake.notify_one();
        }
        Ok(())
    }
}
