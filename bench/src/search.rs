//! The discovery benchmark: a catalogue seeded at the product's scale for one day (seed
//! 003: 500 cities x 10 cinemas x 2 halls x 2 shows = 20,000 shows) through
//! `boxoffice seed`, then searches from concurrent clients against the release server:
//! by city and date, by keyword (answers kept for other clients allowed, and each computed
//! afresh), and near a point sorted by distance.

use crate::client::Http;
use crate::server::{caught_up, BenchDatabase, Server};
use crate::stats::{Latency, Summary};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEYWORDS: &[&str] = &[
    "地球",
    "哪吒",
    "avatar",
    "dune",
    "mission",
    "李焕英",
    "侦探",
    "the",
    "封神",
    "mom",
];

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub cities: usize,
    pub shows: u64,
    pub seed_seconds: f64,
    pub settle_seconds: f64,
    pub clients: usize,
    pub city_date: Kind,
    /// The same searches, each asking for an answer computed afresh rather than one the
    /// server kept from another client's same question (so for the other `_fresh`).
    pub city_date_fresh: Kind,
    pub keyword: Kind,
    pub keyword_fresh: Kind,
    pub nearby: Kind,
    pub nearby_fresh: Kind,
}

/// One kind of search under load.
#[derive(Debug, Clone, Serialize)]
pub struct Kind {
    pub query: String,
    pub requests_per_s: f64,
    pub latency: Summary,
    pub errors: u64,
    /// Average hits and shows per answer (of one answer in eight).
    pub hits: f64,
    pub shows: f64,
}

pub async fn run(
    binary: &Path,
    admin_url: &str,
    cities: usize,
    clients: usize,
    duration: Duration,
    seed: u64,
) -> anyhow::Result<SearchResult> {
    let db = BenchDatabase::create(admin_url, "search").await?;
    let day =
        (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(1);
    let seed_seconds = seed_catalogue(binary, &db.url, cities, 1, day)?;
    let server = Server::start(binary, &db.url, clients, &[]).await?;
    let started = Instant::now();
    let client = db.client().await?;
    caught_up(
        &client,
        &["catalogue", "seat_map"],
        Duration::from_secs(1800),
    )
    .await?;
    let settle_seconds = started.elapsed().as_secs_f64();
    // Table statistics, as autovacuum gathers them within a minute or so of a bulk load
    // (without them the planner takes 20,000 fresh rows for a handful).
    client.batch_execute("ANALYZE").await?;
    let shows: i64 = client
        .query_one("SELECT count(*) FROM catalogue_shows", &[])
        .await?
        .get(0);
    let places: Vec<(String, f64, f64)> = client
        .query(
            "SELECT city_id::text, avg(latitude), avg(longitude) FROM catalogue_cinemas
             GROUP BY city_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    anyhow::ensure!(!places.is_empty(), "the seed made no cinemas");
    eprintln!("   {shows} shows projected in {settle_seconds:.1} s; searching");
    let places = Arc::new(places);

    let city_search = {
        let places = places.clone();
        move |rng: &mut SmallRng| {
            let (city, _, _) = &places[rng.random_range(0..places.len())];
            format!("/v1/movies/search?city={city}&date={day}&page_size=30")
        }
    };
    let keyword_search = move |rng: &mut SmallRng| {
        let word = KEYWORDS[rng.random_range(0..KEYWORDS.len())];
        format!(
            "/v1/movies/search?keyword={}&date={day}&page_size=10",
            urlencode(word)
        )
    };
    let nearby_search = {
        let places = places.clone();
        move |rng: &mut SmallRng| {
            let (_, lat, lon) = &places[rng.random_range(0..places.len())];
            format!(
                "/v1/movies/search?latitude={lat:.4}&longitude={lon:.4}&radius_km=15&date={day}&sort=distance,date&page_size=10"
            )
        }
    };
    // Each kind twice: as clients ask (answers the server kept for another client's same
    // question allowed), and each answer computed afresh.
    let http = &server.http;
    let city_date = load(http, clients, duration, seed, false, city_search.clone()).await;
    let city_date_fresh = load(http, clients, duration / 2, seed, true, city_search).await;
    let keyword = load(http, clients, duration / 2, seed + 1, false, keyword_search).await;
    let keyword_fresh = load(http, clients, duration / 2, seed + 1, true, keyword_search).await;
    let nearby = load(
        http,
        clients,
        duration / 2,
        seed + 2,
        false,
        nearby_search.clone(),
    )
    .await;
    let nearby_fresh = load(http, clients, duration / 2, seed + 2, true, nearby_search).await;
    server.stop();
    db.drop_now().await?;
    Ok(SearchResult {
        cities,
        shows: shows as u64,
        seed_seconds,
        settle_seconds,
        clients,
        city_date: city_date.with_query("city + date, 30 per page"),
        city_date_fresh: city_date_fresh.with_query("the same, each computed afresh"),
        keyword: keyword.with_query("keyword + date, 10 per page"),
        keyword_fresh: keyword_fresh.with_query("the same, each computed afresh"),
        nearby: nearby.with_query("15 km of a point + date, by distance"),
        nearby_fresh: nearby_fresh.with_query("the same, each computed afresh"),
    })
}

/// Seeds `cities` cities of the product's shape (10 cinemas of 2 halls, 2 shows a hall a
/// day, 40 movies) for `days` days from `first_day` with `boxoffice seed`; returns the
/// seconds it took.
pub fn seed_catalogue(
    binary: &Path,
    database_url: &str,
    cities: usize,
    days: u32,
    first_day: chrono::NaiveDate,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let seeded = std::process::Command::new(binary)
        .args([
            "seed",
            "--cinemas-per-city",
            "10",
            "--halls-per-cinema",
            "2",
        ])
        .args(["--shows-per-hall-day", "2", "--movies", "40"])
        .args(["--days", &days.to_string(), "--cities", &cities.to_string()])
        .args(["--first-day", &first_day.to_string()])
        .env("DATABASE_URL", database_url)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        seeded.status.success(),
        "boxoffice seed failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    eprintln!("   {}", String::from_utf8_lossy(&seeded.stdout).trim());
    Ok(started.elapsed().as_secs_f64())
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl SearchResult {
    /// Every kind measured, in the order printed.
    pub fn kinds(&self) -> [&Kind; 6] {
        [
            &self.city_date,
            &self.city_date_fresh,
            &self.keyword,
            &self.keyword_fresh,
            &self.nearby,
            &self.nearby_fresh,
        ]
    }
}

impl Kind {
    fn with_query(mut self, query: &str) -> Self {
        self.query = query.to_owned();
        self
    }
}

/// `clients` closed-loop clients sending the paths `path` makes, for `duration`; `fresh`:
/// each asking for an answer computed afresh.
async fn load(
    http: &Http,
    clients: usize,
    duration: Duration,
    seed: u64,
    fresh: bool,
    path: impl Fn(&mut SmallRng) -> String + Send + Sync + Clone + 'static,
) -> Kind {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, path) = (http.clone(), path.clone());
            tokio::spawn(async move {
                let mut rng = SmallRng::seed_from_u64(seed * 1000 + c as u64);
                let mut latency = Latency::default();
                let (mut errors, mut hits, mut shows, mut parsed) = (0u64, 0u64, 0u64, 0u64);
                while Instant::now() < deadline {
                    let path = path(&mut rng);
                    let reply = match fresh {
                        true => http.get_fresh(&path).await,
                        false => http.send(Method::GET, &path, None, None).await,
                    };
                    match reply {
                        Ok(reply) if reply.status == StatusCode::OK => {
                            latency.record(reply.elapsed);
                            // Reading every answer would take the cores the server needs:
                            // one in eight is counted.
                            if latency.count() % 8 != 1 {
                                continue;
                            }
                            parsed += 1;
                            let body = reply.json();
                            let list = body["hits"].as_array().cloned().unwrap_or_default();
                            hits += list.len() as u64;
                            shows += list
                                .iter()
                                .map(|h| h["shows"].as_array().map_or(0, Vec::len) as u64)
                                .sum::<u64>();
                        }
                        _ => errors += 1,
                    }
                }
                (latency, errors, hits, shows, parsed)
            })
        })
        .collect();
    let mut latency = Latency::default();
    let (mut errors, mut hits, mut shows, mut parsed) = (0, 0, 0, 0);
    for task in tasks {
        if let Ok((l, e, h, s, p)) = task.await {
            latency.merge(&l);
            errors += e;
            hits += h;
            shows += s;
            parsed += p;
        }
    }
    let answered = parsed.max(1) as f64;
    Kind {
        query: String::new(),
        requests_per_s: latency.count() as f64 / started.elapsed().as_secs_f64(),
        latency: latency.summary(),
        errors,
        hits: hits as f64 / answered,
        shows: shows as f64 / answered,
    }
}

/// The number of cities the full run seeds: the product's scale.
pub const FULL_CITIES: usize = 500;

/// What the smoke run seeds.
pub const SMOKE_CITIES: usize = 3;
