//! The server's sealer: every N events or T seconds, whichever comes first, it appends a
//! seal (see [`crate::seal`]) over the heads of the streams changed since the last one.
//!
//! It follows the log from the last seal's `through` position, so a restart loses nothing:
//! the next seal covers whatever the previous process did not. Any number of processes may
//! run it: seals are appended at the version the sealer read, so when two race, one seal
//! goes in and the other process starts again from it.

use crate::seal::{Seal, SealBody, SealedHead, SigningKey, SEAL_EVENT, SEAL_SCHEMA_VERSION};
use crate::verify_log::read_seal_events;
use boxoffice_domain::StreamName;
use boxoffice_eventstore::{
    EventLog, EventLogError, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

/// When to seal.
#[derive(Debug, Clone)]
pub struct SealSchedule {
    /// After this many events...
    pub every_events: u64,
    /// ...or this long after the first event not yet sealed.
    pub every: Duration,
}

impl Default for SealSchedule {
    fn default() -> Self {
        Self {
            every_events: 10_000,
            every: Duration::from_secs(60),
        }
    }
}

/// The sealing task of this process.
pub struct Sealer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Sealer {
    pub fn start(log: Arc<dyn EventLog>, key: Arc<SigningKey>, schedule: SealSchedule) -> Self {
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(run(log, key, schedule, stopping));
        Self { stop, task }
    }

    /// Stops; what is not sealed yet is sealed by the next start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    log: Arc<dyn EventLog>,
    key: Arc<SigningKey>,
    schedule: SealSchedule,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match follow(&*log, &key, &schedule, &mut stopping).await {
            Ok(Followed::Stopped) => return,
            Ok(Followed::Overtaken) => backoff = Duration::from_millis(200),
            Err(error) => {
                tracing::warn!(%error, "sealer: cannot follow the log; trying again");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopping.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

enum Followed {
    Stopped,
    /// Another process sealed first: start again from its seal.
    Overtaken,
}

/// The last seal and where it is.
struct Last {
    seal: Option<Seal>,
    /// Its version in the `seals` stream.
    version: Option<u64>,
}

async fn follow(
    log: &dyn EventLog,
    key: &SigningKey,
    schedule: &SealSchedule,
    stopping: &mut watch::Receiver<bool>,
) -> Result<Followed, EventLogError> {
    let seals_stream = StreamName::Seals.to_string();
    let mut last = match read_seal_events(log).await?.pop() {
        Some((version, Ok(seal))) => Last {
            seal: Some(seal),
            version: Some(version),
        },
        // Sealing on after it would chain seals past something that fixes nothing; an
        // auditor must look first (`audit verify-log` names it).
        Some((version, Err(reason))) => {
            return Err(EventLogError::Failed(format!(
                "the seals stream's last event (version {version}) is not a seal ({reason}): \
                 no more seals until it is looked into"
            )))
        }
        None => Last {
            seal: None,
            version: None,
        },
    };
    let mut through = last
        .seal
        .as_ref()
        .map_or(Position::START, |s| s.body.through);
    let mut pending: BTreeMap<String, SealedHead> = BTreeMap::new();
    let mut count = 0u64;
    let mut due: Option<Instant> = None;
    let mut subscription = log.subscribe(through).await?;
    loop {
        let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            batch = subscription.next_batch(1_000) => {
                for event in batch? {
                    if event.stream == seals_stream {
                        if last.version.is_none_or(|v| event.version > v) {
                            return Ok(Followed::Overtaken);
                        }
                        continue;
                    }
                    note(&mut pending, &event);
                    through = event.position;
                    count += 1;
                    due.get_or_insert_with(|| Instant::now() + schedule.every);
                }
                if count < schedule.every_events {
                    continue;
                }
            }
            () = tokio::time::sleep_until(deadline), if due.is_some() => {}
            _ = stopping.changed() => return Ok(Followed::Stopped),
        }
        if pending.is_empty() {
            due = None;
            continue;
        }
        let seal = key.seal(SealBody {
            number: last.seal.as_ref().map_or(1, |s| s.body.number + 1),
            sealed_at: boxoffice_eventstore::chain::truncate_to_micros(chrono::Utc::now()),
            through,
            previous: last.seal.as_ref().map(|s| s.body.digest()),
            streams: std::mem::take(&mut pending).into_values().collect(),
            public_key: key.public_key().to_hex(),
        });
        let event = NewEvent {
            event_id: Uuid::new_v4(),
            event_type: SEAL_EVENT.into(),
            schema_version: SEAL_SCHEMA_VERSION,
            data: serde_json::to_value(&seal)
                .expect("a seal is numbers, strings and lists: it always serialises"),
            metadata: Metadata {
                actor: Some("system:sealer".into()),
                ..Metadata::default()
            },
            recorded_at: None,
        };
        match log
            .append(
                &seals_stream,
                ExpectedVersion::after(last.version),
                vec![event],
            )
            .await
        {
            Ok(appended) => {
                tracing::debug!(
                    seal = seal.body.number,
                    streams = seal.body.streams.len(),
                    "sealed"
                );
                last = Last {
                    seal: Some(seal),
                    version: Some(appended.last_version),
                };
                count = 0;
                due = None;
            }
            Err(EventLogError::WrongExpectedVersion { .. }) => return Ok(Followed::Overtaken),
            Err(other) => return Err(other),
        }
    }
}

/// A stream's newest head, as the next seal will fix it.
fn note(pending: &mut BTreeMap<String, SealedHead>, event: &RecordedEvent) {
    let Some(hash) = event.hash else {
        tracing::warn!(stream = %event.stream, version = event.version,
            "sealer: an event without a hash cannot be sealed");
        return;
    };
    pending.insert(
        event.stream.clone(),
        SealedHead {
            stream: event.stream.clone(),
            version: event.version,
            hash,
        },
    );
}
