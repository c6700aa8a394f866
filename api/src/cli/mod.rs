//! The `boxoffice` command line: serve, migrate, seed, token, events, projections, audit,
//! report.

mod audit;
mod progress;
mod rebuild;
mod report;
mod seed;
mod serve;
mod verify;

use crate::auth::JwtKeys;
use crate::server;
use boxoffice_eventstore::postgres::{self as pg, PgEventLog};
use boxoffice_eventstore::EventLog;
use clap::{Parser, Subcommand, ValueEnum};
use std::sync::Arc;
use std::time::Duration;

/// The development secret `scripts/run` uses; never use it in production.
pub const DEV_JWT_SECRET: &str = "boxoffice-development-secret-change-me";
pub const DEV_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/boxoffice";

#[derive(Parser)]
#[command(name = "boxoffice", version, about = "Event-sourced cinema ticketing")]
pub struct Cli {
    /// PostgreSQL holding the event log and the read models (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DEV_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Keep the event log in EventStoreDB/KurrentDB at this connection string
    /// (`esdb://host:2113?tls=false`); without it the log is in PostgreSQL. The read models
    /// stay in PostgreSQL either way.
    #[arg(long, env = "EVENTSTORE_URL", global = true)]
    pub event_store: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "BOXOFFICE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the HTTP API until SIGTERM or Ctrl-C.
    Serve(Box<serve::ServeArgs>),
    /// Create the database if needed and apply every migration.
    Migrate,
    /// Print the OpenAPI document (the one served at /openapi.json).
    Openapi,
    /// Print a bearer token (for development and tests) and nothing else.
    Token {
        #[arg(long)]
        sub: String,
        /// `customer`, `staff`, `analyst`, `auditor`, `admin`, `door`, or `staff:{cinema_id}`
        /// / `door:{cinema_id}` for one cinema's staff; repeat for several.
        #[arg(long = "role", required = true, value_parser = role_name)]
        roles: Vec<String>,
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
        #[arg(long, env = "BOXOFFICE_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
        jwt_secret: String,
    },
    /// Add a made-up but realistic catalogue: cities, cinemas, halls (100 to 2,000 seats),
    /// movies and shows, through the same commands the API carries out. Running the same
    /// seed again adds nothing twice.
    Seed(seed::SeedArgs),
    /// The event log itself.
    Events {
        #[command(subcommand)]
        action: EventsAction,
    },
    /// Read models: rebuild them from the log, verify them against it, or show how far each
    /// has come.
    Projections {
        #[command(subcommand)]
        action: ProjectionsAction,
    },
    /// The auditors' tools: state at any point, the log's integrity, exports.
    Audit {
        #[command(subcommand)]
        action: audit::AuditAction,
    },
    /// Box-office reports (the same as `/v1/reports/*`), every page, as JSON or CSV.
    Report {
        #[command(subcommand)]
        action: report::ReportAction,
    },
}

/// Why the command line stops with a status other than 0.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    /// An audit that could not run (status 2: 1 means it found something).
    fn could_not_run(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: 2,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self { message, status: 1 }
    }
}

#[derive(Subcommand)]
pub enum EventsAction {
    /// Copy a whole log to another backend, keeping event ids, order and stream versions.
    /// Run it again after an interruption: it goes on where the target ends.
    Copy {
        /// The source log: `postgres://...` or `esdb://...` (also `kurrentdb://`).
        #[arg(long)]
        from: String,
        /// The target log, empty or an earlier (interrupted) copy of the source.
        #[arg(long)]
        to: String,
        /// Copy at most this many events this run.
        #[arg(long)]
        limit: Option<u64>,
    },
}

/// A log named by its URL: PostgreSQL (created and migrated if need be) or EventStoreDB.
async fn log_at(url: &str) -> Result<Arc<dyn EventLog>, String> {
    let scheme = url.split("://").next().unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" => {
            let config = server::prepare_database(url)
                .await
                .map_err(|e| e.to_string())?;
            let pool = pg::pool(&config, 4);
            Ok(Arc::new(PgEventLog::new(pool, &config)))
        }
        "esdb" | "esdb+discover" | "kurrentdb" | "kurrentdb+discover" | "kurrent"
        | "kurrent+discover" => Ok(Arc::new(
            boxoffice_eventstore::esdb::EsdbEventLog::connect(
                url,
                &boxoffice_domain::StreamName::PREFIXES,
            )
            .map_err(|e| e.to_string())?,
        )),
        _ => Err(format!(
            "{} is neither a PostgreSQL (postgres://) nor an EventStoreDB (esdb://) URL",
            boxoffice_eventstore::esdb::mapping::redacted(url)
        )),
    }
}

#[derive(Subcommand)]
pub enum ProjectionsAction {
    /// Fold the whole log into shadow copies of the read models and swap them in for the
    /// live ones; servers keep serving the old ones until then. One rebuild at a time.
    Rebuild {
        /// Only these read models (seat_map, order_history, sales, waitlist, catalogue,
        /// actions, box_office, tickets).
        #[arg(long = "only")]
        only: Vec<String>,
    },
    /// Each projector's checkpoint and how far behind the log it is.
    Status,
    /// Rebuild the read models from the log in scratch copies, each at exactly the position
    /// of its live checkpoint, and compare them with the live tables row by row; safe while
    /// servers run. Exit status 0 equal, 1 a difference (one line each), 2 could not run.
    Verify {
        /// Only these read models (seat_map, order_history, sales, waitlist, catalogue, actions).
        #[arg(long = "only")]
        only: Vec<String>,
    },
}

pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs the command line: the exit status, or what to print before exiting with the
/// failure's status.
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let target = Target {
        database_url: cli.database_url,
        event_store: cli.event_store,
    };
    match cli.command {
        Command::Audit { action } => audit::run(&target, action).await,
        Command::Projections {
            action: ProjectionsAction::Verify { only },
        } => verify::run(&target, &only).await,
        Command::Projections {
            action: ProjectionsAction::Rebuild { only },
        } => rebuild::run(&target, &only).await,
        command => run_command(target, command)
            .await
            .map(|()| 0)
            .map_err(Failure::from),
    }
}

/// Where the log and the read models are (`DATABASE_URL`, `EVENTSTORE_URL`).
pub struct Target {
    pub database_url: String,
    pub event_store: Option<String>,
}

async fn run_command(cli: Target, command: Command) -> Result<(), String> {
    match command {
        Command::Token {
            sub,
            roles,
            ttl_hours,
            jwt_secret,
        } => {
            if sub.trim().is_empty() {
                return Err("--sub must not be empty".into());
            }
            let token = JwtKeys::new(&jwt_secret).mint_names(
                &sub,
                &roles,
                chrono::Duration::hours(ttl_hours),
            );
            println!("{token}");
            Ok(())
        }
        Command::Openapi => {
            let document = crate::openapi()
                .to_pretty_json()
                .map_err(|e| e.to_string())?;
            println!("{document}");
            Ok(())
        }
        Command::Migrate => {
            server::prepare_database(&cli.database_url)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("database migrated");
            Ok(())
        }
        Command::Audit { .. } => Err("audit commands run on their own".into()),
        Command::Serve(args) => serve::serve(&cli, *args).await,
        Command::Seed(args) => seed::seed(&cli, args).await,
        Command::Report { action } => report::run(&cli, action).await,
        Command::Events {
            action: EventsAction::Copy { from, to, limit },
        } => {
            if from == to {
                return Err("--from and --to name the same log".into());
            }
            let (source, target) = (log_at(&from).await?, log_at(&to).await?);
            let started = std::time::Instant::now();
            let report = boxoffice_eventstore::copy::copy_log(
                source.as_ref(),
                target.as_ref(),
                limit,
                |so_far| {
                    eprintln!(
                        "copied {} events ({:.0}/s)",
                        so_far.copied,
                        so_far.copied as f64 / started.elapsed().as_secs_f64().max(0.001)
                    )
                },
            )
            .await
            .map_err(|e| format!("copy failed: {e}"))?;
            println!(
                "{} events copied, {} were there already, in {:.1} s",
                report.copied,
                report.already_there,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Projections { action } => {
            let config = server::prepare_database(&cli.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let pool = pg::pool(&config, 4);
            let log = server::open_log(&pool, &config, cli.event_store.as_deref())
                .map_err(|e| e.to_string())?;
            let log = log.as_ref();
            match action {
                ProjectionsAction::Rebuild { .. } | ProjectionsAction::Verify { .. } => {
                    return Err("projections rebuild and verify run on their own".into())
                }
                ProjectionsAction::Status => {
                    let head = log.head().await.map_err(|e| e.to_string())?;
                    println!("log head: {head}");
                    println!(
                        "{:<16} {:<24} {:>10} {:>12} {:>10}",
                        "projector", "checkpoint", "applied", "lag_events", "lag_s"
                    );
                    for s in boxoffice_projections::status(log, &pool)
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        println!(
                            "{:<16} {:<24} {:>10} {:>12} {:>10.3}",
                            s.name,
                            s.position.to_string(),
                            s.events_applied,
                            s.lag_events,
                            s.lag_seconds
                        );
                    }
                }
            }
            pool.close();
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(())
        }
    }
}

/// A `--role` as tokens carry it, or why it is not one.
fn role_name(text: &str) -> Result<String, String> {
    crate::auth::Grant::parse(text)
        .map(|grant| grant.name())
        .ok_or_else(|| {
            "must be customer, staff, analyst, auditor, admin or door, or staff:{cinema_id} or \
             door:{cinema_id}"
                .into()
        })
}
