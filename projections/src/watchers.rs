//! Who is watching which show's read model in this process (live seat-map streams, waiting-
//! list long-polls), so that a batch wakes only those of the shows it changed. Waking every
//! watcher whenever the projector moved made each of them look again after every batch: with
//! thousands of people watching hundreds of shows, thousands of reads per batch, nearly all
//! finding nothing.
//!
//! The projector (seat map, waiting list) of this process wakes the shows of each batch it
//! commits. A batch another process applied is not told here (that process's projector
//! folded it), so when this process's projector finds its checkpoint moved past such
//! batches, it wakes every watcher. The number of watchers is capped: past the cap, a new one
//! is refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

pub struct ShowWatchers {
    max: usize,
    open: AtomicUsize,
    shows: Mutex<HashMap<Uuid, watch::Sender<()>>>,
    everyone: watch::Sender<()>,
}

/// The cap on watchers is reached.
#[derive(Debug, thiserror::Error)]
#[error("{0} are watching, as many as this server allows")]
pub struct TooManyWatchers(pub usize);

/// One stream's watch on one show; it stops watching when dropped.
pub struct Watching {
    watchers: Arc<ShowWatchers>,
    show: Uuid,
    mine: watch::Receiver<()>,
    everyone: watch::Receiver<()>,
}

impl ShowWatchers {
    /// At most `max` streams open at once.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: AtomicUsize::new(0),
            shows: Mutex::new(HashMap::new()),
            everyone: watch::Sender::new(()),
        }
    }

    /// Starts watching `show`, unless as many streams as allowed are open.
    pub fn watch(self: &Arc<Self>, show: Uuid) -> Result<Watching, TooManyWatchers> {
        let before = self.open.fetch_add(1, Ordering::Relaxed);
        if before >= self.max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(TooManyWatchers(before));
        }
        let mine = self
            .lock()
            .entry(show)
            .or_insert_with(|| watch::Sender::new(()))
            .subscribe();
        Ok(Watching {
            watchers: self.clone(),
            show,
            mine,
            everyone: self.everyone.subscribe(),
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Wakes the streams watching any of `shows`.
    pub(crate) fn wake<'a>(&self, shows: impl Iterator<Item = &'a Uuid>) {
        let watched = self.lock();
        for show in shows {
            if let Some(sender) = watched.get(show) {
                sender.send_replace(());
            }
        }
    }

    /// Wakes every stream (the projector moved over batches it was not told about, or the
    /// server is stopping).
    pub fn wake_all(&self) {
        self.everyone.send_replace(());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, watch::Sender<()>>> {
        self.shows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Watching {
    /// Marks every wake so far as seen: call it before looking for news, and a wake that
    /// comes after is not missed.
    pub fn seen(&mut self) {
        self.mine.borrow_and_update();
        self.everyone.borrow_and_update();
    }

    /// Waits until the show may have changed since [`Watching::seen`], or `idle` passes.
    pub async fn changed(&mut self, idle: Duration) {
        tokio::select! {
            _ = self.mine.changed() => {}
            _ = self.everyone.changed() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.watchers.open.fetch_sub(1, Ordering::Relaxed);
        let mut watched = self.watchers.lock();
        // This stream's own receiver is the last one: nobody else watches the show.
        if watched
            .get(&self.show)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            watched.remove(&self.show);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_wakes_for_its_show_and_for_all_and_the_cap_holds() {
        let watchers = Arc::new(ShowWatchers::new(2));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut on_a = watchers.watch(a).unwrap();
        let mut on_b = watchers.watch(b).unwrap();
        assert!(
            watchers.watch(a).is_err(),
            "a third stream past a cap of two"
        );
        on_a.seen();
        on_b.seen();
        watchers.wake([a].iter());
        let woken = |w: &Watching| {
            w.mine.has_changed().unwrap_or(false) || w.everyone.has_changed().unwrap_or(false)
        };
        assert!(woken(&on_a) && !woken(&on_b), "only a's stream is woken");
        on_a.seen();
        watchers.wake_all();
        assert!(woken(&on_a) && woken(&on_b), "every stream is woken");
        drop(on_a);
        assert_eq!(watchers.open(), 1);
        assert!(
            !watchers.lock().contains_key(&a),
            "nobody watches a any more"
        );
        let _again = watchers.watch(a).unwrap();
    }
}
