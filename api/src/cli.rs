//! The `boxoffice` command line: serve, migrate, seed, token, events, projections.

use crate::auth::{JwtKeys, Role};
use crate::server::{self, ServeConfig};
use crate::{ApiSettings, Limits};
use boxoffice_commands::WriterConfig;
use boxoffice_eventstore::postgres::{self as pg, PgEventLog};
use boxoffice_eventstore::EventLog;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
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
    Serve {
        #[arg(long, env = "BOXOFFICE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Secret for HS256 bearer tokens.
        #[arg(long, env = "BOXOFFICE_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
        jwt_secret: String,
        /// How long a hold lasts before it must be paid.
        #[arg(long, env = "BOXOFFICE_HOLD_TTL_SECONDS", default_value_t = 300)]
        hold_ttl_seconds: u32,
        /// How much longer the server waits before it expires a hold.
        #[arg(long, env = "BOXOFFICE_EXPIRY_GRACE_SECONDS", default_value_t = 5)]
        expiry_grace_seconds: u32,
        /// Active holds one customer may have on one show (1 to 10; fixed per show when it
        /// is scheduled).
        #[arg(long, env = "BOXOFFICE_MAX_HOLDS_PER_CUSTOMER", default_value_t = 1)]
        max_holds_per_customer: u32,
        /// How long a waiting-list entry may wait for an offer before it is closed.
        #[arg(
            long,
            env = "BOXOFFICE_WAITLIST_MAX_WAIT_SECONDS",
            default_value_t = 3600
        )]
        waitlist_max_wait_seconds: u32,
        /// Minutes a hall needs between two shows; a show is refused if it would start
        /// sooner after another ends (at most 240).
        #[arg(long, env = "BOXOFFICE_CLEANING_MINUTES", default_value_t = 15)]
        cleaning_minutes: u32,
        /// Database connections.
        #[arg(long, env = "BOXOFFICE_POOL_SIZE", default_value_t = 32)]
        pool_size: usize,
        /// Longest a request may take before it is answered 503 `request_timeout`.
        #[arg(long, env = "BOXOFFICE_REQUEST_TIMEOUT_SECONDS", default_value_t = 10)]
        request_timeout_seconds: u64,
        /// Requests in flight per command route before 503 `overloaded`.
        #[arg(long, env = "BOXOFFICE_COMMANDS_IN_FLIGHT", default_value_t = 2048)]
        commands_in_flight: usize,
        /// Requests in flight per query route before 503 `overloaded`.
        #[arg(long, env = "BOXOFFICE_QUERIES_IN_FLIGHT", default_value_t = 1024)]
        queries_in_flight: usize,
        /// Requests in flight per audit route before 503 `overloaded`.
        #[arg(long, env = "BOXOFFICE_AUDIT_IN_FLIGHT", default_value_t = 16)]
        audit_in_flight: usize,
        /// Secret the sandbox payment provider signs its notifications with.
        #[arg(
            long,
            env = "BOXOFFICE_SANDBOX_SECRET",
            default_value = "boxoffice-sandbox-secret",
            hide_default_value = true
        )]
        sandbox_secret: String,
        /// How long a customer has at the payment provider after starting a payment.
        #[arg(long, env = "BOXOFFICE_PAYMENT_WINDOW_SECONDS", default_value_t = 900)]
        payment_window_seconds: u32,
        /// The URL clients reach this server at (pay links, sandbox notifications); the
        /// listening address when absent.
        #[arg(long, env = "BOXOFFICE_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Create the database if needed and apply every migration.
    Migrate,
    /// Print the OpenAPI document (the one served at /openapi.json).
    Openapi,
    /// Print a bearer token (for development and tests) and nothing else.
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long = "role", value_enum, required = true)]
        roles: Vec<Role>,
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
        #[arg(long, env = "BOXOFFICE_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
        jwt_secret: String,
    },
    /// Add a made-up but realistic catalogue: cities, cinemas, halls (100 to 2,000 seats),
    /// movies and shows, through the same commands the API carries out. Running the same
    /// seed again adds nothing twice.
    Seed {
        #[arg(long, default_value_t = 3)]
        cities: usize,
        #[arg(long, default_value_t = 2)]
        cinemas_per_city: usize,
        #[arg(long, default_value_t = 2)]
        halls_per_cinema: usize,
        /// Days of shows, from --first-day on.
        #[arg(long, default_value_t = 2)]
        days: usize,
        #[arg(long, default_value_t = 2)]
        shows_per_hall_day: usize,
        #[arg(long, default_value_t = 12)]
        movies: usize,
        /// The first day of shows (YYYY-MM-DD, Asia/Shanghai); default: tomorrow.
        #[arg(long)]
        first_day: Option<chrono::NaiveDate>,
        /// Different seeds make different catalogues.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Minutes a hall needs between two shows.
        #[arg(long, env = "BOXOFFICE_CLEANING_MINUTES", default_value_t = 15)]
        cleaning_minutes: u32,
    },
    /// The event log itself.
    Events {
        #[command(subcommand)]
        action: EventsAction,
    },
    /// Read models: rebuild them from the log, or show how far each has come.
    Projections {
        #[command(subcommand)]
        action: ProjectionsAction,
    },
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
    /// Empty the read models and replay the whole log into them.
    Rebuild {
        /// Only these projectors (seat_map, order_history, sales, waitlist, catalogue).
        #[arg(long = "only")]
        only: Vec<String>,
    },
    /// Each projector's checkpoint and how far behind the log it is.
    Status,
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

/// Runs the command line; the error is what to print before exiting with status 1.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Token {
            sub,
            roles,
            ttl_hours,
            jwt_secret,
        } => {
            if sub.trim().is_empty() {
                return Err("--sub must not be empty".into());
            }
            let token =
                JwtKeys::new(&jwt_secret).mint(&sub, &roles, chrono::Duration::hours(ttl_hours));
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
        Command::Serve {
            listen,
            jwt_secret,
            hold_ttl_seconds,
            expiry_grace_seconds,
            max_holds_per_customer,
            waitlist_max_wait_seconds,
            cleaning_minutes,
            pool_size,
            request_timeout_seconds,
            commands_in_flight,
            queries_in_flight,
            audit_in_flight,
            sandbox_secret,
            payment_window_seconds,
            public_url,
        } => {
            if sandbox_secret.len() < 16 {
                return Err("--sandbox-secret must be at least 16 bytes".into());
            }
            if !(60..=86_400).contains(&payment_window_seconds) {
                return Err("--payment-window-seconds must be 60 to 86400".into());
            }
            if request_timeout_seconds == 0
                || pool_size == 0
                || commands_in_flight == 0
                || queries_in_flight == 0
                || audit_in_flight == 0
            {
                return Err("the pool size, the request timeout and the in-flight limits must be at least 1".into());
            }
            if cleaning_minutes > 240 {
                return Err("--cleaning-minutes must be at most 240".into());
            }
            if !(1..=10).contains(&max_holds_per_customer) {
                return Err("--max-holds-per-customer must be 1 to 10".into());
            }
            if jwt_secret == DEV_JWT_SECRET {
                tracing::warn!(
                    "using the development JWT secret; set BOXOFFICE_JWT_SECRET in production"
                );
            }
            let config = ServeConfig {
                listen,
                database_url: cli.database_url,
                event_store: cli.event_store,
                jwt_secret,
                pool_size,
                settings: ApiSettings {
                    hold_ttl_seconds,
                    expiry_grace_seconds,
                    max_holds_per_customer,
                    waitlist_max_wait_seconds,
                    cleaning_minutes,
                    limits: Limits {
                        request_timeout: Duration::from_secs(request_timeout_seconds),
                        commands_in_flight,
                        queries_in_flight,
                        audit_in_flight,
                    },
                    payments: crate::PaymentSettings {
                        sandbox_secret,
                        window: chrono::Duration::seconds(i64::from(payment_window_seconds)),
                        public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
                        ..crate::PaymentSettings::default()
                    },
                    ..ApiSettings::default()
                },
                writer: WriterConfig::default(),
            };
            let running = server::start(config).await.map_err(|e| e.to_string())?;
            running.until_signalled().await;
            Ok(())
        }
        Command::Seed {
            cities,
            cinemas_per_city,
            halls_per_cinema,
            days,
            shows_per_hall_day,
            movies,
            first_day,
            seed,
            cleaning_minutes,
        } => {
            let config = server::prepare_database(&cli.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let pool = pg::pool(&config, 24);
            let log = server::open_log(&pool, &config, cli.event_store.as_deref())
                .map_err(|e| e.to_string())?;
            let clock: std::sync::Arc<dyn boxoffice_commands::Clock> =
                std::sync::Arc::new(boxoffice_commands::SystemClock);
            let catalogue = boxoffice_commands::Catalogue::new(log.clone(), clock.clone());
            // A show's writer is needed once, to schedule it: let it go soon after.
            let writers = boxoffice_commands::ShowWriters::new(
                log,
                clock,
                WriterConfig {
                    idle_after: Duration::from_secs(1),
                    ..WriterConfig::default()
                },
            );
            let defaults = ApiSettings::default();
            let settings = ApiSettings {
                cleaning_minutes,
                ..defaults
            }
            .show_settings();
            let first_day = first_day.unwrap_or_else(|| {
                chrono::Utc::now()
                    .with_timezone(&chrono_tz::Asia::Shanghai)
                    .date_naive()
                    + chrono::Duration::days(1)
            });
            let plan = crate::seed::SeedPlan {
                seed,
                cities,
                cinemas_per_city,
                halls_per_cinema,
                days,
                shows_per_hall_day,
                movies,
                first_day,
            };
            let started = std::time::Instant::now();
            let report = crate::seed::seed(&catalogue, &writers, &settings, &plan)
                .await
                .map_err(|e| format!("seeding failed: {e}"))?;
            writers.shutdown(Duration::from_secs(10)).await;
            pool.close();
            println!(
                "seeded {} cities, {} cinemas, {} halls, {} movies, {} shows ({} seats) from {first_day} in {:.1} s",
                report.cities,
                report.cinemas,
                report.halls,
                report.movies,
                report.shows,
                report.seats,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
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
                ProjectionsAction::Rebuild { only } => {
                    let all = boxoffice_projections::all();
                    let unknown: Vec<&String> = only
                        .iter()
                        .filter(|name| !all.iter().any(|p| p.name() == name.as_str()))
                        .collect();
                    if !unknown.is_empty() {
                        return Err(format!("no such projector: {unknown:?}"));
                    }
                    let chosen: Vec<_> = all
                        .into_iter()
                        .filter(|p| only.is_empty() || only.iter().any(|n| n == p.name()))
                        .collect();
                    let report = boxoffice_projections::rebuild(log, &pool, &chosen)
                        .await
                        .map_err(|e| e.to_string())?;
                    for (name, events) in report {
                        println!("{name}: rebuilt from {events} events");
                    }
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
