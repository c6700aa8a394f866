//! The expiry scheduler: sends `ExpireHold` for every hold whose expiry plus grace has passed,
//! `ExpireWaitlistEntry` for every waiting-list entry that has waited as long as its show
//! allows, and `ReleaseAccessibleSeats` for every show whose accessible seats' release time
//! has come.
//!
//! Its timetable is the seat-map read model (active holds with their expiry, and each show's
//! grace), read every [`POLL`]: it survives restarts by construction, and a hold that ran out
//! while no server was running is expired at the first poll after start. Any number of
//! processes may run it: each expiry is a command with the idempotency key
//! `expire-{hold_id}` (`release-accessible-{show_id}` for a release) under the actor
//! `system:expiry`, so the aggregate turns duplicates into replays, and a hold paid or
//! released meanwhile into a logged refusal.

use crate::{Cause, Clock, CommandContext, CommandError, ShowWriters};
use boxoffice_domain::{HoldId, ShowCommand, ShowId, WaitlistEntryId};
use boxoffice_projections::{seat_map, waitlist};
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
        sent.retain(|_, at| at.elapsed() < RESEND_AFTER);
        let now = clock.now();
        for kind in [Kind::Hold, Kind::WaitlistEntry, Kind::AccessibleRelease] {
            match due(&pool, kind, now).await {
                Ok(due) => {
                    for (show, id) in due {
                        if sent.contains_key(&id) {
                            continue;
                        }
                        sent.insert(id, Instant::now());
                        expire(&writers, kind, show, id).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "expiry: cannot read the timetable"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = stopped.changed() => return,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Hold,
    WaitlistEntry,
    AccessibleRelease,
}

/// The shows and ids of the holds or entries whose time is up (for a release, the show's id
/// twice).
async fn due(
    pool: &Pool,
    kind: Kind,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(Uuid, Uuid)>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    match kind {
        Kind::Hold => seat_map::lapsed_holds(&client, now, PAGE)
            .await
            .map(|holds| holds.iter().map(|h| (h.show_id, h.hold_id)).collect()),
        Kind::WaitlistEntry => waitlist::overdue_entries(&client, now, PAGE)
            .await
            .map(|entries| entries.iter().map(|e| (e.show_id, e.entry_id)).collect()),
        Kind::AccessibleRelease => seat_map::accessible_releases_due(&client, now, PAGE)
            .await
            .map(|shows| shows.into_iter().map(|show| (show, show)).collect()),
    }
    .map_err(|e| e.to_string())
}

async fn expire(writers: &ShowWriters, kind: Kind, show: Uuid, id: Uuid) {
    let (key, command) = match kind {
        Kind::Hold => (
            format!("expire-{id}"),
            ShowCommand::ExpireHold {
                hold_id: HoldId(id),
            },
        ),
        Kind::WaitlistEntry => (
            format!("expire-waitlist-{id}"),
            ShowCommand::ExpireWaitlistEntry {
                entry_id: WaitlistEntryId(id),
            },
        ),
        Kind::AccessibleRelease => (
            format!("release-accessible-{id}"),
            ShowCommand::ReleaseAccessibleSeats { by_staff: false },
        ),
    };
    // Time, not a request, causes an expiry: its correlation id is its own key.
    let cause = Cause {
        correlation_id: Some(key.clone()),
        causation_id: None,
    };
    let context = CommandContext::system("system:expiry", key, &cause);
    match writers.execute(ShowId(show), command, context).await {
        Ok(outcome) if outcome.replayed => {
            tracing::debug!(%show, %id, "expiry: already done by this scheduler")
        }
        Ok(_) => tracing::debug!(%show, %id, "expiry: done"),
        Err(CommandError::Rejected(reason)) => {
            // Paid, released, left or expired by someone else since the timetable was read.
            tracing::info!(%show, %id, %reason, "expiry: refused by the show")
        }
        Err(error) => tracing::warn!(%show, %id, %error, "expiry: failed; will retry"),
    }
}
