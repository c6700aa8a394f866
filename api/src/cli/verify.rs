//! `boxoffice projections verify`: every read model (or those named) rebuilt from the log in
//! scratch copies at exactly the position of its live checkpoint, and compared with the live
//! tables row by row, while servers keep serving. Reads `DATABASE_URL` (and `EVENTSTORE_URL`
//! where set) like `serve`.
//!
//! Exit status: 0 every read model equals its rebuild, 1 a difference (each on a line of its
//! own on standard output, naming the read model, the table and the row's key, with the
//! live and the rebuilt values), 2 could not run.

use super::progress::Progress;
use super::{Failure, Target};
use crate::server;
use boxoffice_eventstore::postgres as pg;
use boxoffice_projections::verify::{verify, Difference, ReadModelReport, SHOWN};

/// Four sessions on the read models' database (`config`, once opened) and the log `cli`
/// names: for the commands that work on read models beside running servers.
pub(super) fn read_models(
    cli: &Target,
    config: Result<tokio_postgres::Config, server::StartError>,
) -> Result<
    (
        deadpool_postgres::Pool,
        std::sync::Arc<dyn boxoffice_eventstore::EventLog>,
    ),
    Failure,
> {
    let config = config.map_err(|e| Failure::could_not_run(e.to_string()))?;
    let pool = pg::pool(&config, 4);
    let log = server::open_log(&pool, &config, cli.event_store.as_deref())
        .map_err(|e| Failure::could_not_run(e.to_string()))?;
    Ok((pool, log))
}

/// Runs the verification of the read models named in `only` (all when empty).
pub async fn run(cli: &Target, only: &[String]) -> Result<u8, Failure> {
    let projectors = chosen(only)?;
    let config = server::open_database(&cli.database_url).await;
    // The snapshot, the scratch session and the log's reads each take a connection.
    let (pool, log) = read_models(cli, config)?;
    let started = std::time::Instant::now();
    let mut progress = Progress::new("events", None);
    let verified = verify(log.as_ref(), &pool, &projectors, |done| progress.set(done)).await;
    pool.close();
    let verification = verified.map_err(|e| Failure::could_not_run(e.to_string()))?;
    progress.finish(verification.events);
    for report in &verification.read_models {
        print_differences(report);
        eprintln!("{}", summary(report));
    }
    let differences = verification.differences();
    eprintln!(
        "{} read models verified in {:.1} s: {}",
        verification.read_models.len(),
        started.elapsed().as_secs_f64(),
        match differences {
            0 => "equal to the log".to_owned(),
            1 => "1 difference".to_owned(),
            n => format!("{n} differences"),
        }
    );
    Ok(u8::from(differences > 0))
}

/// The projectors named (all when none is), or why not.
pub(super) fn chosen(
    only: &[String],
) -> Result<Vec<std::sync::Arc<dyn boxoffice_projections::Projector>>, Failure> {
    let all = boxoffice_projections::all();
    let unknown: Vec<&str> = only
        .iter()
        .filter(|name| !all.iter().any(|p| p.name() == name.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = all.iter().map(|p| p.name()).collect();
        return Err(Failure::could_not_run(format!(
            "no such read model: {}; there are {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    Ok(all
        .into_iter()
        .filter(|p| only.is_empty() || only.iter().any(|n| n == p.name()))
        .collect())
}

/// One line per difference shown, and one for those not shown.
fn print_differences(report: &ReadModelReport) {
    for table in &report.tables {
        for difference in &table.shown {
            println!(
                "{}: {}: {}",
                report.read_model,
                table.table,
                difference_line(difference)
            );
        }
        let unshown = table.differences.saturating_sub(SHOWN as u64);
        if unshown > 0 {
            println!(
                "{}: {}: and {unshown} more differences ({} in all)",
                report.read_model, table.table, table.differences
            );
        }
    }
}

/// `{"show_id":"…"}: live {"sold":3}, rebuilt {"sold":2}` (`no row` for a missing side).
fn difference_line(difference: &Difference) -> String {
    let side = |value: &Option<serde_json::Value>| match value {
        Some(value) => value.to_string(),
        None => "no row".to_owned(),
    };
    format!(
        "{}: live {}, rebuilt {}",
        difference.key,
        side(&difference.live),
        side(&difference.rebuilt)
    )
}

/// `seat_map at 1042-17 (812 events): 4 tables, 1,210 rows: equal`.
fn summary(report: &ReadModelReport) -> String {
    let rows: u64 = report.tables.iter().map(|t| t.live_rows).sum();
    let verdict = match report.differences() {
        0 => "equal".to_owned(),
        n => {
            let tables: Vec<String> = report
                .tables
                .iter()
                .filter(|t| t.differences > 0)
                .map(|t| format!("{} in {}", t.differences, t.table))
                .collect();
            let rows = if n == 1 {
                "1 row differs".to_owned()
            } else {
                format!("{n} rows differ")
            };
            format!("{rows} ({})", tables.join(", "))
        }
    };
    format!(
        "{} at {} ({} events): {} tables, {rows} rows: {verdict}",
        report.read_model,
        report.position,
        report.events,
        report.tables.len()
    )
}
