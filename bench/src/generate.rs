//! A large log for the rebuild measurement, written through the same writers the server
//! uses (decided by the domain, appended in batches), and the memory measurement with many
//! shows active at once.

use crate::client::{show_body, Http};
use boxoffice_api::auth::Role;
use boxoffice_commands::{CommandContext, ShowWriters, SystemClock, WriterConfig};
use boxoffice_domain::show::{Requester, SeatsHeld};
use boxoffice_domain::{
    CustomerId, HoldId, OrderId, RefundId, SeatId, SeatSpec, ShowCommand, ShowEvent, ShowId,
};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use futures_util::{future::join_all, StreamExt};
use reqwest::Method;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Per cycle of a generated show: 40 holds of 2 seats, 28 paid and 12 released, then the 28
/// orders refunded, which frees the seats for the next cycle (108 events).
const CUSTOMERS_PER_CYCLE: usize = 40;
const PAID_PER_CYCLE: usize = 28;
const CYCLES_PER_SHOW: usize = 10;
const EVENTS_PER_SHOW: usize = 1 + CYCLES_PER_SHOW * (CUSTOMERS_PER_CYCLE * 2 + PAID_PER_CYCLE);

/// Writes at least `events` events to the log of `database`; returns how many it wrote.
pub async fn log_of(database: &tokio_postgres::Config, events: usize) -> anyhow::Result<usize> {
    let log = Arc::new(PgEventLog::new(pool(database, 8), database));
    let writers = ShowWriters::new(log, Arc::new(SystemClock), WriterConfig::default());
    let shows = events.div_ceil(EVENTS_PER_SHOW);
    let mut done = futures_util::stream::iter(0..shows)
        .map(|n| one_show(&writers, n))
        .buffer_unordered(32);
    let mut written = 0;
    while let Some(result) = done.next().await {
        written += result?;
    }
    writers.shutdown(Duration::from_secs(10)).await;
    Ok(written)
}

fn context(actor: String, key: String) -> CommandContext {
    CommandContext::request(actor, key, None)
}

async fn one_show(writers: &ShowWriters, n: usize) -> anyhow::Result<usize> {
    let show = ShowId(Uuid::new_v4());
    let starts_at = chrono::Utc::now() + chrono::Duration::days(2);
    let seats: Vec<SeatSpec> = (0..10u8)
        .flat_map(|r| {
            let row = char::from(b'A' + r).to_string();
            (1..=20u32).map(move |number| SeatSpec {
                seat_id: SeatId::new(format!("{row}{number}").as_str()),
                row: row.clone(),
                number,
                category: if r < 2 { "premium" } else { "regular" }.to_owned(),
                column: None,
                kind: None,
            })
        })
        .collect();
    let prices = BTreeMap::from([
        ("premium".to_owned(), money(9000)),
        ("regular".to_owned(), money(6000)),
    ]);
    let schedule = schedule(
        show,
        format!("回放 {n} (Replay Feature {n})"),
        starts_at,
        seats.clone(),
        prices,
    );
    let staff = || context("staff:bench".into(), Uuid::new_v4().to_string());
    let mut written = writers.execute(show, schedule, staff()).await?.events.len();
    for cycle in 0..CYCLES_PER_SHOW {
        let holds = join_all((0..CUSTOMERS_PER_CYCLE).map(|k| {
            let customer = format!("replay-{n}-{cycle}-{k}");
            let command = ShowCommand::HoldSeats {
                admission: None,
                accessible: false,
                ticket_types: Default::default(),
                hold_id: HoldId(Uuid::new_v4()),
                customer_id: CustomerId(customer.clone()),
                seats: vec![
                    seats[2 * k].seat_id.clone(),
                    seats[2 * k + 1].seat_id.clone(),
                ],
                promo: None,
            };
            writers.execute(show, command, context(customer, Uuid::new_v4().to_string()))
        }))
        .await;
        let mut held = Vec::new();
        for outcome in holds {
            let outcome = outcome?;
            written += outcome.events.len();
            if let Some(ShowEvent::SeatsHeld(hold)) = outcome.events.into_iter().next() {
                held.push(hold);
            }
        }
        let settled = join_all(held.iter().enumerate().map(|(k, hold)| {
            let command = pay_or_let_go(hold, k < PAID_PER_CYCLE);
            writers.execute(
                show,
                command,
                context(hold.customer_id.0.clone(), Uuid::new_v4().to_string()),
            )
        }))
        .await;
        let mut orders = Vec::new();
        for outcome in settled {
            let outcome = outcome?;
            written += outcome.events.len();
            if let Some(ShowEvent::HoldConfirmed(confirmed)) = outcome.events.into_iter().next() {
                orders.push(confirmed.order_id);
            }
        }
        let refunds = join_all(orders.into_iter().map(|order_id| {
            let command = ShowCommand::RefundOrder {
                order_id,
                refund_id: RefundId(Uuid::new_v4()),
                requester: Requester::Staff,
                seats: None,
            };
            writers.execute(show, command, staff())
        }))
        .await;
        for outcome in refunds {
            written += outcome?.events.len();
        }
    }
    Ok(written)
}

fn money(minor: i64) -> boxoffice_domain::Money {
    let cny = boxoffice_domain::Currency::parse("CNY").expect("a currency code");
    boxoffice_domain::Money::new(minor, cny)
}

#[derive(Debug, Clone, Serialize)]
pub struct RebuildResult {
    pub events: usize,
    pub generate_seconds: f64,
    pub rebuild_seconds: f64,
    pub events_per_s: f64,
}

/// Times `boxoffice projections rebuild` on the database's log.
pub fn time_rebuild(binary: &std::path::Path, database_url: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let output = std::process::Command::new(binary)
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", database_url)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "projections rebuild failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(started.elapsed().as_secs_f64())
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryResult {
    pub shows: usize,
    pub seats: usize,
    pub active_writers: Option<f64>,
    /// How long `/metrics` took to answer with the shows active (None: no answer).
    pub metrics_ms: Option<f64>,
    pub rss_before_mib: f64,
    /// Right after the last show was held, with the projectors still catching up.
    pub rss_scheduled_mib: f64,
    /// Once the projectors caught up (the shows still active in their writers).
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
    pub kib_per_show: f64,
}

/// Hall sizes the memory measurement cycles through (seats = rows x per_row).
pub const HALLS: [(usize, u32); 5] = [(8, 15), (12, 20), (16, 25), (20, 30), (40, 50)];

/// Schedules `shows` shows of the sizes in [`HALLS`] on the server, each then holding one
/// hold so its writer is busy; returns how many seats they have.
pub async fn many_shows(http: &Http, shows: usize) -> anyhow::Result<usize> {
    let staff = http.token("bench-staff", Role::Staff);
    let mut done = futures_util::stream::iter(0..shows)
        .map(|n| {
            let (http, staff) = (http.clone(), staff.clone());
            async move {
                let (rows, per_row) = HALLS[n % HALLS.len()];
                let title = format!("常驻 {n} (Resident {n})");
                let (show, _) = http
                    .schedule(&staff, &show_body(&title, rows, per_row))
                    .await?;
                let customer = http.token(&format!("resident-{n}"), Role::Customer);
                let body = serde_json::json!({"count": 2});
                let reply = http
                    .send(
                        Method::POST,
                        &format!("/v1/shows/{show}/holds"),
                        Some(&customer),
                        Some(&body),
                    )
                    .await?;
                anyhow::ensure!(
                    reply.status.is_success(),
                    "a hold answered {}",
                    reply.status
                );
                anyhow::Ok(rows * per_row as usize)
            }
        })
        .buffer_unordered(16);
    let mut seats = 0;
    while let Some(result) = done.next().await {
        seats += result?;
    }
    Ok(seats)
}

/// A gauge's value from the server's /metrics.
pub async fn gauge(http: &Http, name: &str) -> Option<f64> {
    let reply = http.send(Method::GET, "/metrics", None, None).await.ok()?;
    String::from_utf8_lossy(&reply.body)
        .lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|value| value.parse().ok())
}

/// What a customer does after holding: pays at the counter, or lets the hold go.
pub fn pay_or_let_go(hold: &SeatsHeld, pays: bool) -> ShowCommand {
    if pays {
        ShowCommand::ConfirmPayment {
            hold_id: hold.hold_id,
            order_id: OrderId(Uuid::new_v4()),
            requester: Requester::Staff,
            payment_reference: format!("bench-{}", hold.hold_id.0),
            amount: hold.total.clone(),
        }
    } else {
        ShowCommand::ReleaseHold {
            hold_id: hold.hold_id,
            requester: Requester::Customer(hold.customer_id.clone()),
        }
    }
}

/// Scheduling a two-hour show that is not in the catalogue, holds lasting ten minutes.
pub fn schedule(
    show: ShowId,
    title: String,
    starts_at: chrono::DateTime<chrono::Utc>,
    seats: Vec<SeatSpec>,
    prices: BTreeMap<String, boxoffice_domain::Money>,
) -> ShowCommand {
    ShowCommand::ScheduleShow {
        accessible_seating: None,
        ticket_prices: Default::default(),
        show_id: show.0,
        movie_id: Uuid::new_v4(),
        title,
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(120),
        seats,
        prices,
        hold_ttl_seconds: 600,
        expiry_grace_seconds: 5,
        max_holds_per_customer: 1,
        waitlist_max_wait_seconds: 3600,
        venue: None,
        refund_policy: None,
    }
}
