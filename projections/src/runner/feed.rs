//! One reader of the log for every projector of the process.
//!
//! Each projector used to follow the log on its own: nine readers woken by every commit, each
//! reading and decoding the same new events. The feed reads them once, decodes them once and
//! hands the same batch to every projector. When the process starts, the feed first replays
//! the log from the checkpoint of the projector furthest behind to the log's end, at the pace
//! of the slowest projector (it reads a batch only once every projector has all but a few of
//! the earlier ones), so that projectors catching up after a seed, an import or a long stop
//! read and decode the log once between them; then it follows new commits, and no longer
//! waits for anyone. A projector that is behind after that (an operator rebuilt its read
//! model, it failed and started again, or it fell more batches behind the feed than the feed
//! keeps) reads the log itself until it meets the feed's batches again: each batch says where
//! it starts, so a projector always knows whether it has a gap to fill first.

use super::{checkpoints, ProjectionError};
use crate::{Applying, Event};
use boxoffice_domain::access::AccessEvent;
use boxoffice_domain::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoEvent;
use boxoffice_domain::{ShowEvent, StoredEvent, StreamName};
use boxoffice_eventstore::{EventLog, Position, RecordedEvent};
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// Events of the log in order, decoded, starting right after `after`.
pub(crate) struct FeedBatch {
    pub after: Position,
    pub events: Vec<RecordedEvent>,
    pub decoded: Vec<Decoded>,
}

impl FeedBatch {
    /// Up to `max` events of the log after `after`, decoded.
    pub async fn read(
        log: &dyn EventLog,
        after: Position,
        max: usize,
    ) -> Result<Self, ProjectionError> {
        let events = log.read_all(after, max).await?;
        Self::decode_blocking(after, events).await
    }

    /// `events`, read after `after`, decoded on a blocking thread (a large batch, a
    /// rebuild's, would otherwise hold a worker of the runtime for as long).
    async fn decode_blocking(
        after: Position,
        events: Vec<RecordedEvent>,
    ) -> Result<Self, ProjectionError> {
        let decoding = tokio::task::spawn_blocking(move || Self::decoded(after, events));
        match decoding.await {
            Ok(done) => done,
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    }

    /// `events`, read after `after`, decoded here, keeping only the decoded form of each
    /// body (see [`shed_bodies`]).
    fn decoded(after: Position, mut events: Vec<RecordedEvent>) -> Result<Self, ProjectionError> {
        let decoded = decode(&events)?;
        shed_bodies(&mut events, &decoded);
        Ok(Self {
            after,
            events,
            decoded,
        })
    }

    pub fn last(&self) -> Position {
        self.events.last().map_or(self.after, |e| e.position)
    }

    /// Drops its events after `until`.
    pub fn end_at(&mut self, until: Position) {
        let kept = self.events.partition_point(|e| e.position <= until);
        self.events.truncate(kept);
        self.decoded.retain(|d| d.index < kept);
    }

    /// Its decoded events after `after`, as projectors take them.
    pub fn applying_after(&self, after: Position) -> impl Iterator<Item = Applying<'_>> {
        applying(&self.events, &self.decoded).filter(move |e| e.recorded.position > after)
    }
}

/// One event of a batch, decoded into its domain type.
pub(crate) struct Decoded {
    /// Its place in the batch it was read in.
    index: usize,
    stream_id: Uuid,
    event: Event,
}

/// The events of a batch, read into domain events (streams of no projector are skipped).
pub(crate) fn decode(batch: &[RecordedEvent]) -> Result<Vec<Decoded>, ProjectionError> {
    batch
        .iter()
        .enumerate()
        .filter_map(|(index, recorded)| {
            let name = StreamName::parse(&recorded.stream)?;
            let (t, v, data) = (
                recorded.event_type.as_str(),
                recorded.schema_version,
                &recorded.data,
            );
            let event = match name {
                StreamName::Show(_) => ShowEvent::from_stored(t, v, data).map(Event::Show),
                StreamName::Cities => CitiesEvent::from_stored(t, v, data).map(Event::Cities),
                StreamName::Cinema(_) => CinemaEvent::from_stored(t, v, data).map(Event::Cinema),
                StreamName::Movie(_) => MovieEvent::from_stored(t, v, data).map(Event::Movie),
                StreamName::Payment(_) => PaymentEvent::from_stored(t, v, data).map(Event::Payment),
                StreamName::Promo(_) => PromoEvent::from_stored(t, v, data).map(Event::Promo),
                StreamName::Access => AccessEvent::from_stored(t, v, data).map(Event::Access),
                // The log's own seals are no projector's business.
                StreamName::Seals => return None,
            };
            Some(
                event
                    .map(|event| Decoded {
                        index,
                        stream_id: name.id(),
                        event,
                    })
                    .map_err(|e| ProjectionError::Unreadable {
                        stream: recorded.stream.clone(),
                        event_id: recorded.event_id,
                        reason: e.to_string(),
                    }),
            )
        })
        .collect()
}

/// Lets go of the stored bodies of the events that were decoded: the batch is kept until
/// the slowest projector has it, and a body as JSON is several times its decoded form (a
/// show's layout: thousands of small maps, where the decoded layout is one shared copy).
fn shed_bodies(batch: &mut [RecordedEvent], decoded: &[Decoded]) {
    for d in decoded {
        batch[d.index].data = serde_json::Value::Null;
    }
}

/// The decoded events of `batch` as projectors take them.
pub(crate) fn applying<'a>(
    batch: &'a [RecordedEvent],
    decoded: &'a [Decoded],
) -> impl Iterator<Item = Applying<'a>> {
    decoded.iter().map(|d| Applying {
        stream_id: d.stream_id,
        event: &d.event,
        recorded: &batch[d.index],
    })
}

/// Batches the feed keeps unread by the slowest projector while it replays the log at the
/// start (fewer if the feed keeps fewer): a seed's events are large, so this bounds the
/// memory the replay holds as well as the projectors' spread.
const REPLAY_AHEAD: usize = 4;

/// What the feed serves: the projectors to wait for while replaying (their checkpoints are
/// where the replay starts), and how many batches it keeps for them.
pub(super) struct Audience {
    pub pool: Pool,
    pub projectors: Vec<&'static str>,
    pub kept: usize,
}

/// Replays the log from the lowest checkpoint, then follows it from its readable end and
/// sends every batch to every projector, until `stop`. A failed read is logged and tried
/// again from where it failed.
pub(super) async fn run(
    log: Arc<dyn EventLog>,
    sender: broadcast::Sender<Arc<FeedBatch>>,
    audience: Audience,
    batch_size: usize,
    mut stop: watch::Receiver<bool>,
) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(1);
    let mut backoff = FIRST_BACKOFF;
    let mut after: Option<Position> = None;
    loop {
        let followed = match after {
            Some(_) => Ok(()),
            None => replay(&*log, &sender, &audience, batch_size, &mut after, &mut stop).await,
        };
        let followed = match followed {
            Ok(()) if *stop.borrow() => return,
            Ok(()) => follow(&*log, &sender, batch_size, &mut after, &mut stop).await,
            Err(error) => Err(error),
        };
        match followed {
            Ok(()) => return,
            Err(error) => tracing::warn!(%error, "the projectors' log reader stopped; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sends the log from the lowest checkpoint of `audience` to the log's end as it is now, a
/// batch at a time once every projector has taken all but [`REPLAY_AHEAD`] of the batches
/// before; sets `after` to where it ended. A projector that is further ahead skips what it
/// has applied.
async fn replay(
    log: &dyn EventLog,
    sender: &broadcast::Sender<Arc<FeedBatch>>,
    audience: &Audience,
    batch_size: usize,
    after: &mut Option<Position>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    const PACE: Duration = Duration::from_millis(2);
    let end = log.head().await?;
    let mut at = end;
    for name in &audience.projectors {
        at = at.min(checkpoints::load(&audience.pool, name).await?);
    }
    if at < end {
        tracing::info!(from = %at, to = %end, "projectors replay the log together");
    }
    // Every projector listens before the first batch, so that none has a gap to read alone.
    let ahead = REPLAY_AHEAD.min(audience.kept).max(1);
    while at < end {
        while sender.receiver_count() < audience.projectors.len() || sender.len() >= ahead {
            tokio::select! {
                () = tokio::time::sleep(PACE) => {}
                _ = stop.changed() => return Ok(()),
            }
        }
        let batch = FeedBatch::read(log, at, batch_size).await?;
        if batch.events.is_empty() {
            break;
        }
        at = batch.last();
        let _ = sender.send(Arc::new(batch));
    }
    *after = Some(at.max(end));
    Ok(())
}

async fn follow(
    log: &dyn EventLog,
    sender: &broadcast::Sender<Arc<FeedBatch>>,
    batch_size: usize,
    after: &mut Option<Position>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    let start = match *after {
        Some(position) => position,
        None => *after.insert(log.head().await?),
    };
    let mut subscription = log.subscribe(start).await?;
    let mut at = start;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let events = tokio::select! {
            events = subscription.next_batch(batch_size) => events?,
            _ = stop.changed() => return Ok(()),
        };
        // Decoded here: following, a batch is what one commit added.
        let batch = FeedBatch::decoded(at, events)?;
        at = batch.last();
        *after = Some(at);
        // No projector listening (all are catching up on their own) is not an error.
        let _ = sender.send(Arc::new(batch));
    }
}
