//! The auditors' benchmark: one show with a long history (50,000 events: customers holding
//! and releasing seats, some paying, some refunding), then concurrent auditors asking for
//! its state at random points of that history — by version, by log position and by time —
//! against the release server. The target is p99 <= 200 ms at any point.

use crate::generate::{pay_or_let_go, schedule};
use crate::server::{BenchDatabase, Server};
use crate::stats::{Latency, Summary};
use boxoffice_api::auth::Role;
use boxoffice_commands::{CommandContext, ShowWriters, SystemClock, WriterConfig};
use boxoffice_domain::{
    Currency, CustomerId, HoldId, Money, SeatId, SeatSpec, ShowCommand, ShowEvent, ShowId,
};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use boxoffice_eventstore::EventLog;
use futures_util::future::join_all;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Customers a round, each holding two seats: one in ten pays while at least
/// [`KEEP_FREE`] seats are left, the others let their hold go (what a popular show's log
/// looks like: many more holds than sales).
const CUSTOMERS_PER_ROUND: usize = 100;
const PAYING_ONE_IN: usize = 10;
const KEEP_FREE: usize = 400;

#[derive(Debug, Clone, Serialize)]
pub struct AuditResult {
    pub events: u64,
    pub generate_seconds: f64,
    /// The first question, at the latest point: the server folds the whole history once
    /// (taking its snapshots); not part of `latency`.
    pub first_answer_ms: f64,
    pub clients: usize,
    pub requests_per_s: f64,
    /// Any point, the kinds mixed: what the target is about.
    pub latency: Summary,
    pub by_version: Summary,
    pub by_position: Summary,
    pub by_time: Summary,
    pub errors: u64,
}

/// One point of the show's history, as each kind of question names it.
#[derive(Clone)]
struct Point {
    version: u64,
    position: String,
    time: String,
}

pub async fn run(
    binary: &Path,
    admin_url: &str,
    events: usize,
    clients: usize,
    duration: Duration,
    seed: u64,
) -> anyhow::Result<AuditResult> {
    let db = BenchDatabase::create(admin_url, "audit").await?;
    db.migrate(binary)?;
    let started = Instant::now();
    let config = db.config();
    let log = Arc::new(PgEventLog::new(pool(&config, 8), &config));
    let show = long_history(log.clone(), events).await?;
    let generate_seconds = started.elapsed().as_secs_f64();
    let mut points = Vec::new();
    let mut from = 0;
    loop {
        let page = log.read_stream(&show.stream(), from, 5_000).await?;
        for event in &page {
            points.push(Point {
                version: event.version,
                position: event.position.to_string(),
                time: boxoffice_eventstore::chain::recorded_at_text(event.recorded_at),
            });
            from = event.version + 1;
        }
        if page.len() < 5_000 {
            break;
        }
    }
    eprintln!(
        "   a show of {} events written in {generate_seconds:.1} s; asking for its state",
        points.len()
    );
    let server = Server::start(binary, &db.url, clients, &[]).await?;
    let auditor = server.http.token("bench-auditor", Role::Auditor);
    let path = format!("/v1/audit/shows/{}/state", show.0);
    let points = Arc::new(points);
    // One question first: the server folds the history once and keeps its snapshots.
    let first = server
        .http
        .send(Method::GET, &path, Some(&auditor), None)
        .await?;
    anyhow::ensure!(
        first.status == StatusCode::OK,
        "the state of the show: {}",
        first.status
    );
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, points, path, auditor) = (
                server.http.clone(),
                points.clone(),
                path.clone(),
                auditor.clone(),
            );
            tokio::spawn(async move {
                let mut rng = SmallRng::seed_from_u64(seed * 1000 + c as u64);
                let mut kinds = [Latency::default(), Latency::default(), Latency::default()];
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let point = &points[rng.random_range(0..points.len())];
                    let kind = rng.random_range(0..3usize);
                    let query = match kind {
                        0 => format!("at_version={}", point.version),
                        1 => format!("at_position={}", point.position),
                        _ => format!("at_time={}", point.time.replace('+', "%2B")),
                    };
                    match http
                        .send(
                            Method::GET,
                            &format!("{path}?{query}"),
                            Some(&auditor),
                            None,
                        )
                        .await
                    {
                        Ok(reply) if reply.status == StatusCode::OK => {
                            kinds[kind].record(reply.elapsed)
                        }
                        _ => errors += 1,
                    }
                }
                (kinds, errors)
            })
        })
        .collect();
    let mut kinds = [Latency::default(), Latency::default(), Latency::default()];
    let mut errors = 0;
    for task in tasks {
        if let Ok((measured, e)) = task.await {
            for (all, one) in kinds.iter_mut().zip(&measured) {
                all.merge(one);
            }
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Latency::default();
    for kind in &kinds {
        all.merge(kind);
    }
    server.stop();
    db.drop_now().await?;
    Ok(AuditResult {
        events: points.len() as u64,
        generate_seconds,
        first_answer_ms: first.elapsed.as_secs_f64() * 1000.0,
        clients,
        requests_per_s: all.count() as f64 / elapsed,
        latency: all.summary(),
        by_version: kinds[0].summary(),
        by_position: kinds[1].summary(),
        by_time: kinds[2].summary(),
        errors,
    })
}

/// A show of at least `events` events, written through the writers the server uses.
async fn long_history(log: Arc<PgEventLog>, events: usize) -> anyhow::Result<ShowId> {
    let writers = ShowWriters::new(log, Arc::new(SystemClock), WriterConfig::default());
    let show = ShowId(Uuid::new_v4());
    let starts_at = chrono::Utc::now() + chrono::Duration::days(30);
    // The hot show's hall: 40 rows of 50.
    let seats: Vec<SeatSpec> = (0..40u8)
        .flat_map(|r| {
            let row = crate::client::row_label(r as usize);
            (1..=50u32).map(move |number| SeatSpec {
                seat_id: SeatId::new(format!("{row}{number}").as_str()),
                row: row.clone(),
                number,
                category: "regular".to_owned(),
                column: None,
                kind: None,
            })
        })
        .collect();
    let cny = |amount| Money::new(amount, Currency::parse("CNY").expect("a currency"));
    let context = |actor: &str| CommandContext::request(actor, Uuid::new_v4().to_string(), None);
    writers
        .execute(
            show,
            schedule(
                show,
                "审计 (The Audit)".into(),
                starts_at,
                seats.clone(),
                BTreeMap::from([("regular".to_owned(), cny(5000))]),
            ),
            context("staff:bench"),
        )
        .await?;
    let mut free: Vec<SeatId> = seats.iter().map(|s| s.seat_id.clone()).collect();
    let mut written = 1;
    let mut round = 0;
    while written < events {
        let holds = join_all((0..CUSTOMERS_PER_ROUND).map(|k| {
            let customer = format!("audit-{round}-{k}");
            writers.execute(
                show,
                ShowCommand::HoldSeats {
                    admission: None,
                    accessible: false,
                    ticket_types: Default::default(),
                    hold_id: HoldId(Uuid::new_v4()),
                    customer_id: CustomerId(customer.clone()),
                    seats: vec![free[2 * k].clone(), free[2 * k + 1].clone()],
                    promo: None,
                },
                context(&customer),
            )
        }))
        .await;
        let held: Vec<_> = holds
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|outcome| match outcome.events.into_iter().next() {
                Some(ShowEvent::SeatsHeld(hold)) => Some(hold),
                _ => None,
            })
            .collect();
        written += held.len();
        let selling = free.len() > KEEP_FREE + 2 * CUSTOMERS_PER_ROUND;
        let settled = join_all(held.iter().enumerate().map(|(k, hold)| {
            let command = pay_or_let_go(hold, selling && k % PAYING_ONE_IN == 0);
            writers.execute(show, command, context(&hold.customer_id.0))
        }))
        .await;
        for outcome in settled.into_iter().flatten() {
            written += outcome.events.len();
            if let Some(ShowEvent::HoldConfirmed(sold)) = outcome.events.first() {
                free.retain(|seat| !sold.seats.contains(seat));
            }
        }
        round += 1;
    }
    writers.shutdown(Duration::from_secs(10)).await;
    Ok(show)
}
