//! Virtual customers: each loops read seat map -> pick adjacent free-looking seats -> hold ->
//! confirm (70%), release (20%) or abandon (10%, left to expire, and continue as a new
//! customer). A show that sells out is replaced by a newly scheduled one.

use crate::client::{row_label, show_body, Http};
use crate::stats::{Latency, Summary};
use boxoffice_api::auth::Role;
use futures_util::StreamExt;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Which shows the customers go for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Popularity {
    /// Everyone on one show.
    Hot,
    /// Each hold goes to a show drawn from a Zipf distribution over the board.
    Zipf,
}

/// The shows on sale: one slot per show, replaced by a new show when it sells out.
pub struct Board {
    slots: Vec<Slot>,
    rows: usize,
    per_row: u32,
    layout: Layout,
    staff: String,
    /// Every show the run scheduled (the invariant check reads them all).
    pub all: Mutex<Vec<Uuid>>,
}

struct Slot {
    /// The show on sale and the position its read models must reach to show it.
    current: RwLock<(Uuid, String)>,
    replacing: tokio::sync::Mutex<()>,
}

impl Board {
    /// Schedules `count` shows of `rows` x `per_row` seats, 16 at a time.
    pub async fn schedule(
        http: &Http,
        count: usize,
        rows: usize,
        per_row: u32,
    ) -> anyhow::Result<Board> {
        let staff = http.token("bench-staff", Role::Staff);
        let mut ids = Vec::with_capacity(count);
        let mut pending = futures_util::stream::iter((0..count).map(|n| {
            let (http, staff) = (http.clone(), staff.clone());
            async move {
                let title = format!("热映 {n} (Bench Feature {n})");
                http.schedule(&staff, &show_body(&title, rows, per_row))
                    .await
            }
        }))
        .buffered(16);
        while let Some(id) = pending.next().await {
            ids.push(id?);
        }
        drop(pending);
        Ok(Board {
            slots: ids
                .iter()
                .map(|id| Slot {
                    current: RwLock::new(id.clone()),
                    replacing: tokio::sync::Mutex::new(()),
                })
                .collect(),
            rows,
            per_row,
            layout: Layout::new(rows, per_row),
            staff,
            all: Mutex::new(ids.into_iter().map(|(id, _)| id).collect()),
        })
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn current(&self, slot: usize) -> Uuid {
        self.slots[slot].current.read().expect("board lock").0
    }

    /// The position at which `show` was scheduled, if it is on the board.
    fn scheduled_at(&self, slot: usize, show: Uuid) -> Option<String> {
        let current = self.slots[slot].current.read().expect("board lock");
        (current.0 == show).then(|| current.1.clone())
    }

    /// `seen` sold out: the first customer to notice schedules its successor.
    async fn sold_out(&self, http: &Http, slot: usize, seen: Uuid) -> anyhow::Result<()> {
        let _one_at_a_time = self.slots[slot].replacing.lock().await;
        if self.current(slot) != seen {
            return Ok(());
        }
        let title = format!("热映 {slot} (Bench Feature {slot}), again");
        let next = http
            .schedule(&self.staff, &show_body(&title, self.rows, self.per_row))
            .await?;
        let id = next.0;
        *self.slots[slot].current.write().expect("board lock") = next;
        self.all.lock().expect("board lock").push(id);
        Ok(())
    }
}

/// What all customers of one run did.
#[derive(Default)]
pub struct Tally {
    pub holds_attempted: u64,
    pub holds_succeeded: u64,
    pub holds_refused: u64,
    pub confirms: u64,
    pub releases: u64,
    pub abandons: u64,
    pub seat_map_reads: u64,
    pub shows_sold_out: u64,
    /// Answers other than the expected ones (5xx, unexpected 4xx, transport errors).
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// 503 answers to commands, each followed by a retry with the same key.
    pub unavailable: u64,
    /// 503 answers to seat reads (the read model was behind), each read again later.
    pub reads_unavailable: u64,
    pub hold: Latency,
    pub confirm: Latency,
    pub release: Latency,
    pub seat_map: Latency,
    pub lag: Latency,
    pub full_map: Latency,
    /// The box-office projector's lag behind the log, sampled from `/metrics`.
    pub box_office_lag: Latency,
    /// (show, seat) of every confirmed seat as the clients saw it.
    pub sold: Vec<(Uuid, String)>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.holds_attempted += other.holds_attempted;
        self.holds_succeeded += other.holds_succeeded;
        self.holds_refused += other.holds_refused;
        self.confirms += other.confirms;
        self.releases += other.releases;
        self.abandons += other.abandons;
        self.seat_map_reads += other.seat_map_reads;
        self.shows_sold_out += other.shows_sold_out;
        self.errors += other.errors;
        self.unavailable += other.unavailable;
        self.reads_unavailable += other.reads_unavailable;
        for sample in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(sample);
            }
        }
        self.hold.merge(&other.hold);
        self.confirm.merge(&other.confirm);
        self.release.merge(&other.release);
        self.seat_map.merge(&other.seat_map);
        self.lag.merge(&other.lag);
        self.full_map.merge(&other.full_map);
        self.box_office_lag.merge(&other.box_office_lag);
        self.sold.extend(other.sold);
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(what);
        }
    }
}

/// Rates and percentiles of a booking run, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct BookingResult {
    pub clients: usize,
    pub servers: usize,
    pub seconds: f64,
    pub holds_attempted: u64,
    pub holds_answered_per_s: f64,
    pub holds_succeeded_per_s: f64,
    pub confirms_per_s: f64,
    pub holds_refused: u64,
    pub releases: u64,
    pub abandons: u64,
    pub shows_sold_out: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// Commands answered 503 and retried with the same idempotency key.
    pub retried_after_503: u64,
    /// Seat reads answered 503 `projection_lagging` and read again.
    pub reads_lagging_503: u64,
    pub hold: Summary,
    pub confirm: Summary,
    pub release: Summary,
    /// The compact status read customers use in their loop.
    pub seat_map: Summary,
    /// The full seat map (layout, prices and statuses), sampled ten times a second.
    pub full_seat_map: Summary,
    pub projection_lag: Summary,
    /// How far the box-office projector was behind the log (sampled every 250 ms).
    pub box_office_lag: Summary,
}

pub struct Run {
    pub servers: Vec<Http>,
    pub board: Arc<Board>,
    pub popularity: Popularity,
    pub clients: usize,
    pub duration: Duration,
    pub seed: u64,
}

impl Run {
    /// Drives the customers for the run's duration; returns the tally and the wall time.
    pub async fn drive(&self) -> (Tally, Duration) {
        let started = Instant::now();
        let deadline = started + self.duration;
        let probe = Arc::new(Mutex::new(None));
        let mut customers = Vec::new();
        for n in 0..self.clients {
            let customer = Customer {
                http: self.servers[n % self.servers.len()].clone(),
                board: self.board.clone(),
                popularity: self.popularity,
                rng: SmallRng::seed_from_u64(self.seed.wrapping_mul(1_000_003) + n as u64),
                number: n,
                identity: 0,
                probe: probe.clone(),
                maps: HashMap::new(),
                tally: Tally::default(),
                counter: self.servers[n % self.servers.len()]
                    .token(&format!("bench-counter-{n}"), Role::Staff),
            };
            customers.push(tokio::spawn(customer.run(deadline)));
        }
        let prober = tokio::spawn(probe_lag(self.servers[0].clone(), probe, deadline));
        let sampler = tokio::spawn(sample_full_maps(
            self.servers[0].clone(),
            self.board.clone(),
            deadline,
        ));
        let box_office = tokio::spawn(sample_projector_lag(
            self.servers[0].clone(),
            "box_office",
            deadline,
        ));
        let mut tally = Tally::default();
        for customer in customers {
            tally.merge(customer.await.expect("a customer task"));
        }
        let lag = prober.await.expect("the lag probe");
        tally.lag.merge(&lag);
        let full = sampler.await.expect("the full seat map sampler");
        tally.full_map.merge(&full);
        let box_office = box_office.await.expect("the box-office lag sampler");
        tally.box_office_lag.merge(&box_office);
        (tally, started.elapsed())
    }
}

impl BookingResult {
    pub fn of(tally: &Tally, clients: usize, servers: usize, wall: Duration) -> Self {
        let seconds = wall.as_secs_f64();
        let answered = tally.holds_succeeded + tally.holds_refused;
        Self {
            clients,
            servers,
            seconds,
            holds_attempted: tally.holds_attempted,
            holds_answered_per_s: answered as f64 / seconds,
            holds_succeeded_per_s: tally.holds_succeeded as f64 / seconds,
            confirms_per_s: tally.confirms as f64 / seconds,
            holds_refused: tally.holds_refused,
            releases: tally.releases,
            abandons: tally.abandons,
            shows_sold_out: tally.shows_sold_out,
            errors: tally.errors,
            error_samples: tally.error_samples.clone(),
            retried_after_503: tally.unavailable,
            reads_lagging_503: tally.reads_unavailable,
            hold: tally.hold.summary(),
            confirm: tally.confirm.summary(),
            release: tally.release.summary(),
            seat_map: tally.seat_map.summary(),
            full_seat_map: tally.full_map.summary(),
            projection_lag: tally.lag.summary(),
            box_office_lag: tally.box_office_lag.summary(),
        }
    }
}

/// Samples `projector`'s lag behind the log (`boxoffice_projection_lag_seconds` on
/// `/metrics`) every 250 ms until `deadline`.
async fn sample_projector_lag(http: Http, projector: &str, deadline: Instant) -> Latency {
    let mut lag = Latency::default();
    let gauge = format!("boxoffice_projection_lag_seconds{{projector=\"{projector}\"}}");
    while Instant::now() < deadline {
        if let Ok(reply) = http.send(Method::GET, "/metrics", None, None).await {
            let seconds = String::from_utf8_lossy(&reply.body)
                .lines()
                .find(|line| line.starts_with(&gauge))
                .and_then(|line| line.split_whitespace().last()?.parse::<f64>().ok());
            if let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) {
                lag.record(Duration::from_secs_f64(seconds));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    lag
}

/// A hold's 201 waiting to be seen in the seat map: (show, position, answered at).
type Pending = Arc<Mutex<Option<(Uuid, String, Instant)>>>;

/// Measures projection lag: takes the latest successful hold and asks for the seat map at
/// its position (the server answers once the seat map has applied it). One probe at a time,
/// so the probe adds at most one seat-map reader to the load.
async fn probe_lag(http: Http, pending: Pending, deadline: Instant) -> Latency {
    let mut lag = Latency::default();
    while Instant::now() < deadline {
        let next = pending.lock().expect("probe lock").take();
        let Some((show, position, answered_at)) = next else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let path = format!("/v1/shows/{show}/seats/status?min_position={position}");
        if let Ok(reply) = http.send(Method::GET, &path, None, None).await {
            // 503 `projection_lagging`: not there after the server's 5 s wait; the lag is
            // at least as long as we waited.
            if reply.status == StatusCode::OK || reply.status == StatusCode::SERVICE_UNAVAILABLE {
                lag.record(answered_at.elapsed());
            }
        }
    }
    lag
}

/// The hall every benchmark show is in: seat ids by row, numbered 1, 2, ... without gaps,
/// in the seat map's (layout) order. Clients keep a hall's layout; it never changes.
pub struct Layout {
    rows: Vec<Vec<String>>,
    per_row: usize,
}

impl Layout {
    pub fn new(rows: usize, per_row: u32) -> Self {
        Self {
            rows: (0..rows)
                .map(|r| {
                    (1..=per_row)
                        .map(|n| format!("{}{n}", row_label(r)))
                        .collect()
                })
                .collect(),
            per_row: per_row as usize,
        }
    }
}

/// Reads the full seat map of the first show on the board ten times a second (what a client
/// shows when a customer opens the show), beside the load.
async fn sample_full_maps(http: Http, board: Arc<Board>, deadline: Instant) -> Latency {
    let mut latency = Latency::default();
    while Instant::now() < deadline {
        let path = format!("/v1/shows/{}/seats", board.current(0));
        if let Ok(reply) = http.send(Method::GET, &path, None, None).await {
            if reply.status == StatusCode::OK {
                latency.record(reply.elapsed);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latency
}

/// A customer's view of one show: which seats looked free, by layout position.
struct LocalMap {
    free: Vec<bool>,
}

impl LocalMap {
    fn from(statuses: &str) -> Self {
        Self {
            free: statuses.bytes().map(|status| status == b'a').collect(),
        }
    }

    /// 1 to 4 adjacent free-looking seats around a random free one; None when none is free.
    fn pick(&mut self, layout: &Layout, rng: &mut SmallRng) -> Option<Vec<String>> {
        let free: Vec<usize> = (0..self.free.len()).filter(|&o| self.free[o]).collect();
        if free.is_empty() {
            return None;
        }
        let seat = free[rng.random_range(0..free.len())];
        let want = rng.random_range(1..=4usize);
        let (row, at) = (seat / layout.per_row, seat % layout.per_row);
        let start = row * layout.per_row;
        let (mut from, mut to) = (at, at);
        while to - from + 1 < want && to + 1 < layout.per_row && self.free[start + to + 1] {
            to += 1;
        }
        while to - from + 1 < want && from > 0 && self.free[start + from - 1] {
            from -= 1;
        }
        for taken in &mut self.free[start + from..=start + to] {
            *taken = false;
        }
        Some(layout.rows[row][from..=to].to_vec())
    }
}

struct Customer {
    http: Http,
    board: Arc<Board>,
    popularity: Popularity,
    rng: SmallRng,
    number: usize,
    identity: u64,
    probe: Pending,
    /// The last seat map read of each show.
    maps: HashMap<Uuid, LocalMap>,
    tally: Tally,
    /// A box-office token: payments are confirmed as at the counter (the provider flow
    /// would add the sandbox's round trips, not the show's work).
    counter: String,
}

impl Customer {
    fn sub(&self) -> String {
        format!("bench-{}-{}", self.number, self.identity)
    }

    async fn run(mut self, deadline: Instant) -> Tally {
        let zipf = Zipf::new(self.board.len() as f64, 1.0).expect("a Zipf distribution");
        let mut token = self.http.token(&self.sub(), Role::Customer);
        let mut slot = 0;
        while Instant::now() < deadline {
            if self.popularity == Popularity::Zipf {
                slot = zipf.sample(&mut self.rng) as usize - 1;
            }
            let show = self.board.current(slot);
            if !self.maps.contains_key(&show) && !self.read_map(slot, show).await {
                continue;
            }
            let layout = &self.board.layout;
            let Some(seats) = self
                .maps
                .get_mut(&show)
                .and_then(|map| map.pick(layout, &mut self.rng))
            else {
                // Nothing free in what we last saw: look again; if still nothing, replace.
                self.maps.remove(&show);
                if self.read_map(slot, show).await {
                    let map = self.maps.get_mut(&show).expect("just read");
                    if map.pick(&self.board.layout, &mut self.rng).is_none() {
                        self.tally.shows_sold_out += 1;
                        if let Err(error) = self.board.sold_out(&self.http, slot, show).await {
                            self.tally
                                .error(format!("replacing a sold-out show: {error}"));
                        }
                    }
                    self.maps.remove(&show);
                }
                continue;
            };
            match self.hold(show, &seats, &token).await {
                HoldAnswer::Held { hold_id, total } => {
                    let roll = self.rng.random_range(0..100);
                    if roll < 70 {
                        let counter = self.counter.clone();
                        self.confirm(show, &hold_id, total, &seats, &counter).await;
                    } else if roll < 90 {
                        self.release(show, &hold_id, &token).await;
                    } else {
                        self.tally.abandons += 1;
                        self.identity += 1;
                        token = self.http.token(&self.sub(), Role::Customer);
                    }
                }
                HoldAnswer::Refused => {
                    self.maps.remove(&show);
                    self.read_map(slot, show).await;
                }
                HoldAnswer::Failed => {
                    self.maps.remove(&show);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            if self.maps.len() > 8 {
                self.maps.clear();
            }
        }
        self.tally
    }

    async fn read_map(&mut self, slot: usize, show: Uuid) -> bool {
        // A show just put on sale may not be in the read model yet: read at its position.
        let path = match self.board.scheduled_at(slot, show) {
            Some(at) => format!("/v1/shows/{show}/seats/status?min_position={at}"),
            None => format!("/v1/shows/{show}/seats/status"),
        };
        let reply = self.http.send(Method::GET, &path, None, None).await;
        match reply {
            Ok(reply) if reply.status == StatusCode::OK => {
                self.tally.seat_map_reads += 1;
                self.tally.seat_map.record(reply.elapsed);
                match serde_json::from_slice::<StatusDoc>(&reply.body) {
                    Ok(doc)
                        if doc.statuses.len()
                            == self.board.layout.rows.len() * self.board.layout.per_row =>
                    {
                        self.maps.insert(show, LocalMap::from(&doc.statuses));
                        true
                    }
                    Ok(_) => {
                        self.tally
                            .error("seat statuses do not match the layout".into());
                        false
                    }
                    Err(error) => {
                        self.tally.error(format!("an unreadable seat map: {error}"));
                        false
                    }
                }
            }
            // The read model is behind the show's scheduling: a client waits and reads again.
            Ok(reply) if reply.status == StatusCode::SERVICE_UNAVAILABLE => {
                self.tally.reads_unavailable += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                false
            }
            Ok(reply) => {
                self.tally.error(format!(
                    "seat map answered {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ));
                false
            }
            Err(error) => {
                self.tally.error(format!("seat map: {error}"));
                false
            }
        }
    }

    /// Sends a command as a client should: with an idempotency key, and again with the same
    /// key after a 503 (the server asks for a retry when the show is contended), up to five
    /// times. Each 503 is counted; the latency is that of the whole exchange.
    async fn command(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<crate::client::Reply> {
        let key = Uuid::new_v4().to_string();
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let mut reply = self
                .http
                .send_keyed(method.clone(), path, Some(token), body, Some(&key))
                .await?;
            if reply.status != StatusCode::SERVICE_UNAVAILABLE || tries == 5 {
                reply.elapsed = started.elapsed();
                return Ok(reply);
            }
            self.tally.unavailable += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn hold(&mut self, show: Uuid, seats: &[String], token: &str) -> HoldAnswer {
        self.tally.holds_attempted += 1;
        let body = json!({ "seats": seats });
        let path = format!("/v1/shows/{show}/holds");
        let reply = self.command(Method::POST, &path, token, Some(&body)).await;
        match reply {
            Ok(reply) if reply.status == StatusCode::CREATED => {
                self.tally.hold.record(reply.elapsed);
                self.tally.holds_succeeded += 1;
                let held = reply.json();
                let position = held["position"].as_str().unwrap_or_default().to_owned();
                *self.probe.lock().expect("probe lock") = Some((show, position, Instant::now()));
                HoldAnswer::Held {
                    hold_id: held["hold_id"].as_str().unwrap_or_default().to_owned(),
                    total: held["total"].clone(),
                }
            }
            Ok(reply) if reply.status == StatusCode::CONFLICT => {
                self.tally.hold.record(reply.elapsed);
                self.tally.holds_refused += 1;
                if reply.json()["code"] != "seats_unavailable" {
                    self.tally.error(format!(
                        "hold refused unexpectedly: {}",
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
                HoldAnswer::Refused
            }
            Ok(reply) => {
                self.tally.error(format!(
                    "hold answered {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ));
                HoldAnswer::Failed
            }
            Err(error) => {
                self.tally.error(format!("hold: {error}"));
                HoldAnswer::Failed
            }
        }
    }

    async fn confirm(
        &mut self,
        show: Uuid,
        hold_id: &str,
        total: Value,
        seats: &[String],
        token: &str,
    ) {
        let body = json!({"payment_reference": format!("bench-{hold_id}"), "amount": total});
        let path = format!("/v1/shows/{show}/holds/{hold_id}/confirm");
        match self.command(Method::POST, &path, token, Some(&body)).await {
            Ok(reply) if reply.status == StatusCode::CREATED => {
                self.tally.confirm.record(reply.elapsed);
                self.tally.confirms += 1;
                self.tally
                    .sold
                    .extend(seats.iter().map(|seat| (show, seat.clone())));
            }
            Ok(reply) => self.tally.error(format!(
                "confirm answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )),
            Err(error) => self.tally.error(format!("confirm: {error}")),
        }
    }

    async fn release(&mut self, show: Uuid, hold_id: &str, token: &str) {
        let path = format!("/v1/shows/{show}/holds/{hold_id}");
        match self.command(Method::DELETE, &path, token, None).await {
            Ok(reply) if reply.status == StatusCode::OK => {
                self.tally.release.record(reply.elapsed);
                self.tally.releases += 1;
            }
            Ok(reply) => self.tally.error(format!(
                "release answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )),
            Err(error) => self.tally.error(format!("release: {error}")),
        }
    }
}

#[derive(serde::Deserialize)]
struct StatusDoc {
    statuses: String,
}

enum HoldAnswer {
    Held { hold_id: String, total: Value },
    Refused,
    Failed,
}

/// The ceiling of the HTTP stack: the same clients on `GET /healthz`.
#[derive(Debug, Clone, Serialize)]
pub struct CeilingResult {
    pub clients: usize,
    pub seconds: f64,
    pub requests_per_s: f64,
    pub errors: u64,
    pub latency: Summary,
}

pub async fn healthz_ceiling(http: &Http, clients: usize, duration: Duration) -> CeilingResult {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move {
                let (mut latency, mut errors) = (Latency::default(), 0u64);
                while Instant::now() < deadline {
                    match http.send(Method::GET, "/healthz", None, None).await {
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
    let (mut latency, mut errors) = (Latency::default(), 0);
    for task in tasks {
        let (l, e) = task.await.expect("a healthz client");
        latency.merge(&l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    CeilingResult {
        clients,
        seconds,
        requests_per_s: latency.count() as f64 / seconds,
        errors,
        latency: latency.summary(),
    }
}
