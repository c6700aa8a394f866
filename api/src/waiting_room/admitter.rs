//! The admitter: every [`TICK`], for each on-sale being served, this process shuffles the
//! pre-queue once the opening has come, admits whoever is due, and tells its long-polls how
//! far the line moved. It also finishes what a crashed request left half done: shows not
//! yet put under an on-sale's queue, or not yet taken off it after the end.
//!
//! Every server process runs one; the work is shared through the on-sale's advisory lock (see
//! [`store::admit`]), so it goes on while any process is up, and a process killed in the
//! middle of an admission leaves nothing half written (each pass is one transaction).

use super::{store, Progress, WaitingRoom};
use boxoffice_commands::{Cause, CommandContext, CommandError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the admitter looks; admissions happen within about this much of being due.
pub const TICK: Duration = Duration::from_millis(200);
/// A request that sets an on-sale up puts its shows under the queue itself; the admitter
/// takes over only from an on-sale this old, so it does not race the request.
const TAKE_OVER_AFTER: chrono::Duration = chrono::Duration::seconds(30);

pub struct Admitter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Admitter {
    pub fn start(room: Arc<WaitingRoom>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(room, stopped));
        Self { stop, task }
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(room: Arc<WaitingRoom>, mut stopped: watch::Receiver<bool>) {
    loop {
        if let Err(error) = pass(&room).await {
            tracing::warn!(%error, "waiting room: admission pass failed; will retry");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopped.changed() => return,
        }
    }
}

async fn pass(room: &WaitingRoom) -> Result<(), String> {
    let mut client = room.pool.get().await.map_err(|e| e.to_string())?;
    let onsales = store::serving(&client).await.map_err(|e| e.to_string())?;
    let ids: Vec<_> = onsales.iter().map(|o| o.onsale_id).collect();
    room.retain(&ids);
    for onsale in onsales {
        let id = onsale.onsale_id;
        // One on-sale's trouble does not hold up the others.
        if let Err(error) = serve(room, &mut client, onsale).await {
            tracing::warn!(onsale = %id, %error, "waiting room: pass failed; will retry");
        }
    }
    Ok(())
}

/// One on-sale's pass: its shows, its draw, its admissions, its long-polls.
async fn serve(
    room: &WaitingRoom,
    client: &mut deadpool_postgres::Client,
    onsale: store::OnSale,
) -> Result<(), tokio_postgres::Error> {
    let now = room.clock.now();
    let id = onsale.onsale_id;
    if onsale.ended_at.is_some() {
        room.publish(
            id,
            Progress {
                shuffled: onsale.shuffled_at.is_some(),
                through: onsale.admitted_through,
                ended: true,
            },
        );
        finish_shows(room, &onsale, true).await;
        return Ok(());
    }
    if !onsale.shows_queued && now - onsale.created_at > TAKE_OVER_AFTER {
        finish_shows(room, &onsale, false).await;
    }
    let mut shuffled = onsale.shuffled_at.is_some();
    if !shuffled && onsale.opens_at <= now {
        if store::shuffle(client, id, now, room.automatic_rate()).await? {
            tracing::info!(onsale = %id, "waiting room: opened; pre-queue shuffled");
        }
        shuffled = true;
    }
    let through = if shuffled {
        store::admit(client, id, now, &room.process)
            .await?
            // Another process admits now: its progress shows here next pass.
            .map_or(onsale.admitted_through, |(_, through)| through)
    } else {
        onsale.admitted_through
    };
    room.publish(
        id,
        Progress {
            shuffled,
            through,
            ended: false,
        },
    );
    Ok(())
}

/// Puts the on-sale's shows under its queue, or takes them off it after the end, and marks
/// that done when every show agreed.
async fn finish_shows(room: &WaitingRoom, onsale: &store::OnSale, lift: bool) {
    let key = format!("onsale-{}", onsale.onsale_id);
    let context = CommandContext::system(
        "system:waiting-room",
        key.clone(),
        &Cause {
            correlation_id: Some(key),
            causation_id: None,
        },
    );
    let refused = room
        .tell_shows(
            onsale.onsale_id,
            &onsale.show_ids,
            lift,
            &context,
            onsale.opens_at,
        )
        .await;
    // A show's refusal is its last word (it was cancelled, say): only failures to reach it
    // are tried again.
    let (final_word, failed): (Vec<_>, Vec<_>) = refused
        .into_iter()
        .partition(|(_, error)| matches!(error, CommandError::Rejected(_)));
    for (show, error) in final_word {
        tracing::info!(onsale = %onsale.onsale_id, %show, %error, lift,
            "waiting room: a show refused");
    }
    if failed.is_empty() {
        if let Ok(client) = room.pool.get().await {
            if let Err(error) = store::mark_shows(&client, onsale.onsale_id, lift).await {
                tracing::warn!(%error, "waiting room: could not mark the shows done");
            }
        }
    } else {
        for (show, error) in failed {
            tracing::warn!(onsale = %onsale.onsale_id, %show, %error, lift,
                "waiting room: a show refused; will retry");
        }
    }
}
