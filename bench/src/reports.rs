//! The analysts' benchmark: a catalogue at the product's scale for a week (seed 003: 500
//! cities x 10 cinemas x 2 halls x 2 shows a day = 20,000 shows a day) seeded by
//! `boxoffice seed`, a million tickets sold on it through the writers the server uses
//! (some holds let go, some orders refunded), then box-office reports asked by concurrent
//! analysts against the release server, each kind on its own: by city and day, by movie, by
//! cinema and hour, one movie's on-sale curve, one city's funnel. The target is p99 <= 100 ms
//! for each. Each step waits for every read model to catch up (the seed before the selling,
//! the selling before the asking), so that the reports are timed on a server that only
//! answers them.

use crate::client::Http;
use crate::server::{caught_up, BenchDatabase, Server, READ_MODELS};
use crate::stats::{Latency, Summary};
use boxoffice_api::auth::Role;
use boxoffice_commands::{CommandContext, ShowWriters, SystemClock, WriterConfig};
use boxoffice_domain::show::Requester;
use boxoffice_domain::{CustomerId, HoldId, RefundId, SeatId, ShowCommand, ShowEvent, ShowId};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use futures_util::future::join_all;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Seats a customer buys at once.
const SEATS_PER_ORDER: usize = 4;
/// Orders written at once.
const IN_FLIGHT: usize = 256;
/// One hold in this many is let go instead of paid; one order in this many is refunded.
const RELEASED_ONE_IN: usize = 10;
const REFUNDED_ONE_IN: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct ReportsResult {
    pub cities: usize,
    pub days: u32,
    pub shows: u64,
    pub tickets_sold: u64,
    pub seed_seconds: f64,
    pub sell_seconds: f64,
    pub settle_seconds: f64,
    pub clients: usize,
    pub kinds: Vec<Kind>,
}

/// One kind of report under load.
#[derive(Debug, Clone, Serialize)]
pub struct Kind {
    pub query: String,
    pub requests_per_s: f64,
    pub latency: Summary,
    pub errors: u64,
}

/// What the phase is asked to make.
pub struct Scale {
    pub cities: usize,
    pub days: u32,
    pub tickets: usize,
}

pub async fn run(
    binary: &Path,
    admin_url: &str,
    scale: Scale,
    clients: usize,
    duration: Duration,
    seed: u64,
) -> anyhow::Result<ReportsResult> {
    let db = BenchDatabase::create(admin_url, "reports").await?;
    let first_day =
        (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(1);
    let last_day = first_day + chrono::Duration::days(i64::from(scale.days) - 1);
    let seed_seconds =
        crate::search::seed_catalogue(binary, &db.url, scale.cities, scale.days, first_day)?;
    let server = Server::start(binary, &db.url, clients, &[]).await?;
    let client = db.client().await?;
    caught_up(&client, &READ_MODELS, Duration::from_secs(3600)).await?;
    let shows: Vec<(Uuid, Vec<String>)> = client
        .query(
            "SELECT show_id, ARRAY(SELECT jsonb_array_elements_text(seat_ids)) FROM report_shows",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    anyhow::ensure!(!shows.is_empty(), "the seed made no shows");
    eprintln!(
        "   {} shows projected; selling {} tickets",
        shows.len(),
        scale.tickets
    );

    let started = Instant::now();
    let tickets_sold = sell(&db, &shows, scale.tickets, seed).await?;
    let sell_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    caught_up(&client, &READ_MODELS, Duration::from_secs(3600)).await?;
    let settle_seconds = started.elapsed().as_secs_f64();
    // As autovacuum would after a day's writes: statistics, and the visibility map that
    // lets index-only scans skip the heap.
    client.batch_execute("VACUUM ANALYZE").await?;
    let places: Vec<(Uuid, Uuid)> = client
        .query(
            "SELECT DISTINCT city_id, movie_id FROM report_shows WHERE city_id IS NOT NULL",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let places = Arc::new(places);
    eprintln!(
        "   {tickets_sold} tickets sold in {sell_seconds:.1} s, projected {settle_seconds:.1} s later; asking"
    );

    let analyst = server.http.token("bench-analyst", Role::Analyst);
    let week = format!("from={first_day}&to={last_day}");
    let mut kinds = Vec::new();
    let plain = [
        ("box office by city + day, a week", "group_by=city,day"),
        ("box office by movie, a week", "group_by=movie"),
        (
            "box office by cinema + hour, a week",
            "group_by=cinema,hour",
        ),
    ];
    for (n, (name, query)) in plain.into_iter().enumerate() {
        let path = format!("/v1/reports/box-office?{query}&{week}");
        let kind = load(
            &server.http,
            &analyst,
            clients,
            duration,
            seed + n as u64,
            move |_| path.clone(),
        )
        .await;
        kinds.push(kind.named(name));
    }
    let timeline = {
        let places = places.clone();
        load(
            &server.http,
            &analyst,
            clients,
            duration,
            seed + 10,
            move |rng| {
                let (_, movie) = places[rng.random_range(0..places.len())];
                format!("/v1/reports/sales-timeline?movie_id={movie}&bucket=hour")
            },
        )
        .await
    };
    kinds.push(timeline.named("one movie's on-sale curve, by hour"));
    let funnel = {
        let (places, week) = (places.clone(), week.clone());
        load(
            &server.http,
            &analyst,
            clients,
            duration,
            seed + 11,
            move |rng| {
                let (city, _) = places[rng.random_range(0..places.len())];
                format!("/v1/reports/funnel?group_by=day&city_id={city}&{week}")
            },
        )
        .await
    };
    kinds.push(funnel.named("one city's funnel by day, a week"));
    server.stop();
    db.drop_now().await?;
    Ok(ReportsResult {
        cities: scale.cities,
        days: scale.days,
        shows: shows.len() as u64,
        tickets_sold,
        seed_seconds,
        sell_seconds,
        settle_seconds,
        clients,
        kinds,
    })
}

/// Sells about `tickets` tickets over `shows` (four seats an order, in random shows, each
/// show's seats from its first on), with some holds let go and some orders refunded, through
/// the writers the server uses. Returns the tickets sold.
async fn sell(
    db: &BenchDatabase,
    shows: &[(Uuid, Vec<String>)],
    tickets: usize,
    seed: u64,
) -> anyhow::Result<u64> {
    let config = db.config();
    let log = Arc::new(PgEventLog::new(pool(&config, 16), &config));
    let writers = ShowWriters::new(log, Arc::new(SystemClock), WriterConfig::default());
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut next_seat = vec![0usize; shows.len()];
    let context = |actor: &str| CommandContext::request(actor, Uuid::new_v4().to_string(), None);
    let mut sold: u64 = 0;
    let mut order = 0usize;
    while (sold as usize) < tickets {
        let mut wave = Vec::with_capacity(IN_FLIGHT);
        while wave.len() < IN_FLIGHT {
            let n = rng.random_range(0..shows.len());
            let (show, seats) = &shows[n];
            if next_seat[n] + SEATS_PER_ORDER > seats.len() {
                continue;
            }
            let taken: Vec<SeatId> = seats[next_seat[n]..next_seat[n] + SEATS_PER_ORDER]
                .iter()
                .map(|s| SeatId::new(s.as_str()))
                .collect();
            next_seat[n] += SEATS_PER_ORDER;
            order += 1;
            wave.push((ShowId(*show), taken, order));
        }
        let outcomes = join_all(wave.into_iter().map(|(show, seats, order)| {
            let writers = &writers;
            async move {
                let customer = format!("analyst-bench-{order}");
                let held = writers
                    .execute(
                        show,
                        ShowCommand::HoldSeats {
                            admission: None,
                            accessible: false,
                            ticket_types: Default::default(),
                            hold_id: HoldId(Uuid::new_v4()),
                            customer_id: CustomerId(customer.clone()),
                            seats,
                            promo: None,
                        },
                        context(&customer),
                    )
                    .await
                    .ok()?;
                let Some(ShowEvent::SeatsHeld(hold)) = held.events.into_iter().next() else {
                    return None;
                };
                let pays = order % RELEASED_ONE_IN != 0;
                let settled = writers
                    .execute(
                        show,
                        crate::generate::pay_or_let_go(&hold, pays),
                        context(&customer),
                    )
                    .await
                    .ok()?;
                let Some(ShowEvent::HoldConfirmed(paid)) = settled.events.into_iter().next() else {
                    return Some(0);
                };
                // Paid orders only (every RELEASED_ONE_IN-th order is let go unpaid).
                if order % REFUNDED_ONE_IN == 1 {
                    writers
                        .execute(
                            show,
                            ShowCommand::RefundOrder {
                                order_id: paid.order_id,
                                refund_id: RefundId(Uuid::new_v4()),
                                requester: Requester::Staff,
                                seats: None,
                            },
                            context("staff:bench"),
                        )
                        .await
                        .ok()?;
                }
                Some(paid.seats.len() as u64)
            }
        }))
        .await;
        sold += outcomes.into_iter().flatten().sum::<u64>();
    }
    writers.shutdown(Duration::from_secs(10)).await;
    Ok(sold)
}

impl Kind {
    fn named(mut self, query: &str) -> Self {
        self.query = query.to_owned();
        self
    }
}

/// `clients` closed-loop analysts asking for the paths `path` makes, for `duration`.
async fn load(
    http: &Http,
    token: &str,
    clients: usize,
    duration: Duration,
    seed: u64,
    path: impl Fn(&mut SmallRng) -> String + Send + Sync + Clone + 'static,
) -> Kind {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, path, token) = (http.clone(), path.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut rng = SmallRng::seed_from_u64(seed * 1000 + c as u64);
                let mut latency = Latency::default();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    match http
                        .send(Method::GET, &path(&mut rng), Some(&token), None)
                        .await
                    {
                        Ok(reply) if reply.status == StatusCode::OK => {
                            latency.record(reply.elapsed)
                        }
                        _ => errors += 1,
                    }
                }
                (latency, errors)
            })
        })
        .collect();
    let mut latency = Latency::default();
    let mut errors = 0;
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latency.merge(&l);
            errors += e;
        }
    }
    Kind {
        query: String::new(),
        requests_per_s: latency.count() as f64 / started.elapsed().as_secs_f64(),
        latency: latency.summary(),
        errors,
    }
}
