//! One writer task per active show.
//!
//! The writer owns the show's state in memory. It takes whatever commands have queued up (up
//! to `max_batch`), decides them one after another against the evolving state, and appends
//! all resulting events in one append: one commit for many commands, which is what keeps a
//! hot on-sale fast. Callers are answered only after the append is durable; rejections too,
//! since a rejection may rest on an earlier command of the same batch.
//!
//! The append goes through the process's group committer ([`crate::appender`]), so batches
//! of many shows share one commit.
//!
//! The writer does not read the stream before each batch: it decides on the state it holds
//! and lets the append's expected version prove that state current. If the append finds the
//! stream moved (another process wrote, or an earlier append of ours committed although its
//! answer was lost), the writer reads what it missed and decides the batch again; commands
//! already in the log are then recognised by their idempotency key and answered with their
//! original outcome. A batch that appends nothing (only refusals and replays) has no append
//! to prove it, so before answering a refusal that rests on the show's state the writer reads
//! the stream's tail, and decides again if another process moved it. Either way every answer
//! rests on a state that includes whatever was in the log when it was given: a command sent
//! to another process right after this one answered sees this one's events.
//!
//! For ten seconds after a conflict (or after finding the other's events in a turn) the show counts as contended: another process writes it
//! too. The writer then takes the show's turn from the log ([`EventLog::turn`], a lock
//! across processes) for each batch, reads the tail in it, decides and appends, so two
//! processes selling one hot show alternate batch by batch instead of racing and deciding
//! again (where one that is always busy can keep winning). A writer idle for `idle_after`
//! retires.

use crate::appender::{Appender, AppenderConfig};
use crate::idempotency::{digest, Ledger};
use crate::{Clock, CommandContext, CommandError, Outcome};
use boxoffice_domain::{decide, Show, ShowCommand, ShowEvent, ShowId, StoredEvent};
use boxoffice_eventstore::{EventLog, EventLogError, ExpectedVersion, NewEvent, StreamTurn};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Most commands decided together and appended in one append.
    pub max_batch: usize,
    /// A writer with nothing to do for this long retires, freeing its memory.
    pub idle_after: Duration,
    /// Commands that may wait for one show's writer before callers wait to enqueue.
    pub queue: usize,
    /// Tries at one batch when the stream keeps moving under it.
    pub max_attempts: usize,
    /// How the writers' batches are grouped into commits.
    pub group_commit: AppenderConfig,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            max_batch: 256,
            idle_after: Duration::from_secs(60),
            queue: 4096,
            max_attempts: 16,
            group_commit: AppenderConfig::default(),
        }
    }
}

/// How long a show counts as written by another process too after the last sign of it (a
/// conflict, or its events found at the tail in a turn).
const CONTENDED_FOR: Duration = Duration::from_secs(10);

/// Most writers of one process taking turns at once (see `Registry::turns`).
const TURNS_AT_ONCE: usize = 8;

/// A command waiting for its show's writer. Queued boxed: a writer's queue allocates room for
/// 32 at a time when it starts, and every active show has one.
struct Envelope {
    command: ShowCommand,
    context: CommandContext,
    digest: String,
    reply: oneshot::Sender<Result<Outcome, CommandError>>,
}

/// Where commands for one show's writer wait.
type Queue = mpsc::Sender<Box<Envelope>>;

struct Registry {
    capacity: Arc<Capacity>,
    log: Arc<dyn EventLog>,
    appender: Appender,
    clock: Arc<dyn Clock>,
    config: WriterConfig,
    writers: Mutex<HashMap<ShowId, (u64, Queue)>>,
    generation: AtomicU64,
    active: AtomicUsize,
    stopped: Notify,
    closing: AtomicBool,
    /// Turns being taken at once: each holds a database connection while it waits for the
    /// show's lock, so they are kept to a share of the pool.
    turns: Arc<Semaphore>,
}

/// The writers of this process, spawned on demand per show.
#[derive(Clone)]
pub struct ShowWriters {
    registry: Arc<Registry>,
}

impl ShowWriters {
    /// Writers over `log`, and their group committer (spawned on the current runtime).
    pub fn new(log: Arc<dyn EventLog>, clock: Arc<dyn Clock>, config: WriterConfig) -> Self {
        Self {
            registry: Arc::new(Registry {
                capacity: Arc::default(),
                appender: Appender::spawn(log.clone(), config.group_commit.clone()),
                log,
                clock,
                config,
                writers: Mutex::new(HashMap::new()),
                generation: AtomicU64::new(0),
                active: AtomicUsize::new(0),
                stopped: Notify::new(),
                closing: AtomicBool::new(false),
                turns: Arc::new(Semaphore::new(TURNS_AT_ONCE)),
            }),
        }
    }

    /// Decides `command` on `show` and appends its events; answers once they are durable.
    pub async fn execute(
        &self,
        show: ShowId,
        command: ShowCommand,
        context: CommandContext,
    ) -> Result<Outcome, CommandError> {
        let (reply, answer) = oneshot::channel();
        let mut envelope = Box::new(Envelope {
            digest: digest(&command),
            command,
            context,
            reply,
        });
        loop {
            if self.registry.closing.load(Ordering::Acquire) {
                return Err(CommandError::Unavailable(
                    "the server is shutting down".into(),
                ));
            }
            let (generation, sender) = self.sender(show);
            match sender.send(envelope).await {
                Ok(()) => break,
                // The writer retired between our lookup and the send: start a new one.
                Err(mpsc::error::SendError(returned)) => {
                    envelope = returned;
                    self.forget(show, generation);
                }
            }
        }
        answer.await.unwrap_or_else(|_| {
            Err(CommandError::Unavailable(
                "the show's writer stopped before answering".into(),
            ))
        })
    }

    /// Commands per second one show's writer has been getting through (a moving average
    /// over its batches: commands decided over the time to decide and append them); `None`
    /// before any batch. At light load it is one command over one append's time, a floor;
    /// under load, batching raises it. The waiting room sets an automatic rate from it.
    pub fn measured_capacity(&self) -> Option<f64> {
        self.registry.capacity.per_second()
    }

    pub fn active_writers(&self) -> usize {
        self.registry.active.load(Ordering::Relaxed)
    }

    /// Refuses new commands, lets every writer finish what is queued, and waits up to
    /// `timeout` for them. Returns whether all finished.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.registry.closing.store(true, Ordering::Release);
        lock(&self.registry.writers).clear();
        let all_stopped = async {
            loop {
                let stopped = self.registry.stopped.notified();
                if self.registry.active.load(Ordering::Acquire) == 0 {
                    return;
                }
                stopped.await;
            }
        };
        tokio::time::timeout(timeout, all_stopped).await.is_ok()
    }

    fn sender(&self, show: ShowId) -> (u64, Queue) {
        let mut writers = lock(&self.registry.writers);
        if let Some((generation, sender)) = writers.get(&show) {
            return (*generation, sender.clone());
        }
        let generation = self.registry.generation.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(self.registry.config.queue);
        writers.insert(show, (generation, sender.clone()));
        self.registry.active.fetch_add(1, Ordering::AcqRel);
        let writer = Writer {
            show,
            stream: show.stream(),
            generation,
            log: self.registry.log.clone(),
            appender: self.registry.appender.clone(),
            clock: self.registry.clock.clone(),
            config: self.registry.config.clone(),
            registry: Arc::downgrade(&self.registry),
            capacity: self.registry.capacity.clone(),
            turns: self.registry.turns.clone(),
            state: None,
            stale: false,
            contended_until: None,
        };
        tokio::spawn(writer.run(receiver));
        (generation, sender)
    }

    fn forget(&self, show: ShowId, generation: u64) {
        let mut writers = lock(&self.registry.writers);
        if writers.get(&show).is_some_and(|(g, _)| *g == generation) {
            writers.remove(&show);
        }
    }
}

/// A moving average of the commands per second a writer gets through, kept as an `f64`'s
/// bits (0: nothing measured yet); writers update it without a lock (a lost update of a
/// moving average loses nothing that matters).
#[derive(Default)]
struct Capacity(AtomicU64);

impl Capacity {
    /// How much one batch moves the average.
    const WEIGHT: f64 = 0.05;

    fn record(&self, commands: usize, took: Duration) {
        let seconds = took.as_secs_f64();
        if seconds <= 0.0 {
            return;
        }
        let sample = commands as f64 / seconds;
        let average = match self.per_second() {
            None => sample,
            Some(old) => old + Self::WEIGHT * (sample - old),
        };
        self.0.store(average.to_bits(), Ordering::Relaxed);
    }

    fn per_second(&self) -> Option<f64> {
        let bits = self.0.load(Ordering::Relaxed);
        (bits != 0).then(|| f64::from_bits(bits))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The show as the writer holds it.
struct Loaded {
    show: Show,
    version: Option<u64>,
    ledger: Ledger<ShowEvent>,
}

struct Writer {
    show: ShowId,
    stream: String,
    generation: u64,
    log: Arc<dyn EventLog>,
    appender: Appender,
    clock: Arc<dyn Clock>,
    config: WriterConfig,
    registry: Weak<Registry>,
    capacity: Arc<Capacity>,
    turns: Arc<Semaphore>,
    /// `None` until loaded, and again whenever the log may hold something we cannot read
    /// from the tail on (an append of ours whose fate is unknown).
    state: Option<Loaded>,
    /// The stream is known to have moved past `state`: read its tail before deciding.
    stale: bool,
    /// Until when another process is taken to be writing this show too (set by a conflict).
    contended_until: Option<Instant>,
}

/// What became of one command of a batch, before the append.
enum Decision {
    Replay(Outcome),
    Rejected(CommandError),
    /// New events: indexes into the batch's event list.
    Appended {
        from: usize,
        to: usize,
    },
    /// The same command twice in one batch: answer like the earlier one.
    SameAs(usize),
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Box<Envelope>>) {
        tracing::debug!(show = %self.show, "show writer started");
        loop {
            let first = match tokio::time::timeout(self.config.idle_after, queue.recv()).await {
                Ok(Some(envelope)) => envelope,
                Ok(None) => break,
                Err(_idle) => {
                    if self.retire(&queue) {
                        // No new sender can reach us now; finish what is already queued.
                        queue.close();
                        let mut rest = Vec::new();
                        while let Ok(envelope) = queue.try_recv() {
                            rest.push(*envelope);
                        }
                        if !rest.is_empty() {
                            Box::pin(self.process(rest)).await;
                        }
                        break;
                    }
                    continue;
                }
            };
            let mut batch = vec![*first];
            while batch.len() < self.config.max_batch {
                match queue.try_recv() {
                    Ok(envelope) => batch.push(*envelope),
                    Err(_) => break,
                }
            }
            // Boxed: a waiting writer's task then holds only what waiting needs, not room
            // for every state of deciding and appending (kilobytes, times every active show).
            Box::pin(self.process(batch)).await;
        }
        tracing::debug!(show = %self.show, "show writer stopped");
        if let Some(registry) = self.registry.upgrade() {
            registry.active.fetch_sub(1, Ordering::AcqRel);
            registry.stopped.notify_waiters();
        }
    }

    /// Leaves the registry if nothing is queued. Holding the registry lock while checking
    /// means no caller can pick up our sender in between.
    fn retire(&self, queue: &mpsc::Receiver<Box<Envelope>>) -> bool {
        let Some(registry) = self.registry.upgrade() else {
            return true;
        };
        let mut writers = lock(&registry.writers);
        if !queue.is_empty() {
            return false;
        }
        if writers
            .get(&self.show)
            .is_some_and(|(g, _)| *g == self.generation)
        {
            writers.remove(&self.show);
        }
        true
    }

    async fn process(&mut self, batch: Vec<Envelope>) {
        let mut attempt = 0;
        let started = Instant::now();
        let answers = loop {
            attempt += 1;
            // While another process writes this show too, keep what we knew before deciding,
            // so that losing a race costs a read of the stream's tail, not of all of it.
            let contended = self
                .contended_until
                .is_some_and(|until| Instant::now() < until);
            let before = match (&self.state, contended) {
                (Some(state), true) => Some((state.show.clone(), state.version)),
                _ => None,
            };
            match self.try_batch(&batch).await {
                Ok(answers) => {
                    self.capacity.record(batch.len(), started.elapsed());
                    break answers;
                }
                Err(error) => {
                    let retry = matches!(
                        error,
                        EventLogError::WrongExpectedVersion { .. }
                            | EventLogError::DuplicateEvent(_)
                    );
                    match (&error, before, self.state.as_mut()) {
                        // Nothing of ours was written: what we knew before still holds.
                        (
                            EventLogError::WrongExpectedVersion { .. },
                            Some((show, version)),
                            Some(state),
                        ) => {
                            state.show = show;
                            state.version = version;
                            self.stale = true;
                        }
                        // The log may hold what we did not see: reload before the next try.
                        _ => self.state = None,
                    }
                    if retry {
                        self.contended_until = Some(Instant::now() + CONTENDED_FOR);
                    }
                    if retry && attempt < self.config.max_attempts {
                        metrics::counter!("boxoffice_append_conflicts_total").increment(1);
                        tracing::debug!(show = %self.show, %error, "append conflict; reloading");
                        // Another process is writing this show: step aside for a random
                        // moment that doubles with each try (up to 64 ms), so that one of
                        // the two gets through and they stop colliding.
                        let base = 1000u64 << attempt.min(6);
                        let jitter = (uuid::Uuid::new_v4().as_u128() % u128::from(base)) as u64;
                        tokio::time::sleep(Duration::from_micros(base / 2 + jitter)).await;
                        continue;
                    }
                    tracing::warn!(show = %self.show, %error, "batch failed");
                    let error = if retry {
                        // Other processes keep winning this show: a moment later may do.
                        CommandError::Unavailable(format!(
                            "the show changed under us {attempt} times; retry"
                        ))
                    } else {
                        CommandError::from(error)
                    };
                    break batch.iter().map(|_| Err(error.clone())).collect();
                }
            }
        };
        for (envelope, answer) in batch.into_iter().zip(answers) {
            count_command(&envelope.command, &answer);
            // A caller that gave up waiting is no reason to fail the others.
            let _ = envelope.reply.send(answer);
        }
    }

    /// Decides and appends one batch. An `Err` means nothing of it can be assumed written.
    async fn try_batch(
        &mut self,
        batch: &[Envelope],
    ) -> Result<Vec<Result<Outcome, CommandError>>, EventLogError> {
        // Whether the state is known to hold everything in the log now; if not, an append
        // proves it (its expected version), and a batch without one reads the tail.
        let mut checked = true;
        // While another process writes this show too, the writers take turns: each holds
        // the show's turn (a lock across processes) while it reads the tail, decides and
        // appends, so neither decides on a state the other is about to outdate.
        let contended = self
            .contended_until
            .is_some_and(|until| Instant::now() < until);
        let (_permit, mut turn) = match contended {
            true => {
                let permit = self.turns.clone().acquire_owned().await.ok();
                (permit, self.log.turn(&self.stream).await?)
            }
            false => (None, None),
        };
        let mut state = match self.state.take() {
            None => self.load(turn.as_mut()).await?,
            Some(mut loaded) if self.stale || contended => {
                let seen = loaded.version;
                self.catch_up(&mut loaded, turn.as_mut()).await?;
                if contended && loaded.version != seen {
                    // The other process is still writing: keep taking turns.
                    self.contended_until = Some(Instant::now() + CONTENDED_FOR);
                }
                loaded
            }
            Some(loaded) => {
                checked = false;
                loaded
            }
        };
        self.stale = false;
        let now = self.clock.now();
        let Decided {
            decisions,
            events,
            new_events,
        } = loop {
            let decided = decide_batch(&mut state, batch, &self.stream, now);
            if !checked && decided.new_events.is_empty() && decided.rests_on_state() {
                let seen = state.version;
                self.catch_up(&mut state, None).await?;
                checked = true;
                if state.version != seen {
                    continue;
                }
            }
            break decided;
        };
        self.state = Some(state);
        let state = self.state.as_mut().expect("set just above");

        let mut appended_at = None;
        if !new_events.is_empty() {
            let started = Instant::now();
            let expected = ExpectedVersion::after(state.version);
            let result = match turn {
                Some(turn) => turn.append(expected, new_events).await?,
                None => {
                    self.appender
                        .append(self.stream.clone(), expected, new_events)
                        .await?
                }
            };
            metrics::histogram!("boxoffice_append_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            metrics::histogram!("boxoffice_writer_batch_size").record(batch.len() as f64);
            state.version = Some(result.last_version);
            appended_at = Some(result.position);
        }

        let mut answers: Vec<Result<Outcome, CommandError>> = Vec::with_capacity(batch.len());
        for (index, decision) in decisions.into_iter().enumerate() {
            let answer = match decision {
                Decision::Replay(outcome) => Ok(outcome),
                Decision::Rejected(error) => Err(error),
                Decision::SameAs(earlier) => answers[earlier].clone().map(|mut outcome| {
                    outcome.replayed = true;
                    outcome
                }),
                Decision::Appended { from, to } => {
                    let outcome = Outcome {
                        events: events[from..to].to_vec(),
                        position: appended_at.unwrap_or_default(),
                        replayed: false,
                    };
                    let context = &batch[index].context;
                    state.ledger.remember(
                        context.actor.clone(),
                        context.idempotency_key.clone(),
                        batch[index].digest.clone(),
                        outcome.clone(),
                    );
                    Ok(outcome)
                }
            };
            answers.push(answer);
        }
        Ok(answers)
    }

    /// Reads the whole stream (in `turn` when given): the show's state, its version, and
    /// the commands it holds.
    async fn load(&self, turn: Option<&mut Box<dyn StreamTurn>>) -> Result<Loaded, EventLogError> {
        let mut loaded = Loaded {
            show: Show::default(),
            version: None,
            ledger: Ledger::default(),
        };
        self.catch_up(&mut loaded, turn).await?;
        Ok(loaded)
    }

    /// Applies whatever the stream holds after `loaded.version` (read in `turn` when given):
    /// events another process appended. Appends are atomic, so this always starts at the
    /// boundary of one.
    async fn catch_up(
        &self,
        loaded: &mut Loaded,
        mut turn: Option<&mut Box<dyn StreamTurn>>,
    ) -> Result<(), EventLogError> {
        const PAGE: usize = 1000;
        let mut from = loaded.version.map_or(0, |v| v + 1);
        loop {
            let page = match turn.as_mut() {
                Some(turn) => turn.read_stream(from, PAGE).await?,
                None => self.log.read_stream(&self.stream, from, PAGE).await?,
            };
            for stored in &page {
                let event =
                    ShowEvent::from_stored(&stored.event_type, stored.schema_version, &stored.data)
                        .map_err(|e| EventLogError::Failed(format!("{}: {e}", self.stream)))?;
                loaded.show = std::mem::take(&mut loaded.show).evolve(&event);
                loaded.ledger.learn(stored, event);
                loaded.version = Some(stored.version);
                from = stored.version + 1;
            }
            if page.len() < PAGE {
                break;
            }
        }
        loaded.ledger.finish();
        Ok(())
    }
}

/// A batch decided, before its append.
struct Decided {
    decisions: Vec<Decision>,
    events: Vec<ShowEvent>,
    new_events: Vec<NewEvent>,
}

impl Decided {
    /// Whether an answer rests on the show's state (a refusal by its rules or its venue, or
    /// an acceptance that changes nothing) rather than on the batch or the ledger alone.
    fn rests_on_state(&self) -> bool {
        self.decisions.iter().any(|d| match d {
            Decision::Rejected(e) => !matches!(e, CommandError::KeyReused),
            Decision::Appended { from, to } => from == to,
            Decision::Replay(_) | Decision::SameAs(_) => false,
        })
    }
}

/// Decides `batch` in order against `state`, evolving it by each accepted command's events.
fn decide_batch(
    state: &mut Loaded,
    batch: &[Envelope],
    stream: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Decided {
    let mut decisions = Vec::with_capacity(batch.len());
    let mut events: Vec<ShowEvent> = Vec::new();
    let mut new_events: Vec<NewEvent> = Vec::new();
    let mut in_batch: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, envelope) in batch.iter().enumerate() {
        let context = &envelope.context;
        let key = (context.actor.as_str(), context.idempotency_key.as_str());
        if let Some(remembered) = state.ledger.get(key.0, key.1) {
            decisions.push(if remembered.digest == envelope.digest {
                Decision::Replay(remembered.outcome.clone())
            } else {
                Decision::Rejected(CommandError::KeyReused)
            });
            continue;
        }
        if let Some(&earlier) = in_batch.get(&key) {
            decisions.push(if batch[earlier].digest == envelope.digest {
                Decision::SameAs(earlier)
            } else {
                Decision::Rejected(CommandError::KeyReused)
            });
            continue;
        }
        if let Err(refused) = context.may_act_on(cinema_of(&state.show, &envelope.command)) {
            decisions.push(Decision::Rejected(refused));
            continue;
        }
        match decide(&state.show, &envelope.command, now) {
            Ok(decided) => {
                in_batch.insert(key, index);
                let from = events.len();
                let metadata = context.metadata(envelope.command.name(), &envelope.digest);
                for (n, event) in decided.into_iter().enumerate() {
                    state.show = std::mem::take(&mut state.show).evolve(&event);
                    new_events.push(NewEvent {
                        event_id: context.event_id(stream, n),
                        event_type: event.event_type().to_owned(),
                        schema_version: event.schema_version(),
                        data: event.to_json(),
                        metadata: metadata.clone(),
                        recorded_at: None,
                    });
                    events.push(event);
                }
                decisions.push(Decision::Appended {
                    from,
                    to: events.len(),
                });
            }
            Err(rejection) => decisions.push(Decision::Rejected(rejection.into())),
        }
    }
    Decided {
        decisions,
        events,
        new_events,
    }
}

/// `boxoffice_commands_total{command, outcome, code}`: every answered command.
fn count_command(command: &ShowCommand, answer: &Result<Outcome, CommandError>) {
    let (outcome, code) = match answer {
        Ok(outcome) if outcome.replayed => ("replayed", ""),
        Ok(_) => ("accepted", ""),
        Err(CommandError::Rejected(error)) => ("rejected", error.code()),
        Err(CommandError::KeyReused) => ("rejected", "idempotency_key_reused"),
        Err(CommandError::Unavailable(_)) => ("unavailable", ""),
        Err(CommandError::Failed(_)) => ("failed", ""),
        Err(CommandError::Forbidden(_)) => ("rejected", "forbidden"),
    };
    metrics::counter!(
        "boxoffice_commands_total",
        "command" => command.name(),
        "outcome" => outcome,
        "code" => code,
    )
    .increment(1);
}

/// The cinema a show command acts in: the show's venue, or the one it is being scheduled in.
fn cinema_of(show: &Show, command: &ShowCommand) -> Option<uuid::Uuid> {
    let venue = match command {
        ShowCommand::ScheduleShow { venue, .. } => venue.as_ref(),
        _ => show.venue(),
    };
    venue.map(|v| v.cinema_id.0)
}
