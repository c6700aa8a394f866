//! `boxoffice projections rebuild`: the read models (or those named) folded from the whole
//! log into shadow tables and swapped in for the live ones, while servers keep serving them
//! (see `boxoffice_projections::rebuild`). Reads `DATABASE_URL` (and `EVENTSTORE_URL` where
//! set) like `serve`. Progress goes to standard error: a bar on a terminal, plain lines
//! otherwise; each read model swapped in is a line on standard output.
//!
//! Exit status: 0 every read model named was rebuilt and serves, 2 could not (the live read
//! models serve as they were).

use super::progress::Progress;
use super::verify::{chosen, read_models};
use super::{Failure, Target};
use crate::server;
use boxoffice_projections::rebuild::{rebuild, Step};

/// Rebuilds the read models named in `only` (all when empty).
pub async fn run(cli: &Target, only: &[String]) -> Result<u8, Failure> {
    let projectors = chosen(only)?;
    let config = server::prepare_database(&cli.database_url).await;
    // The rebuild takes a session per read model out of the pool; the log's reads share it.
    let (pool, log) = read_models(cli, config)?;
    let started = std::time::Instant::now();
    let mut loading: Option<Progress> = None;
    let mut read = 0;
    let rebuilt = rebuild(log.as_ref(), &pool, &projectors, |step| match step {
        Step::Loading { done, total } => {
            read = done;
            loading
                .get_or_insert_with(|| Progress::new("events", Some(total)))
                .set(done);
        }
        Step::Settling => {
            if let Some(bar) = loading.take() {
                bar.finish(read);
            }
            eprintln!("the log's end reached: making indexes and analysing the tables");
        }
        Step::Waiting { projector } => {
            eprintln!("{projector}: its live tables are in use by queries; trying again")
        }
        Step::Swapped { projector, events } => {
            println!("{projector}: rebuilt from {events} events and swapped in")
        }
    })
    .await;
    pool.close();
    rebuilt.map_err(|e| Failure::could_not_run(format!("rebuild failed: {e}")))?;
    eprintln!(
        "{} read models rebuilt in {:.1} s",
        projectors.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
