//! `boxoffice serve`: the server's configuration from flags and the environment, checked
//! before anything starts.

use super::{Target, DEV_JWT_SECRET};
use crate::server::{self, ServeConfig};
use crate::{ApiSettings, AuditSettings, Limits};
use boxoffice_audit::sealer::SealSchedule;
use boxoffice_commands::WriterConfig;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, env = "BOXOFFICE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Secret for HS256 bearer tokens.
    #[arg(long, env = "BOXOFFICE_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
    pub jwt_secret: String,
    /// How long a hold lasts before it must be paid.
    #[arg(long, env = "BOXOFFICE_HOLD_TTL_SECONDS", default_value_t = 300)]
    pub hold_ttl_seconds: u32,
    /// How much longer the server waits before it expires a hold.
    #[arg(long, env = "BOXOFFICE_EXPIRY_GRACE_SECONDS", default_value_t = 5)]
    pub expiry_grace_seconds: u32,
    /// Active holds one customer may have on one show (1 to 10; fixed per show when it
    /// is scheduled).
    #[arg(long, env = "BOXOFFICE_MAX_HOLDS_PER_CUSTOMER", default_value_t = 1)]
    pub max_holds_per_customer: u32,
    /// How long a waiting-list entry may wait for an offer before it is closed.
    #[arg(
        long,
        env = "BOXOFFICE_WAITLIST_MAX_WAIT_SECONDS",
        default_value_t = 3600
    )]
    pub waitlist_max_wait_seconds: u32,
    /// Minutes a hall needs between two shows; a show is refused if it would start
    /// sooner after another ends (at most 240).
    #[arg(long, env = "BOXOFFICE_CLEANING_MINUTES", default_value_t = 15)]
    pub cleaning_minutes: u32,
    /// Database connections.
    #[arg(long, env = "BOXOFFICE_POOL_SIZE", default_value_t = 32)]
    pub pool_size: usize,
    /// Longest a request may take before it is answered 503 `request_timeout`.
    #[arg(long, env = "BOXOFFICE_REQUEST_TIMEOUT_SECONDS", default_value_t = 10)]
    pub request_timeout_seconds: u64,
    /// Requests in flight per command route before 503 `overloaded`.
    #[arg(long, env = "BOXOFFICE_COMMANDS_IN_FLIGHT", default_value_t = 2048)]
    pub commands_in_flight: usize,
    /// Requests in flight per query route before 503 `overloaded`.
    #[arg(long, env = "BOXOFFICE_QUERIES_IN_FLIGHT", default_value_t = 1024)]
    pub queries_in_flight: usize,
    /// Questions about places in on-sales' lines in flight (long-polls included) before 503
    /// `overloaded`.
    #[arg(
        long,
        env = "BOXOFFICE_QUEUE_FOLLOWS_IN_FLIGHT",
        default_value_t = 10_000
    )]
    pub queue_follows_in_flight: usize,
    /// Requests in flight per audit route before 503 `overloaded`.
    #[arg(long, env = "BOXOFFICE_AUDIT_IN_FLIGHT", default_value_t = 16)]
    pub audit_in_flight: usize,
    /// Secret the sandbox payment provider signs its notifications with.
    #[arg(
        long,
        env = "BOXOFFICE_SANDBOX_SECRET",
        default_value = "boxoffice-sandbox-secret",
        hide_default_value = true
    )]
    pub sandbox_secret: String,
    /// How long a customer has at the payment provider after starting a payment.
    #[arg(long, env = "BOXOFFICE_PAYMENT_WINDOW_SECONDS", default_value_t = 900)]
    pub payment_window_seconds: u32,
    /// The URL clients reach this server at (pay links, sandbox notifications); the
    /// listening address when absent.
    #[arg(long, env = "BOXOFFICE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Origins a payment's `return_url` may lead back to (the merchant's apps), comma
    /// separated: `https://app.example.cn,http://localhost:3000`. This server's own
    /// public URL is always one.
    #[arg(long, env = "BOXOFFICE_RETURN_ORIGINS", value_delimiter = ',')]
    pub return_origins: Vec<String>,
    /// The Ed25519 key seals over the log are signed with: its 32-byte seed, 64 hex digits
    /// (`openssl rand -hex 32`). Without it, a development key anyone can make.
    #[arg(long, env = "BOXOFFICE_AUDIT_SIGNING_KEY", hide_env_values = true)]
    pub audit_signing_key: Option<String>,
    /// The Ed25519 key tickets' QR codes are signed with: its 32-byte seed, 64 hex digits.
    /// Without it, a development key anyone can make (and so forge tickets with).
    #[arg(long, env = "BOXOFFICE_TICKET_SIGNING_KEY", hide_env_values = true)]
    pub ticket_signing_key: Option<String>,
    /// The TrueType font printable tickets are set in (one with Chinese, such as
    /// /usr/share/fonts/truetype/wqy/wqy-microhei.ttc); without it, that one if installed.
    #[arg(long, env = "BOXOFFICE_TICKET_FONT")]
    pub ticket_font: Option<std::path::PathBuf>,
    /// How many minutes before a show starts its doors let tickets in (0 to 1440).
    #[arg(long, env = "BOXOFFICE_DOORS_OPEN_MINUTES", default_value_t = 60)]
    pub doors_open_minutes: u32,
    /// How many seconds a webhook receiver has to answer (1 to 60).
    #[arg(long, env = "BOXOFFICE_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10)]
    pub webhook_timeout_seconds: u64,
    /// The longest wait between two attempts of a webhook delivery, in seconds (1 to
    /// 86400): the waits double from 1 s up to it.
    #[arg(
        long,
        env = "BOXOFFICE_WEBHOOK_MAX_RETRY_SECONDS",
        default_value_t = 3600
    )]
    pub webhook_max_retry_seconds: u64,
    /// Batches of the log the projectors' shared reader keeps for a projector that has not
    /// taken them yet (1 to 1024); a projector further behind reads the log itself.
    #[arg(long, env = "BOXOFFICE_PROJECTION_FEED_BATCHES", default_value_t = boxoffice_projections::DEFAULT_FEED_BATCHES)]
    pub projection_feed_batches: usize,
    /// MiB of discovery answers (searches, schedules, ...) kept to answer other clients who
    /// ask the same while its ETag is the same (0 to 4096; 0 keeps none).
    #[arg(long, env = "BOXOFFICE_ANSWER_CACHE_MIB", default_value_t = 64)]
    pub answer_cache_mib: usize,
    /// Live seat-map streams one process keeps open at once (1 to 1,000,000); past it a new
    /// stream is refused with 503 `too_many_streams`.
    #[arg(long, env = "BOXOFFICE_LIVE_STREAMS_MAX", default_value_t = 10_000)]
    pub live_streams_max: usize,
    /// Seal after this many events...
    #[arg(long, env = "BOXOFFICE_SEAL_EVERY_EVENTS", default_value_t = 10_000)]
    pub seal_every_events: u64,
    /// ...or this many seconds after the first event not sealed yet.
    #[arg(long, env = "BOXOFFICE_SEAL_EVERY_SECONDS", default_value_t = 60)]
    pub seal_every_seconds: u64,
    /// The built web app (`npm --prefix web run build` makes it; scripts/run does), served
    /// at `/` (booking) and `/admin` (dashboard).
    #[arg(long, env = "BOXOFFICE_WEB_DIR", default_value = "web/dist")]
    pub web_dir: std::path::PathBuf,
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn serve(cli: &Target, args: ServeArgs) -> Result<(), String> {
    let ServeArgs {
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
        queue_follows_in_flight,
        audit_in_flight,
        sandbox_secret,
        payment_window_seconds,
        public_url,
        return_origins,
        audit_signing_key,
        ticket_signing_key,
        ticket_font,
        doors_open_minutes,
        webhook_timeout_seconds,
        webhook_max_retry_seconds,
        projection_feed_batches,
        answer_cache_mib,
        live_streams_max,
        seal_every_events,
        seal_every_seconds,
        web_dir,
    } = args;
    if !(1..=1024).contains(&projection_feed_batches) {
        return Err("--projection-feed-batches must be 1 to 1024".into());
    }
    if !(1..=1_000_000).contains(&live_streams_max) {
        return Err("--live-streams-max must be 1 to 1000000".into());
    }
    if answer_cache_mib > 4096 {
        return Err("--answer-cache-mib must be 0 to 4096".into());
    }
    if doors_open_minutes > 1440 {
        return Err("--doors-open-minutes must be 0 to 1440".into());
    }
    if !(1..=60).contains(&webhook_timeout_seconds) {
        return Err("--webhook-timeout-seconds must be 1 to 60".into());
    }
    if !(1..=86_400).contains(&webhook_max_retry_seconds) {
        return Err("--webhook-max-retry-seconds must be 1 to 86400".into());
    }
    let return_origins = return_origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| {
            crate::PaymentSettings::origin_of(o.trim())
                .ok_or_else(|| format!("--return-origins: `{o}` is not an http or https origin"))
        })
        .collect::<Result<Vec<_>, _>>()?;

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
        || queue_follows_in_flight == 0
        || audit_in_flight == 0
    {
        return Err(
            "the pool size, the request timeout and the in-flight limits must be at least 1".into(),
        );
    }
    if seal_every_events == 0 || seal_every_seconds == 0 {
        return Err("--seal-every-events and --seal-every-seconds must be at least 1".into());
    }
    if cleaning_minutes > 240 {
        return Err("--cleaning-minutes must be at most 240".into());
    }
    if !(1..=10).contains(&max_holds_per_customer) {
        return Err("--max-holds-per-customer must be 1 to 10".into());
    }
    if jwt_secret == DEV_JWT_SECRET {
        tracing::warn!("using the development JWT secret; set BOXOFFICE_JWT_SECRET in production");
    }
    let config = ServeConfig {
        listen,
        database_url: cli.database_url.clone(),
        event_store: cli.event_store.clone(),
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
                queue_follows_in_flight,
                audit_in_flight,
            },
            payments: crate::PaymentSettings {
                sandbox_secret,
                window: chrono::Duration::seconds(i64::from(payment_window_seconds)),
                public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
                return_origins,
                ..crate::PaymentSettings::default()
            },
            audit: AuditSettings {
                signing_key: audit_signing_key,
                seals: SealSchedule {
                    every_events: seal_every_events,
                    every: Duration::from_secs(seal_every_seconds),
                },
            },
            tickets: crate::TicketSettings {
                signing_key: ticket_signing_key,
                doors_open_minutes,
                font: ticket_font,
            },
            webhooks: boxoffice_webhooks::DelivererConfig {
                timeout: Duration::from_secs(webhook_timeout_seconds),
                max_retry_delay: Duration::from_secs(webhook_max_retry_seconds),
            },
            web_dir,
            feed_batches: projection_feed_batches,
            answer_cache_bytes: answer_cache_mib << 20,
            live_streams_max,
            ..ApiSettings::default()
        },
        writer: WriterConfig::default(),
    };
    let running = server::start(config).await.map_err(|e| e.to_string())?;
    running.until_signalled().await;
    Ok(())
}
