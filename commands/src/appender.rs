//! Group commit: the appends of every show writer of this process share commits.
//!
//! A writer decides its show's batch and hands the events here instead of appending them
//! itself. One task takes whatever batches have queued, of any number of shows, and writes
//! them with one [`EventLog::append_many`]: one commit (and one WAL flush) for all of them,
//! which is what makes load spread over many shows as cheap per command as a hot show,
//! whose writer already batches its own commands. Up to `in_flight` groups are committed at
//! once, so a batch that arrives while a commit is under way waits for a free slot, not for
//! that commit to end; meanwhile the next group grows. Each writer is answered when its own
//! batch is durable, with its own result: another show's conflict is not its concern.

use boxoffice_eventstore::{
    AppendResult, EventLog, EventLogError, ExpectedVersion, NewEvent, StreamAppend,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Semaphore};

#[derive(Debug, Clone)]
pub struct AppenderConfig {
    /// Groups being committed at once.
    pub in_flight: usize,
    /// Most events in one group (a batch is never split: one larger than this goes alone).
    pub max_events: usize,
    /// Most streams in one group.
    pub max_streams: usize,
}

impl Default for AppenderConfig {
    fn default() -> Self {
        Self {
            in_flight: 2,
            max_events: 8192,
            max_streams: 1024,
        }
    }
}

struct Request {
    append: StreamAppend,
    reply: oneshot::Sender<Result<AppendResult, EventLogError>>,
}

/// The group committer of this process's show writers. Cheap to clone; the task ends when
/// the last clone is dropped, after committing what was queued.
#[derive(Clone)]
pub struct Appender {
    queue: mpsc::UnboundedSender<Request>,
}

impl Appender {
    pub fn spawn(log: Arc<dyn EventLog>, config: AppenderConfig) -> Self {
        let (queue, requests) = mpsc::unbounded_channel();
        tokio::spawn(run(log, config, requests));
        Self { queue }
    }

    /// Appends `events` to `stream` at `expected` in the next group; answers once they are
    /// durable (or refused).
    pub async fn append(
        &self,
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, EventLogError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            append: StreamAppend {
                stream,
                expected,
                events,
            },
            reply,
        };
        if self.queue.send(request).is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> EventLogError {
    EventLogError::Unavailable("the group committer stopped".into())
}

async fn run(
    log: Arc<dyn EventLog>,
    config: AppenderConfig,
    mut requests: mpsc::UnboundedReceiver<Request>,
) {
    let slots = Arc::new(Semaphore::new(config.in_flight.max(1)));
    // A request taken from the queue that did not fit the last group starts the next one.
    let mut carried: Option<Request> = None;
    loop {
        let first = match carried.take() {
            Some(request) => request,
            None => match requests.recv().await {
                Some(request) => request,
                None => break,
            },
        };
        // Waiting for a slot is when the group grows: everything queued meanwhile joins it.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let mut events = first.append.events.len();
        let mut group = vec![first];
        while group.len() < config.max_streams {
            let Ok(next) = requests.try_recv() else { break };
            if events + next.append.events.len() > config.max_events {
                carried = Some(next);
                break;
            }
            events += next.append.events.len();
            group.push(next);
        }
        let log = log.clone();
        tokio::spawn(async move {
            commit(&*log, group).await;
            drop(slot);
        });
    }
    // Every clone is gone: wait for the groups still being committed.
    let _ = slots.acquire_many(config.in_flight.max(1) as u32).await;
}

async fn commit(log: &dyn EventLog, group: Vec<Request>) {
    let started = Instant::now();
    let streams = group.len();
    let (appends, replies): (Vec<StreamAppend>, Vec<_>) = group
        .into_iter()
        .map(|request| (request.append, request.reply))
        .unzip();
    let answers = log.append_many(appends).await;
    metrics::histogram!("boxoffice_group_commit_streams").record(streams as f64);
    metrics::histogram!("boxoffice_group_commit_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    for (reply, answer) in replies.into_iter().zip(answers) {
        // A writer that stopped waiting is no reason to fail the others.
        let _ = reply.send(answer);
    }
}
