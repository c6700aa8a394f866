//! The virtual waiting room for a high-demand on-sale: people line up, and are let in at a
//! rate the shop can serve, in a fair order.
//!
//! Staff mark an on-sale (some shows, or a movie's opening across its shows) with an
//! opening time and an admission rate. Whoever arrives before the opening joins a pre-queue
//! whose order is drawn once, at the opening, by a shuffle (so arriving early buys no
//! advantage over arriving on time, and a bot that arrives first gains nothing); whoever
//! arrives after joins at the back, first come first served. From the opening, admission
//! number `k` is due at `opens_at + k / rate` (a schedule that never falls more than
//! [`store::LAG`] behind the clock): an admission lets its customer hold seats of
//! the on-sale's shows for a window, with a signed token only they can use.
//!
//! The line is kept in PostgreSQL ([`store`]): it survives a restart, and any number of
//! server processes share it. Each runs an [`Admitter`]; the on-sale's advisory lock (tried,
//! never waited for) lets one admit at a time, and each admission's number is unique, so nobody
//! is admitted twice. The shows' streams say when a show was put under a queue and when it
//! was lifted, and the show decides each hold against it (`boxoffice_domain::show::Admission`),
//! so a hold without an admission is refused however many processes serve it.

mod admitter;
pub mod store;
pub mod tokens;

pub use admitter::Admitter;

use crate::auth::JwtKeys;
use boxoffice_commands::{Clock, CommandContext, CommandError, ShowWriters};
use boxoffice_domain::{ShowCommand, ShowId};
use deadpool_postgres::Pool;
use futures_util::{stream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use uuid::Uuid;

/// The schema steps of the waiting room's tables.
pub const MIGRATIONS: &[&str] = &[include_str!("sql/001_onsales.sql")];

/// Shows put under (or out of) a queue at once.
const SHOWS_AT_ONCE: usize = 16;

/// Commands an admitted customer sends to the show, as the automatic rate counts them:
/// hold, pay, and one more (a release, a second try).
const COMMANDS_PER_CUSTOMER: f64 = 3.0;
/// An automatic rate's bounds, people per minute.
const AUTOMATIC_RATE: (i32, i32) = (600, 1_000_000);

/// How far an on-sale's line has moved, as long-polls wait on it: each waits for what
/// changes its own answer (its turn, the draw, the end), not for every admission, so a
/// line of thousands is not woken several times a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The pre-queue was drawn: its places are known.
    pub shuffled: bool,
    /// The place of the last one admitted or given up (0: nobody yet).
    pub through: i64,
    pub ended: bool,
}

/// The waiting rooms, as this process serves them.
pub struct WaitingRoom {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub tokens: tokens::Tokens,
    pub writers: ShowWriters,
    /// This process's name in the admission records.
    pub process: String,
    progress: Mutex<HashMap<Uuid, watch::Sender<Progress>>>,
}

impl WaitingRoom {
    pub fn new(pool: Pool, clock: Arc<dyn Clock>, jwt: JwtKeys, writers: ShowWriters) -> Self {
        let suffix = Uuid::new_v4().simple().to_string();
        Self {
            pool,
            clock,
            tokens: tokens::Tokens::new(jwt),
            writers,
            process: format!("{}-{}", std::process::id(), &suffix[..8]),
            progress: Mutex::new(HashMap::new()),
        }
    }

    /// The rate an on-sale with an automatic rate gets at its opening: what one show's
    /// writer in this process has been getting through, over the [`COMMANDS_PER_CUSTOMER`]
    /// an admitted customer sends, within [`AUTOMATIC_RATE`] (its floor before anything was
    /// measured).
    pub fn automatic_rate(&self) -> i32 {
        let (floor, ceiling) = AUTOMATIC_RATE;
        match self.writers.measured_capacity() {
            None => floor,
            Some(per_second) => {
                let per_minute = per_second * 60.0 / COMMANDS_PER_CUSTOMER;
                per_minute.clamp(f64::from(floor), f64::from(ceiling)) as i32
            }
        }
    }

    /// Follows an on-sale's progress (for a long-poll).
    pub fn follow(&self, onsale_id: Uuid) -> watch::Receiver<Progress> {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        progress
            .entry(onsale_id)
            .or_insert_with(|| watch::channel(Progress::default()).0)
            .subscribe()
    }

    /// Tells long-polls of `onsale_id` where it stands now.
    pub(crate) fn publish(&self, onsale_id: Uuid, now: Progress) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let sender = progress
            .entry(onsale_id)
            .or_insert_with(|| watch::channel(now).0);
        sender.send_if_modified(|was| std::mem::replace(was, now) != now);
    }

    /// Forgets the progress of on-sales no longer served.
    pub(crate) fn retain(&self, serving: &[Uuid]) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        progress.retain(|id, _| serving.contains(id));
    }

    /// Puts each show under the on-sale's queue (`lift`: takes it off), as `context` asks;
    /// the shows that refused, with why.
    pub async fn tell_shows(
        &self,
        onsale_id: Uuid,
        shows: &[Uuid],
        lift: bool,
        context: &CommandContext,
        opens_at: boxoffice_domain::Timestamp,
    ) -> Vec<(Uuid, CommandError)> {
        let verb = if lift { "lift" } else { "queue" };
        let outcomes = stream::iter(shows.iter().copied())
            .map(|show| {
                let command = if lift {
                    ShowCommand::LiftOnSaleQueue { onsale_id }
                } else {
                    ShowCommand::QueueOnSale {
                        onsale_id,
                        opens_at,
                    }
                };
                let context = CommandContext {
                    idempotency_key: format!("onsale-{onsale_id}-{verb}-{show}"),
                    ..context.clone()
                };
                async move {
                    let done = self.writers.execute(ShowId(show), command, context).await;
                    (show, done)
                }
            })
            .buffer_unordered(SHOWS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        outcomes
            .into_iter()
            .filter_map(|(show, done)| done.err().map(|error| (show, error)))
            .collect()
    }
}
