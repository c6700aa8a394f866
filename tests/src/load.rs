//! A command load for the fault tests: customers holding, paying for and releasing seats on
//! one show while the test breaks things, recording every request and what (if anything)
//! came back; then the checks that must hold afterwards.

use crate::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hold,
    Confirm,
    Release,
}

impl Kind {
    /// The event a successful command of this kind appends, and the id it names.
    fn event(self) -> (&'static str, &'static str) {
        match self {
            Kind::Hold => ("SeatsHeld", "hold_id"),
            Kind::Confirm => ("HoldConfirmed", "order_id"),
            Kind::Release => ("HoldReleased", "hold_id"),
        }
    }
}

/// One command as a client sent it, and its answer (`None`: no answer, e.g. the server died).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub customer: String,
    pub token: String,
    pub key: String,
    pub kind: Kind,
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub answer: Option<(StatusCode, Value)>,
}

impl Attempt {
    /// Whether the answer is final: anything but silence or a 503 (retry later).
    pub fn settled(&self) -> bool {
        matches!(&self.answer, Some((status, _)) if *status != StatusCode::SERVICE_UNAVAILABLE)
    }
}

/// Customers sending commands until told to stop.
pub struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Vec<Attempt>>>,
}

impl Load {
    /// `clients` customers (each with its own identity) on `show`, whose layout is
    /// `rows` x `per_row` seats named like the fixtures' ("A1", ...).
    pub fn start(
        base: &str,
        tokens: Vec<(String, String)>,
        show: &str,
        rows: u8,
        per_row: u32,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        let clients = tokens
            .into_iter()
            .enumerate()
            .map(|(n, (customer, token))| {
                let client = Client {
                    http: http.clone(),
                    base: base.to_owned(),
                    show: show.to_owned(),
                    customer,
                    token,
                    seed: 0x9E37_79B9_7F4A_7C15
                        ^ (n as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
                    rows,
                    per_row,
                };
                tokio::spawn(client.run(stop.clone()))
            })
            .collect();
        Self { stop, clients }
    }

    pub async fn stop(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for client in self.clients {
            all.extend(client.await.expect("a load client"));
        }
        all
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    show: String,
    customer: String,
    token: String,
    seed: u64,
    rows: u8,
    per_row: u32,
}

impl Client {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for picking seats.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn seats(&mut self) -> Vec<String> {
        let count = 1 + self.next() % 3;
        let row = char::from(b'A' + (self.next() % u64::from(self.rows)) as u8);
        let first = 1 + self.next() % u64::from(self.per_row.saturating_sub(2).max(1));
        (0..count).map(|i| format!("{row}{}", first + i)).collect()
    }

    async fn run(mut self, stop: Arc<AtomicBool>) -> Vec<Attempt> {
        let mut attempts = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let seats = self.seats();
            let mut hold = self.attempt(
                Kind::Hold,
                format!("{}-{n}-hold", self.customer),
                Method::POST,
                format!("/v1/shows/{}/holds", self.show),
                Some(json!({ "seats": seats })),
            );
            send(&self.http, &self.base, &mut hold).await;
            let held = match &hold.answer {
                Some((StatusCode::CREATED, body)) => Some(body.clone()),
                Some(_) => None,
                None => {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    None
                }
            };
            attempts.push(hold);
            let Some(held) = held else { continue };
            let hold_id = held["hold_id"].as_str().unwrap_or_default().to_owned();
            let pay = self.next() % 10 < 7;
            let mut next = if pay {
                self.attempt(
                    Kind::Confirm,
                    format!("{}-{n}-confirm", self.customer),
                    Method::POST,
                    format!("/v1/shows/{}/holds/{hold_id}/confirm", self.show),
                    Some(
                        json!({ "payment_reference": format!("pay-{n}"), "amount": held["total"] }),
                    ),
                )
            } else {
                self.attempt(
                    Kind::Release,
                    format!("{}-{n}-release", self.customer),
                    Method::DELETE,
                    format!("/v1/shows/{}/holds/{hold_id}", self.show),
                    None,
                )
            };
            send(&self.http, &self.base, &mut next).await;
            attempts.push(next);
        }
        attempts
    }

    fn attempt(
        &self,
        kind: Kind,
        key: String,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Attempt {
        Attempt {
            customer: self.customer.clone(),
            token: self.token.clone(),
            key,
            kind,
            method,
            path,
            body,
            answer: None,
        }
    }
}

async fn send(http: &reqwest::Client, base: &str, attempt: &mut Attempt) {
    let mut request = http
        .request(attempt.method.clone(), format!("{base}{}", attempt.path))
        .bearer_auth(&attempt.token)
        .header("idempotency-key", &attempt.key);
    if let Some(body) = &attempt.body {
        request = request.json(body);
    }
    attempt.answer = match request.send().await {
        Ok(response) => {
            let status = response.status();
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            Some((status, body))
        }
        Err(_) => None,
    };
}

/// Sends every unsettled attempt again with the same key and body until it gets a final
/// answer. Returns how many were retried.
pub async fn retry_unsettled(base: &str, attempts: &mut [Attempt]) -> usize {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let mut retried = 0;
    for attempt in attempts.iter_mut().filter(|a| !a.settled()) {
        retried += 1;
        for _ in 0..50 {
            send(&http, base, attempt).await;
            if attempt.settled() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(attempt.settled(), "no final answer for {attempt:?}");
    }
    retried
}

/// What the fault tests check once the dust has settled:
/// - every answer is a 2xx or a 4xx (never a 5xx);
/// - no command appended its events twice (per actor, idempotency key and event type);
/// - every command answered 2xx is in the log exactly once, with the id it answered;
/// - no command answered 4xx wrote anything.
///
/// Returns (successes, refusals).
pub async fn check_log(db: &TestDatabase, attempts: &[Attempt]) -> (usize, usize) {
    let client = db.client().await;
    let doubled = client
        .query(
            "SELECT metadata->>'actor', metadata->>'idempotency_key', event_type, count(*)
             FROM events GROUP BY 1, 2, 3 HAVING count(*) > 1",
            &[],
        )
        .await
        .expect("query the log");
    let doubled: Vec<(Option<String>, Option<String>, String, i64)> = doubled
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert!(doubled.is_empty(), "commands appended twice: {doubled:?}");

    let rows = client
        .query(
            "SELECT metadata->>'actor', metadata->>'idempotency_key', event_type, data
             FROM events WHERE metadata->>'idempotency_key' IS NOT NULL",
            &[],
        )
        .await
        .expect("query the log");
    let mut logged: HashMap<(String, String, String), Value> = HashMap::new();
    for row in rows {
        let actor: Option<String> = row.get(0);
        let key: Option<String> = row.get(1);
        logged.insert(
            (
                actor.unwrap_or_default(),
                key.unwrap_or_default(),
                row.get(2),
            ),
            row.get(3),
        );
    }
    let (mut successes, mut refusals) = (0, 0);
    for attempt in attempts {
        let (status, body) = attempt.answer.as_ref().expect("settled");
        assert!(
            status.is_success() || status.is_client_error(),
            "a 5xx answer: {attempt:?}"
        );
        let (event_type, id_field) = attempt.kind.event();
        let event = logged.get(&(
            attempt.customer.clone(),
            attempt.key.clone(),
            event_type.to_owned(),
        ));
        if status.is_success() {
            successes += 1;
            let event =
                event.unwrap_or_else(|| panic!("a 2xx command is not in the log: {attempt:?}"));
            assert_eq!(event[id_field], body[id_field], "{attempt:?}");
        } else {
            refusals += 1;
            assert!(
                event.is_none(),
                "a refused command wrote {event_type}: {attempt:?}"
            );
        }
    }
    (successes, refusals)
}

/// The read-model tables, each as its rows in JSON, sorted.
pub async fn read_models(db: &TestDatabase) -> Vec<(String, Vec<String>)> {
    let client = db.client().await;
    let mut tables = Vec::new();
    let projectors = boxoffice_projections::all();
    let names = projectors.iter().flat_map(|p| p.tables().iter());
    for table in names {
        let rows = client
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY 1"),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        tables.push((table.to_string(), rows.iter().map(|r| r.get(0)).collect()));
    }
    tables
}

/// Waits (up to 30 s) until every projector's checkpoint has reached the newest event the
/// log holds (committed, whether or not its place is final yet: the test decides when the
/// writing has stopped).
pub async fn wait_for_projections(db: &TestDatabase) {
    let client = db.client().await;
    let newest = client
        .query_opt(
            "SELECT xid, position FROM events ORDER BY xid DESC, position DESC LIMIT 1",
            &[],
        )
        .await
        .expect("read the log")
        .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)));
    let Some(newest) = newest else { return };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let behind: Vec<(String, i64, i64)> = client
            .query(
                "SELECT name, commit_position, prepare_position FROM projection_checkpoints
                 WHERE (commit_position, prepare_position) < ($1, $2)",
                &[&newest.0, &newest.1],
            )
            .await
            .expect("read the checkpoints")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if behind.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "projections did not reach {newest:?} in 30 s: {behind:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that the read models as the live projectors left them equal a fresh rebuild from
/// the log. Call it once the projectors have caught up ([`wait_for_projections`]) and the
/// server has stopped.
pub async fn assert_read_models_equal_a_rebuild(db: &TestDatabase) {
    let live = read_models(db).await;
    let status = std::process::Command::new(crate::server::BinaryServer::binary())
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", &db.url)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run boxoffice projections rebuild");
    assert!(status.success(), "projections rebuild failed");
    let rebuilt = read_models(db).await;
    for ((table, live_rows), (_, rebuilt_rows)) in live.iter().zip(&rebuilt) {
        let only_live: Vec<&String> = live_rows
            .iter()
            .filter(|r| !rebuilt_rows.contains(r))
            .collect();
        let only_rebuilt: Vec<&String> = rebuilt_rows
            .iter()
            .filter(|r| !live_rows.contains(r))
            .collect();
        assert_eq!(
            live_rows.len(),
            rebuilt_rows.len(),
            "{table}: live and rebuilt row counts differ; only live: {only_live:#?}; only rebuilt: {only_rebuilt:#?}"
        );
        assert_eq!(
            live_rows, rebuilt_rows,
            "{table}: live differs from rebuilt"
        );
    }
}
