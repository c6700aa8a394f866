//! `boxoffice-bench`: the hot on-sale benchmark (scripts/bench runs it).
//!
//! Phases, each on a fresh database of the same PostgreSQL:
//! - hot: one 2,000-seat show on sale plus quiet shows, C virtual customers for T seconds
//!   against the release binary, then the invariant check; then `/healthz` from the same
//!   clients on the same server (the HTTP stack's ceiling);
//! - baseline: the row-locking booking transaction under pgbench, same client count;
//! - spread: the same customers over many shows of Zipf-distributed popularity;
//! - spread-baseline: the row-locking transaction over as many shows, same Zipf draw;
//! - two-process: two servers on one database, both selling the same hot show;
//! - two-spread: two servers on one database, the spread workload;
//! - memory: resident memory with many shows active in the writers;
//! - rebuild: a log of a million events, then `boxoffice projections rebuild` timed;
//! - search: a catalogue of 20,000 shows seeded by `boxoffice seed`, then searches by city
//!   and date, by keyword, and near a point;
//! - audit: one show of 50,000 events, then auditors asking for its state at random points;
//! - reports: a week of the product's catalogue (20,000 shows a day) with a million tickets
//!   sold, then analysts asking for box-office reports;
//! - onsale: a 2,000-seat show sold through the waiting room to more customers than seats.

mod audit;
mod baseline;
mod check;
mod client;
mod generate;
mod onsale;
mod report;
mod reports;
mod search;
mod server;
mod stats;
mod workload;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use report::{Booking, Report};
use server::{BenchDatabase, Server};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{Board, BookingResult, Popularity, Run};

#[derive(Parser, Clone)]
#[command(
    name = "boxoffice-bench",
    about = "The hot on-sale benchmark and its baselines"
)]
struct Cli {
    /// A database of the PostgreSQL to use; the benchmark creates and drops its own beside it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// The `boxoffice` binary to benchmark.
    #[arg(long, default_value = "target/release/boxoffice")]
    server: PathBuf,
    /// Concurrent virtual customers (and pgbench clients).
    #[arg(long, default_value_t = 256)]
    clients: usize,
    /// Seconds each timed phase runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Shows in the spread workload; the hot workload has one hot and this many minus one
    /// quiet shows.
    #[arg(long, default_value_t = 1000)]
    shows: usize,
    /// Shows active at once in the memory measurement.
    #[arg(long, default_value_t = 10_000)]
    memory_shows: usize,
    /// Events in the log the rebuild measurement replays.
    #[arg(long, default_value_t = 1_000_000)]
    rebuild_events: usize,
    /// Events in the show whose history the audit phase asks about.
    #[arg(long, default_value_t = 50_000)]
    audit_events: usize,
    /// Cities in the search phase's catalogue (10 cinemas x 2 halls x 2 shows each).
    #[arg(long, default_value_t = search::FULL_CITIES)]
    search_cities: usize,
    /// Cities in the reports phase's catalogue (10 cinemas x 2 halls x 2 shows a day each).
    #[arg(long, default_value_t = search::FULL_CITIES)]
    report_cities: usize,
    /// Days of shows in the reports phase.
    #[arg(long, default_value_t = 7)]
    report_days: u32,
    /// Tickets the reports phase sells before asking.
    #[arg(long, default_value_t = 1_000_000)]
    report_tickets: usize,
    /// Customers lining up in the on-sale phase.
    #[arg(long, default_value_t = 3_000)]
    onsale_customers: usize,
    /// People the on-sale phase's waiting room lets in per minute.
    #[arg(long, default_value_t = 6_000)]
    onsale_rate: i32,
    /// Only these phases (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Phase>,
    /// A few seconds of everything at small sizes; exits non-zero on any error or broken
    /// invariant (scripts/test runs this).
    #[arg(long)]
    smoke: bool,
    /// Where the JSON result goes.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    #[arg(long, default_value_t = 20_261_123)]
    seed: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Hot,
    /// The hot show with 16 customers: service times without queueing.
    Light,
    Baseline,
    Spread,
    /// The row-locking transaction over the spread phase's shows, same Zipf popularity.
    SpreadBaseline,
    TwoProcess,
    /// Two servers on one database, the spread workload.
    TwoSpread,
    Memory,
    Rebuild,
    Search,
    /// A show of 50,000 events: its state at any point, as auditors ask.
    Audit,
    /// A week of shows with a million tickets sold: box-office reports, as analysts ask.
    Reports,
    /// A hot show sold through the waiting room.
    Onsale,
}

/// The hot show's hall: 40 rows of 50 seats.
const HOT_ROWS: usize = 40;
const HOT_PER_ROW: u32 = 50;
/// Customers in the light-load run.
const LIGHT_CLIENTS: usize = 16;
/// Abandoned holds expire during the run: 10 s to pay, then the 5 s grace.
const SERVER_ENV: [(&str, &str); 1] = [("BOXOFFICE_HOLD_TTL_SECONDS", "10")];

#[tokio::main]
async fn main() {
    let mut cli = Cli::parse();
    if cli.smoke {
        cli.clients = cli.clients.min(16);
        cli.seconds = cli.seconds.min(3);
        cli.shows = cli.shows.min(20);
        cli.memory_shows = cli.memory_shows.min(50);
        cli.rebuild_events = cli.rebuild_events.min(5_000);
        cli.search_cities = cli.search_cities.min(search::SMOKE_CITIES);
        cli.audit_events = cli.audit_events.min(2_000);
        cli.report_cities = cli.report_cities.min(search::SMOKE_CITIES);
        cli.report_days = cli.report_days.min(2);
        cli.report_tickets = cli.report_tickets.min(400);
        cli.onsale_customers = cli.onsale_customers.min(60);
    }
    match run(&cli).await {
        Ok(report) => {
            let failures = report.failures(cli.smoke);
            if !failures.is_empty() {
                for failure in failures {
                    eprintln!("boxoffice-bench: {failure}");
                }
                std::process::exit(1);
            }
        }
        Err(error) => {
            eprintln!("boxoffice-bench: {error:#}");
            std::process::exit(1);
        }
    }
}

fn wanted(cli: &Cli, phase: Phase) -> bool {
    cli.only.is_empty() || cli.only.contains(&phase)
}

async fn run(cli: &Cli) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&cli.out)?;
    let duration = Duration::from_secs(cli.seconds);
    let mut report = Report::new(cli.clients, cli.seconds, cli.smoke, &cli.database_url).await?;
    if wanted(cli, Phase::Hot) {
        eprintln!("== hot show: {} customers, {} s", cli.clients, cli.seconds);
        let (booking, ceiling) = hot(cli, duration).await?;
        report.hot = Some(booking);
        report.healthz = Some(ceiling);
    }
    if wanted(cli, Phase::Light) {
        let clients = LIGHT_CLIENTS.min(cli.clients);
        eprintln!(
            "== hot show, light load: {clients} customers, {} s",
            cli.seconds
        );
        let light = booking_run(cli, "light", clients, 1, 1, Popularity::Hot, duration);
        report.light = Some(light.await?);
    }
    if wanted(cli, Phase::Baseline) {
        eprintln!(
            "== baseline: row-locking transactions under pgbench, {} clients",
            cli.clients
        );
        report.baseline = Some(
            baseline::run(
                &cli.database_url,
                baseline::Shape::Hot,
                cli.clients,
                duration,
                &cli.out,
            )
            .await?,
        );
    }
    if wanted(cli, Phase::Spread) {
        eprintln!("== spread: {} shows, Zipf popularity", cli.shows);
        let spread = booking_run(
            cli,
            "spread",
            cli.clients,
            1,
            cli.shows,
            Popularity::Zipf,
            duration,
        );
        report.spread = Some(spread.await?);
    }
    if wanted(cli, Phase::SpreadBaseline) {
        eprintln!(
            "== spread baseline: row-locking transactions over {} shows, Zipf popularity",
            cli.shows
        );
        report.spread_baseline = Some(
            baseline::run(
                &cli.database_url,
                baseline::Shape::Spread(cli.shows),
                cli.clients,
                duration,
                &cli.out,
            )
            .await?,
        );
    }
    if wanted(cli, Phase::TwoProcess) {
        eprintln!("== two processes on one database, one hot show");
        let two = booking_run(cli, "two", cli.clients, 2, 1, Popularity::Hot, duration);
        report.two_process = Some(two.await?);
    }
    if wanted(cli, Phase::TwoSpread) {
        eprintln!(
            "== two processes on one database, {} shows, Zipf popularity",
            cli.shows
        );
        let two = booking_run(
            cli,
            "two_spread",
            cli.clients,
            2,
            cli.shows,
            Popularity::Zipf,
            duration,
        );
        report.two_spread = Some(two.await?);
    }
    if wanted(cli, Phase::Memory) {
        eprintln!("== memory: {} shows active", cli.memory_shows);
        report.memory = Some(memory(cli).await?);
    }
    if wanted(cli, Phase::Rebuild) {
        eprintln!("== rebuild: a log of {} events", cli.rebuild_events);
        report.rebuild = Some(rebuild(cli).await?);
    }
    if wanted(cli, Phase::Search) {
        let clients = LIGHT_CLIENTS.min(cli.clients);
        eprintln!(
            "== search: {} cities x 10 cinemas x 2 halls x 2 shows, {clients} clients",
            cli.search_cities
        );
        report.search = Some(
            search::run(
                &cli.server,
                &cli.database_url,
                cli.search_cities,
                clients,
                duration,
                cli.seed,
            )
            .await?,
        );
    }
    if wanted(cli, Phase::Audit) {
        let clients = LIGHT_CLIENTS.min(cli.clients);
        eprintln!(
            "== audit: a show of {} events, {clients} auditors",
            cli.audit_events
        );
        report.audit = Some(
            audit::run(
                &cli.server,
                &cli.database_url,
                cli.audit_events,
                clients,
                duration,
                cli.seed,
            )
            .await?,
        );
    }
    if wanted(cli, Phase::Reports) {
        let clients = LIGHT_CLIENTS.min(cli.clients);
        eprintln!(
            "== reports: {} cities x 10 cinemas x 2 halls x 2 shows x {} days, {} tickets, {clients} clients",
            cli.report_cities, cli.report_days, cli.report_tickets
        );
        let scale = reports::Scale {
            cities: cli.report_cities,
            days: cli.report_days,
            tickets: cli.report_tickets,
        };
        report.reports = Some(
            reports::run(
                &cli.server,
                &cli.database_url,
                scale,
                clients,
                duration,
                cli.seed,
            )
            .await?,
        );
    }
    if wanted(cli, Phase::Onsale) {
        eprintln!(
            "== on-sale: {} customers through the waiting room at {}/min",
            cli.onsale_customers, cli.onsale_rate
        );
        report.onsale = Some(
            onsale::run(
                &cli.server,
                &cli.database_url,
                cli.onsale_customers,
                cli.onsale_rate,
                cli.seed,
            )
            .await?,
        );
    }
    report.print();
    let path = report.save(&cli.out)?;
    eprintln!("result: {}", path.display());
    Ok(report)
}

/// Waits until every projector has caught up with the log (the seat maps are current).
async fn settle(http: &client::Http) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let reply = http
            .send(reqwest::Method::GET, "/metrics", None, None)
            .await?;
        // A scrape that timed out says nothing about the lag.
        let behind: f64 = if reply.status != reqwest::StatusCode::OK {
            f64::INFINITY
        } else {
            String::from_utf8_lossy(&reply.body)
                .lines()
                .filter(|line| line.starts_with("boxoffice_projection_lag_events{"))
                .filter_map(|line| line.split_whitespace().last()?.parse::<f64>().ok())
                .sum()
        };
        if behind == 0.0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "projections did not catch up in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn booking_phase(
    cli: &Cli,
    servers: &[&Server],
    board: Board,
    popularity: Popularity,
    duration: Duration,
    database: &tokio_postgres::Config,
) -> anyhow::Result<Booking> {
    settle(&servers[0].http).await?;
    let run = Run {
        servers: servers.iter().map(|s| s.http.clone()).collect(),
        board: Arc::new(board),
        popularity,
        clients: cli.clients,
        duration,
        seed: cli.seed,
    };
    let (tally, wall) = run.drive().await;
    let result = BookingResult::of(&tally, cli.clients, servers.len(), wall);
    let peak_rss_mib = servers
        .iter()
        .filter_map(|s| s.memory_mib().map(|(_, peak)| peak))
        .fold(0.0, f64::max);
    eprintln!("   checking invariants");
    let shows = run.board.all.lock().expect("board lock").clone();
    let invariants = check::check(&servers[0].http, database, &shows, &tally.sold).await?;
    Ok(Booking {
        result,
        peak_rss_mib,
        shows_on_sale: shows.len(),
        invariants,
    })
}

async fn hot(cli: &Cli, duration: Duration) -> anyhow::Result<(Booking, workload::CeilingResult)> {
    let db = BenchDatabase::create(&cli.database_url, "hot").await?;
    let server = Server::start(&cli.server, &db.url, cli.clients, &SERVER_ENV).await?;
    let board = Board::schedule(&server.http, 1, HOT_ROWS, HOT_PER_ROW).await?;
    generate::many_shows(&server.http, cli.shows.saturating_sub(1)).await?;
    let booking = booking_phase(
        cli,
        &[&server],
        board,
        Popularity::Hot,
        duration,
        &db.config(),
    )
    .await?;
    eprintln!("== /healthz ceiling: {} clients", cli.clients);
    let ceiling = workload::healthz_ceiling(&server.http, cli.clients, duration).await;
    server.stop();
    db.drop_now().await?;
    Ok((booking, ceiling))
}

/// A booking workload on a fresh database: `servers` processes sharing it, `shows` shows on
/// the board.
async fn booking_run(
    cli: &Cli,
    phase: &str,
    clients: usize,
    servers: usize,
    shows: usize,
    popularity: Popularity,
    duration: Duration,
) -> anyhow::Result<Booking> {
    let db = BenchDatabase::create(&cli.database_url, phase).await?;
    let mut running = Vec::new();
    for _ in 0..servers {
        running.push(Server::start(&cli.server, &db.url, clients, &SERVER_ENV).await?);
    }
    let board = Board::schedule(&running[0].http, shows, HOT_ROWS, HOT_PER_ROW).await?;
    let run = Cli {
        clients,
        ..cli.clone()
    };
    let servers: Vec<&Server> = running.iter().collect();
    let booking = booking_phase(&run, &servers, board, popularity, duration, &db.config()).await?;
    for server in running {
        server.stop();
    }
    db.drop_now().await?;
    Ok(booking)
}

async fn memory(cli: &Cli) -> anyhow::Result<generate::MemoryResult> {
    let db = BenchDatabase::create(&cli.database_url, "memory").await?;
    let server = Server::start(&cli.server, &db.url, 16, &SERVER_ENV).await?;
    let (rss_before_mib, _) = server.memory_mib().context("reading /proc")?;
    let started = Instant::now();
    let seats = generate::many_shows(&server.http, cli.memory_shows).await?;
    // Right after the burst the projectors are still writing the shows' seat maps; what
    // the active shows themselves hold is measured once they have caught up.
    let (rss_scheduled_mib, _) = server.memory_mib().context("reading /proc")?;
    settle(&server.http).await?;
    let rss_mib = settled_rss(&server).await?;
    // The slowest of five scrapes (each reads the gauges from the database).
    let mut active_writers = None;
    let mut metrics_ms: Option<f64> = Some(0.0);
    for _ in 0..5 {
        let asked = Instant::now();
        active_writers = generate::gauge(&server.http, "boxoffice_active_writers").await;
        let took = active_writers.map(|_| asked.elapsed().as_secs_f64() * 1000.0);
        metrics_ms = metrics_ms.zip(took).map(|(a, b)| a.max(b));
    }
    let (_, peak_rss_mib) = server.memory_mib().context("reading /proc")?;
    eprintln!(
        "   {} shows ({seats} seats) scheduled and held in {:.1} s",
        cli.memory_shows,
        started.elapsed().as_secs_f64()
    );
    server.stop();
    db.drop_now().await?;
    Ok(generate::MemoryResult {
        shows: cli.memory_shows,
        seats,
        active_writers,
        metrics_ms,
        rss_before_mib,
        rss_scheduled_mib,
        rss_mib,
        peak_rss_mib,
        kib_per_show: (rss_mib - rss_before_mib) * 1024.0 / cli.memory_shows.max(1) as f64,
    })
}

/// The server's resident memory once it stops falling: the allocator hands pages freed by
/// the projectors' catching up back to the system over some seconds (read every second,
/// done when no lower than three seconds before, or after a minute).
async fn settled_rss(server: &Server) -> anyhow::Result<f64> {
    let mut readings = Vec::new();
    for _ in 0..60 {
        let (rss, _) = server.memory_mib().context("reading /proc")?;
        readings.push(rss);
        if readings.len() > 3 && rss >= readings[readings.len() - 4] {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(readings.into_iter().fold(f64::INFINITY, f64::min))
}

async fn rebuild(cli: &Cli) -> anyhow::Result<generate::RebuildResult> {
    let db = BenchDatabase::create(&cli.database_url, "rebuild").await?;
    db.migrate(&cli.server)?;
    let started = Instant::now();
    let events = generate::log_of(&db.config(), cli.rebuild_events).await?;
    let generate_seconds = started.elapsed().as_secs_f64();
    eprintln!("   {events} events written in {generate_seconds:.1} s; rebuilding");
    let rebuild_seconds = generate::time_rebuild(&cli.server, &db.url)?;
    db.drop_now().await?;
    Ok(generate::RebuildResult {
        events,
        generate_seconds,
        rebuild_seconds,
        events_per_s: events as f64 / rebuild_seconds,
    })
}
