//! The HTTP API: axum handlers that turn requests into commands for the show writers and
//! answer queries from the read models. Handlers stay short: parse, authorise, call, shape.
//! They never write to the database themselves.

pub mod accounts;
mod answers;
pub mod api_keys;
pub mod auth;
pub mod cli;
mod command;
pub mod error;
mod extract;
pub mod metrics;
pub mod openapi;
pub mod reports;
mod routes;
pub mod sandbox;
pub mod server;
pub mod tickets;
pub mod verifications;
pub mod waiting_room;
mod web;

use auth::JwtKeys;
use boxoffice_commands::{Catalogue, ShowSettings, ShowWriters};
use boxoffice_eventstore::EventLog;
use boxoffice_projections::Projections;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;

pub use routes::{openapi, router};

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// How long a hold lasts before the client must have paid.
    pub hold_ttl_seconds: u32,
    /// How much longer the server waits before expiring a hold.
    pub expiry_grace_seconds: u32,
    /// Active holds one customer may have on one show (fixed per show when scheduled).
    pub max_holds_per_customer: u32,
    /// How long a waiting-list entry may wait for an offer (fixed per show when scheduled).
    pub waitlist_max_wait_seconds: u32,
    /// Minutes a hall needs between two shows (cleaning, letting people out and in).
    pub cleaning_minutes: u32,
    /// How long an access token from login or refresh is valid.
    pub access_token_ttl: chrono::Duration,
    /// Longest a query waits for the read models to reach a client's `min_position`.
    pub read_wait: Duration,
    /// Batches of the log the projectors' shared reader keeps for a projector that has not
    /// taken them yet (see `boxoffice_projections::Projections::start`).
    pub feed_batches: usize,
    /// Bytes of discovery answers kept to answer other clients asking the same while the
    /// ETag is the same (0: none kept).
    pub answer_cache_bytes: usize,
    /// Live seat-map streams open at once, and waiting-list long-polls waiting at once;
    /// past it a new one is refused (503).
    pub live_streams_max: usize,
    pub limits: Limits,
    pub payments: PaymentSettings,
    pub audit: AuditSettings,
    pub tickets: TicketSettings,
    /// How webhook deliveries are sent and retried.
    pub webhooks: boxoffice_webhooks::DelivererConfig,
    /// The built web front end (`web/dist`: `index.html`, `admin.html`, `assets/`), served
    /// at `/` and `/admin`; see `web`.
    pub web_dir: std::path::PathBuf,
}

/// Tickets and the doors.
#[derive(Debug, Clone)]
pub struct TicketSettings {
    /// The Ed25519 key tickets' QR codes are signed with: its 32-byte seed as 64 hex
    /// digits. Absent: the development key, which anyone can make (a warning is logged).
    pub signing_key: Option<String>,
    /// How long before a show starts its doors let tickets in.
    pub doors_open_minutes: u32,
    /// The font printable tickets are set in (see `tickets::pdf`); None: a known one.
    pub font: Option<std::path::PathBuf>,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            signing_key: None,
            doors_open_minutes: 60,
            font: None,
        }
    }
}

/// Seals over the log's hash chain.
#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// The Ed25519 key seals are signed with: its 32-byte seed as 64 hex digits. Absent:
    /// the development key, which anyone can make (a warning is logged).
    pub signing_key: Option<String>,
    pub seals: boxoffice_audit::sealer::SealSchedule,
}

/// The key auditors check seals with, as this server serves it.
#[derive(Debug, Clone)]
pub struct AuditKeys {
    pub public_key: boxoffice_audit::seal::PublicKey,
    /// Signed with the development key: the seals prove nothing.
    pub development: bool,
}

/// The built-in sandbox payment provider.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// The secret the sandbox signs its notifications with (HMAC-SHA256).
    pub sandbox_secret: String,
    /// How long a customer has at the provider after starting a payment (longer than a
    /// hold, as at real providers: a payment may succeed after its hold lapsed).
    pub window: chrono::Duration,
    /// How old a notification's timestamp may be (either way) to be accepted.
    pub notify_tolerance: chrono::Duration,
    /// The address clients and the sandbox reach this server at (pay URLs, notifications);
    /// the listening address when absent.
    pub public_url: Option<String>,
    /// Origins (`https://app.example.cn`) a payment's return URL may lead to, besides this
    /// server's own.
    pub return_origins: Vec<String>,
}

impl PaymentSettings {
    /// The origin of an http or https URL, as browsers write it (`https://host[:port]`,
    /// the default port left out); `None` for anything else.
    pub fn origin_of(url: &str) -> Option<String> {
        let url = url::Url::parse(url).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        match url.origin() {
            origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
            url::Origin::Opaque(_) => None,
        }
    }
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            sandbox_secret: "boxoffice-sandbox-secret".into(),
            window: chrono::Duration::minutes(15),
            notify_tolerance: chrono::Duration::minutes(5),
            public_url: None,
            return_origins: Vec::new(),
        }
    }
}

/// Per-route bounds; past them a request gets a 503 problem with `Retry-After`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Requests in flight per command route (holds, confirms, refunds, ...).
    pub commands_in_flight: usize,
    /// Requests in flight per query route (seat maps, orders, reports).
    pub queries_in_flight: usize,
    /// Questions about places in on-sales' lines in flight (long-polls included): many
    /// more than queries, as each waits on the line without working.
    pub queue_follows_in_flight: usize,
    /// Requests in flight per audit route (they read pages of the log).
    pub audit_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            commands_in_flight: 2048,
            queries_in_flight: 1024,
            queue_follows_in_flight: 10_000,
            audit_in_flight: 16,
        }
    }
}

impl ApiSettings {
    /// What a show scheduled now is given.
    pub fn show_settings(&self) -> ShowSettings {
        ShowSettings {
            hold_ttl_seconds: self.hold_ttl_seconds,
            expiry_grace_seconds: self.expiry_grace_seconds,
            max_holds_per_customer: self.max_holds_per_customer,
            waitlist_max_wait_seconds: self.waitlist_max_wait_seconds,
            cleaning_minutes: self.cleaning_minutes,
        }
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            hold_ttl_seconds: 300,
            expiry_grace_seconds: 5,
            max_holds_per_customer: 1,
            waitlist_max_wait_seconds: 3600,
            cleaning_minutes: 15,
            access_token_ttl: chrono::Duration::minutes(15),
            read_wait: Duration::from_secs(5),
            feed_batches: boxoffice_projections::DEFAULT_FEED_BATCHES,
            answer_cache_bytes: 64 << 20,
            live_streams_max: 10_000,
            limits: Limits::default(),
            payments: PaymentSettings::default(),
            audit: AuditSettings::default(),
            tickets: TicketSettings::default(),
            webhooks: boxoffice_webhooks::DelivererConfig::default(),
            web_dir: std::path::PathBuf::from("web/dist"),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub writers: ShowWriters,
    pub catalogue: Catalogue,
    pub projections: Arc<Projections>,
    pub pool: Pool,
    pub log: Arc<dyn EventLog>,
    pub jwt: JwtKeys,
    pub settings: Arc<ApiSettings>,
    pub seat_maps: Arc<boxoffice_projections::seat_map::SeatMapCache>,
    /// Who watches which show's live seat map; woken by the seat-map projector.
    pub watchers: Arc<boxoffice_projections::watchers::ShowWatchers>,
    /// Who long-polls which show's waiting-list entries; woken by the waiting-list projector.
    pub waiting: Arc<boxoffice_projections::watchers::ShowWatchers>,
    /// Discovery answers shared between clients.
    pub answers: Arc<answers::Answers>,
    pub login_limiter: Arc<accounts::LoginLimiter>,
    pub api_keys: Arc<api_keys::ApiKeys>,
    pub sandbox: Arc<sandbox::Sandbox>,
    pub payments: boxoffice_commands::Payments,
    pub promos: boxoffice_commands::Promos,
    pub holds: boxoffice_commands::Holds,
    pub access: boxoffice_commands::AccessRecords,
    pub exchanges: boxoffice_commands::Exchanges,
    /// Streams folded to points for auditors, with this process's snapshots.
    pub states: Arc<boxoffice_audit::state::States>,
    pub audit: Arc<AuditKeys>,
    /// The key tickets' QR codes are signed with.
    pub tickets: Arc<tickets::TicketKeys>,
    /// Verifications of the read models and the log that auditors start.
    pub verifications: Arc<verifications::Verifications>,
    /// High-demand on-sales' lines.
    pub waiting_room: Arc<waiting_room::WaitingRoom>,
    /// Turns true when the server begins to stop: endless answers (live seat maps) end
    /// then, or a graceful shutdown would wait for their clients to leave.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}
