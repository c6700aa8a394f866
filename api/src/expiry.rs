//! The expiry scheduler: sends `ExpireHold` for every hold whose expiry plus grace has passed.
//!
//! Its timetable is the seat-map read model (active holds with their expiry, and each show's
//! grace), read every [`POLL`]: it survives restarts by construction, and a hold that ran out
//! while no server was running is expired at the first poll after start. Any number of
//! processes may run it: each expiry is a command with the idempotency key
//! `expire-{hold_id}` under the actor `system:expiry`, so the aggregate turns duplicates into
//! replays, and a hold paid or released meanwhile into a logged refusal.

use boxoffice_commands::{Clock, CommandContext, CommandError, ShowWriters};
use boxoffice_domain::{HoldId, ShowCommand, ShowId};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How often the scheduler looks for lapsed holds; with the projection lag, holds are
/// expired within about this much of their expiry plus grace.
pub const POLL: Duration = Duration::from_millis(250);
/// Lapsed holds handled per poll.
const PAGE: i64 = 500;
/// A hold already sent is not sent again for this long (the read model may lag).
const RESEND_AFTER: Duration = Duration::from_secs(5);

const DUE_SQL: &str = "
    SELECT h.show_id, h.hold_id
    FROM seat_map_holds h JOIN seat_map_shows s ON s.show_id = h.show_id
    WHERE h.status = 'active'
      AND h.expires_at <= $1
      AND h.expires_at + make_interval(secs => s.expiry_grace_seconds) <= $1
    ORDER BY h.expires_at
    LIMIT $2";

pub struct ExpiryScheduler {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ExpiryScheduler {
    pub fn start(pool: Pool, writers: ShowWriters, clock: Arc<dyn Clock>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(pool, writers, clock, stopped));
        Self { stop, task }
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    pool: Pool,
    writers: ShowWriters,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut sent: HashMap<Uuid, Instant> = HashMap::new();
    loop {
        match due(&pool, clock.now()).await {
            Ok(holds) => {
                sent.retain(|_, at| at.elapsed() < RESEND_AFTER);
                for (show, hold) in holds {
                    if sent.contains_key(&hold) {
                        continue;
                    }
                    sent.insert(hold, Instant::now());
                    expire(&writers, show, hold).await;
                }
            }
            Err(error) => tracing::warn!(%error, "expiry: cannot read the timetable"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = stopped.changed() => return,
        }
    }
}

async fn due(pool: &Pool, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<(Uuid, Uuid)>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let rows = client
        .query(DUE_SQL, &[&now, &PAGE])
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn expire(writers: &ShowWriters, show: Uuid, hold: Uuid) {
    let context = CommandContext {
        actor: "system:expiry".into(),
        idempotency_key: format!("expire-{hold}"),
        correlation_id: Some(format!("expiry-{hold}")),
    };
    let command = ShowCommand::ExpireHold {
        hold_id: HoldId(hold),
    };
    match writers.execute(ShowId(show), command, context).await {
        Ok(outcome) if outcome.replayed => {
            tracing::debug!(%show, %hold, "expiry: already expired by this scheduler")
        }
        Ok(_) => tracing::debug!(%show, %hold, "expiry: hold expired"),
        Err(CommandError::Rejected(reason)) => {
            // Paid, released or expired by someone else since the timetable was read.
            tracing::info!(%show, %hold, %reason, "expiry: refused by the show")
        }
        Err(error) => tracing::warn!(%show, %hold, %error, "expiry: failed; will retry"),
    }
}
