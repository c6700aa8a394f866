//! Starting and stopping the server: database, event log, writers, projectors, HTTP.
//!
//! Shutdown runs in order: stop accepting and finish in-flight requests (which wait for
//! their appends), stop the expiry scheduler, the task worker, the webhook deliverer, the
//! sealer and a running verification (recorded as stopped), let the writers finish what is
//! queued, then let the projectors finish the batch they are applying.

use crate::auth::JwtKeys;
use crate::sandbox::Sandbox;
use crate::tickets::TicketKeys;
use crate::verifications::Verifications;
use crate::waiting_room::{Admitter, WaitingRoom};
use crate::{router, ApiSettings, AppState, AuditKeys};
use boxoffice_audit::seal::SigningKey;
use boxoffice_audit::sealer::Sealer;
use boxoffice_commands::expiry::ExpiryScheduler;
use boxoffice_commands::process::{self, PaymentsProcess, TaskWorker, Workers};
use boxoffice_commands::{AccessRecords, Exchanges, Holds, Payments, Promos, Streams};
use boxoffice_commands::{Catalogue, Clock, ShowWriters, SystemClock, WriterConfig};
use boxoffice_domain::StreamName;
use boxoffice_eventstore::esdb::EsdbEventLog;
use boxoffice_eventstore::postgres::{self, PgEventLog};
use boxoffice_eventstore::{migrations, EventLog};
use boxoffice_projections::seat_map::SeatMapCache;
use boxoffice_projections::watchers::ShowWatchers;
use boxoffice_projections::Projections;
use boxoffice_webhooks::{Deliverer, WebhookDeliveries};
use deadpool_postgres::Pool;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub jwt_secret: String,
    pub pool_size: usize,
    /// The EventStoreDB/KurrentDB connection string; `None`: the log is in PostgreSQL.
    pub event_store: Option<String>,
    pub settings: ApiSettings,
    pub writer: WriterConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(tokio_postgres::Error),
    #[error("cannot reach PostgreSQL: {0}")]
    Database(tokio_postgres::Error),
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("EVENTSTORE_URL: {0}")]
    EventStore(boxoffice_eventstore::EventLogError),
    #[error("the database `{0}` does not exist")]
    NoDatabase(String),
    #[error("the database is not migrated ({0} is behind): run `boxoffice migrate` first")]
    NotMigrated(&'static str),
    #[error("cannot compute the hash chain of the events already logged: {0}")]
    Chain(boxoffice_eventstore::EventLogError),
    #[error("BOXOFFICE_AUDIT_SIGNING_KEY must be 64 hexadecimal digits (a 32-byte Ed25519 seed)")]
    AuditKey,
    #[error("BOXOFFICE_TICKET_SIGNING_KEY must be 64 hexadecimal digits (a 32-byte Ed25519 seed)")]
    TicketKey,
    #[error("{0}")]
    TicketFont(String),
    #[error("cannot make the projectors' checkpoints: {0}")]
    Projections(boxoffice_projections::ProjectionError),
}

/// The event log: EventStoreDB when a connection string is given, else the PostgreSQL log in
/// the database of `pool`. Says at `info` which it is.
pub fn open_log(
    pool: &Pool,
    pg: &tokio_postgres::Config,
    event_store: Option<&str>,
) -> Result<Arc<dyn EventLog>, StartError> {
    match event_store {
        Some(url) => {
            let log = EsdbEventLog::connect(url, &StreamName::PREFIXES)
                .map_err(StartError::EventStore)?;
            tracing::info!(
                url = %boxoffice_eventstore::esdb::mapping::redacted(url),
                "event log: EventStoreDB (read models stay in PostgreSQL)"
            );
            Ok(Arc::new(log))
        }
        None => {
            tracing::info!("event log: PostgreSQL (embedded default)");
            Ok(Arc::new(PgEventLog::new(pool.clone(), pg)))
        }
    }
}

/// Every component's migrations after the event log's, in the order they are applied.
/// The sandbox's component kept its first name (`payments`): databases remember steps by it.
fn components() -> [(&'static str, &'static [&'static str]); 7] {
    [
        ("projections", boxoffice_projections::MIGRATIONS),
        ("accounts", crate::accounts::MIGRATIONS),
        ("process", process::MIGRATIONS),
        ("payments", crate::sandbox::MIGRATIONS),
        ("verifications", crate::verifications::MIGRATIONS),
        ("webhooks", boxoffice_webhooks::MIGRATIONS),
        ("waiting_room", crate::waiting_room::MIGRATIONS),
    ]
}

/// The hash chain of events written before the log had one is computed once, by the first
/// start after the migration that added it, and marked done here. After that an event
/// without a hash is one whose hash was removed: `audit verify-log` reports it, where a
/// start that chained it again would make the edit look intact.
const CHAINED: (&str, &[&str]) = ("eventstore_chained", &["SELECT 1"]);

/// Connects, creating the database if it does not exist yet, and applies every migration.
pub async fn prepare_database(database_url: &str) -> Result<tokio_postgres::Config, StartError> {
    let config = tokio_postgres::Config::from_str(database_url).map_err(StartError::BadUrl)?;
    let mut client = match connect(&config).await {
        Ok(client) => client,
        Err(error)
            if error.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) =>
        {
            create_database(&config).await?;
            connect(&config).await.map_err(StartError::Database)?
        }
        Err(error) => return Err(StartError::Database(error)),
    };
    migrations::apply(&mut client, "eventstore", postgres::MIGRATIONS).await?;
    let (marker, steps) = CHAINED;
    if migrations::pending(&client, marker, steps).await? > 0 {
        let chained = postgres::chain_existing(&mut client)
            .await
            .map_err(StartError::Chain)?;
        if chained > 0 {
            tracing::info!(
                events = chained,
                "computed the hash chain of events written before it"
            );
        }
        migrations::apply(&mut client, marker, steps).await?;
    }
    for (component, steps) in components() {
        migrations::apply(&mut client, component, steps).await?;
    }
    Ok(config)
}

/// Connects to a database that `serve` or `migrate` has prepared and changes nothing in it:
/// the auditors' tools look at the log as it is. Creating a database on a mistyped name, or
/// migrating one, would have them report an empty or re-chained log as intact.
pub async fn open_database(database_url: &str) -> Result<tokio_postgres::Config, StartError> {
    let config = tokio_postgres::Config::from_str(database_url).map_err(StartError::BadUrl)?;
    let client = connect(&config).await.map_err(|error| {
        if error.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) {
            StartError::NoDatabase(config.get_dbname().unwrap_or_default().to_owned())
        } else {
            StartError::Database(error)
        }
    })?;
    let all = [("eventstore", postgres::MIGRATIONS), CHAINED]
        .into_iter()
        .chain(components());
    for (component, steps) in all {
        if migrations::pending(&client, component, steps).await? > 0 {
            return Err(StartError::NotMigrated(component));
        }
    }
    Ok(config)
}

async fn connect(
    config: &tokio_postgres::Config,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn create_database(config: &tokio_postgres::Config) -> Result<(), StartError> {
    let name = config.get_dbname().unwrap_or("boxoffice").to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let client = connect(&admin).await.map_err(StartError::Database)?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    tracing::info!(database = %name, "creating the database");
    match client
        .batch_execute(&format!("CREATE DATABASE {quoted}"))
        .await
    {
        Ok(()) => Ok(()),
        // Another process created it meanwhile.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => Ok(()),
        Err(e) => Err(StartError::Database(e)),
    }
}

/// The parts of a server that run beside the HTTP listener.
pub struct Backend {
    pub pool: Pool,
    pub log: Arc<dyn EventLog>,
    pub writers: ShowWriters,
    pub catalogue: Catalogue,
    pub projections: Arc<Projections>,
    /// Seat maps kept in memory, which this process's seat-map projector keeps current.
    pub seat_maps: Arc<SeatMapCache>,
    pub watchers: Arc<ShowWatchers>,
    pub waiting: Arc<ShowWatchers>,
    pub expiry: ExpiryScheduler,
    pub sandbox: Arc<Sandbox>,
    pub payments: Payments,
    pub promos: Promos,
    pub holds: Holds,
    pub access: AccessRecords,
    pub exchanges: Exchanges,
    pub tasks: TaskWorker,
    pub deliverer: Deliverer,
    pub sealer: Sealer,
    pub audit: Arc<AuditKeys>,
    pub tickets: Arc<TicketKeys>,
    pub verifications: Arc<Verifications>,
    pub waiting_room: Arc<WaitingRoom>,
    pub admitter: Admitter,
}

impl Backend {
    pub async fn start(config: &ServeConfig, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let audit_settings = &config.settings.audit;
        let signing_key = match &audit_settings.signing_key {
            Some(hex) => SigningKey::from_hex(hex).ok_or(StartError::AuditKey)?,
            None => {
                tracing::warn!(
                    "signing seals with the development key, which proves nothing; \
                     set BOXOFFICE_AUDIT_SIGNING_KEY in production"
                );
                SigningKey::development()
            }
        };
        let font = crate::tickets::pdf::Font::load(config.settings.tickets.font.as_deref())
            .map_err(StartError::TicketFont)?;
        tracing::info!(font = %font.describe(), "printable tickets are set in this font");
        let tickets = TicketKeys::new(config.settings.tickets.signing_key.as_deref(), font)
            .ok_or(StartError::TicketKey)?;
        if tickets.development {
            tracing::warn!(
                "signing tickets with the development key, which anyone can forge; set \
                 BOXOFFICE_TICKET_SIGNING_KEY in production"
            );
        }
        let tickets = Arc::new(tickets);
        let audit = Arc::new(AuditKeys {
            public_key: signing_key.public_key(),
            development: audit_settings.signing_key.is_none(),
        });
        let pg = prepare_database(&config.database_url).await?;
        let pool = postgres::pool(&pg, config.pool_size);
        let log = open_log(&pool, &pg, config.event_store.as_deref())?;
        let writers = ShowWriters::new(log.clone(), clock.clone(), config.writer.clone());
        let streams = Streams::new(log.clone(), clock.clone());
        let catalogue = Catalogue::new(streams.clone());
        let expiry = ExpiryScheduler::start(pool.clone(), writers.clone(), clock.clone());
        let waiting_room = Arc::new(WaitingRoom::new(
            pool.clone(),
            clock,
            JwtKeys::new(&config.jwt_secret),
            writers.clone(),
        ));
        let admitter = Admitter::start(waiting_room.clone());
        let sandbox = Arc::new(Sandbox::new(
            pool.clone(),
            config.settings.payments.sandbox_secret.clone(),
        ));
        let payments = Payments::new(
            streams.clone(),
            writers.clone(),
            sandbox.clone(),
            config.settings.payments.window,
        );
        let access = AccessRecords::new(streams.clone());
        let promos = Promos::new(streams);
        let holds = Holds::new(writers.clone(), promos.clone());
        let wake = Arc::new(tokio::sync::Notify::new());
        let seat_maps = Arc::new(SeatMapCache::default());
        let watchers = Arc::new(ShowWatchers::new(config.settings.live_streams_max));
        let waiting = Arc::new(ShowWatchers::new(config.settings.live_streams_max));
        let mut projectors =
            boxoffice_projections::serving(seat_maps.clone(), watchers.clone(), waiting.clone());
        projectors.push(Arc::new(PaymentsProcess { wake: wake.clone() }));
        let deliveries = Arc::new(tokio::sync::Notify::new());
        projectors.push(Arc::new(WebhookDeliveries {
            wake: deliveries.clone(),
        }));
        Projections::register(&pool, &projectors)
            .await
            .map_err(StartError::Projections)?;
        let projections = Arc::new(Projections::start(
            log.clone(),
            pool.clone(),
            projectors,
            config.settings.feed_batches,
        ));
        let exchanges = Exchanges::new(writers.clone());
        let tasks = TaskWorker::start(
            pool.clone(),
            Workers {
                payments: payments.clone(),
                promos: promos.clone(),
                exchanges: exchanges.clone(),
            },
            wake,
        );
        let deliverer =
            Deliverer::start(pool.clone(), config.settings.webhooks.clone(), deliveries);
        let verifications = Arc::new(Verifications::new(
            pool.clone(),
            log.clone(),
            audit.public_key.clone(),
        ));
        let sealer = Sealer::start(
            log.clone(),
            Arc::new(signing_key),
            audit_settings.seals.clone(),
        );
        Ok(Self {
            sealer,
            audit,
            tickets,
            verifications,
            waiting_room,
            admitter,
            pool,
            log,
            writers,
            catalogue,
            projections,
            seat_maps,
            watchers,
            waiting,
            expiry,
            sandbox,
            payments,
            promos,
            holds,
            access,
            exchanges,
            tasks,
            deliverer,
        })
    }
}

/// A server that is serving.
pub struct Running {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Shuts down gracefully and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Serves until the process is told to stop (SIGTERM or Ctrl-C), then shuts down.
    pub async fn until_signalled(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

pub async fn start(config: ServeConfig) -> Result<Running, StartError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    config: ServeConfig,
    clock: Arc<dyn Clock>,
) -> Result<Running, StartError> {
    crate::metrics::handle();
    let backend = Backend::start(&config, clock).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let (begin_stopping, stopping) = tokio::sync::watch::channel(false);
    let state = AppState {
        writers: backend.writers.clone(),
        catalogue: backend.catalogue.clone(),
        projections: backend.projections.clone(),
        pool: backend.pool.clone(),
        log: backend.log.clone(),
        jwt: JwtKeys::new(&config.jwt_secret),
        settings: Arc::new(config.settings.clone()),
        seat_maps: backend.seat_maps.clone(),
        watchers: backend.watchers.clone(),
        waiting: backend.waiting.clone(),
        answers: Arc::new(crate::answers::Answers::new(
            config.settings.answer_cache_bytes,
        )),
        login_limiter: Arc::default(),
        api_keys: Arc::default(),
        sandbox: backend.sandbox.clone(),
        payments: backend.payments.clone(),
        promos: backend.promos.clone(),
        holds: backend.holds.clone(),
        access: backend.access.clone(),
        exchanges: backend.exchanges.clone(),
        states: Arc::default(),
        audit: backend.audit.clone(),
        tickets: backend.tickets.clone(),
        verifications: backend.verifications.clone(),
        waiting_room: backend.waiting_room.clone(),
        stopping,
    };
    backend.sandbox.set_base_url(
        config
            .settings
            .payments
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}")),
    );
    let streams = state.watchers.clone();
    let app = router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                let _ = begin_stopping.send(true);
                // Live streams see it when woken: all of them, now.
                streams.wake_all();
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the HTTP server failed");
        }
        backend.expiry.shutdown().await;
        backend.admitter.shutdown().await;
        backend.tasks.stop().await;
        backend.deliverer.stop().await;
        backend.sealer.stop().await;
        backend.verifications.stop().await;
        if !backend.writers.shutdown(Duration::from_secs(10)).await {
            tracing::warn!("some show writers did not finish within 10 s");
        }
        match Arc::try_unwrap(backend.projections) {
            Ok(projections) => projections.shutdown(Duration::from_secs(10)).await,
            Err(_) => tracing::warn!("projections still in use at shutdown"),
        }
        backend.pool.close();
        tracing::info!("stopped");
    });
    tracing::info!(%addr, "serving");
    Ok(Running { addr, stop, task })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
