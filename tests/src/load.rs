//! A command load for the fault tests: customers holding and releasing seats on one show, and
//! the box office selling their holds at the counter, while the test breaks things, recording every request and what (if anything)
//! came back; then the checks on the log that must hold afterwards. A test paces its faults
//! by the load's answers ([`Load::until_more_settled`]), never by the clock, so a slow
//! machine only makes it slower.

use crate::wait::{eventually, PATIENCE};
use crate::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
    /// Who sent it: the customer, or the box office for a counter sale.
    pub actor: String,
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
    progress: Arc<Progress>,
    clients: Vec<JoinHandle<Vec<Attempt>>>,
}

/// How many answers the clients have had so far: what a test waits on instead of the clock
/// ("the load has run against this server", "the load has met the outage").
#[derive(Default)]
struct Progress {
    settled: AtomicUsize,
    unsettled: AtomicUsize,
}

impl Progress {
    fn count(&self, attempt: &Attempt) {
        let counter = if attempt.settled() {
            &self.settled
        } else {
            &self.unsettled
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Load {
    /// `clients` customers (each with its own identity) on `show`, whose layout is
    /// `rows` x `per_row` seats named like the fixtures' ("A1", ...); the box office
    /// (`staff`: its name and token) sells seven holds in ten at the counter, the customers
    /// let the others go.
    pub fn start(
        base: &str,
        tokens: Vec<(String, String)>,
        staff: (String, String),
        show: &str,
        rows: u8,
        per_row: u32,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
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
                    staff: staff.clone(),
                    seed: 0x9E37_79B9_7F4A_7C15
                        ^ (n as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
                    rows,
                    per_row,
                    progress: progress.clone(),
                };
                tokio::spawn(client.run(stop.clone()))
            })
            .collect();
        Self {
            stop,
            progress,
            clients,
        }
    }

    /// `clients` customers of `api` (`customer-0`, ...) on `show` (`rows` x `per_row`), and
    /// the box office (`box-office-1`) selling their holds: [`Load::start`] with tokens.
    pub fn customers_of(
        api: &crate::server::Api,
        clients: usize,
        show: &str,
        rows: u8,
        per_row: u32,
    ) -> Self {
        let customers = (0..clients)
            .map(|n| {
                let name = format!("customer-{n}");
                let token = api.customer(&name);
                (name, token)
            })
            .collect();
        let box_office = ("box-office-1".to_owned(), api.staff());
        Self::start(&api.base, customers, box_office, show, rows, per_row)
    }

    /// Waits until the clients have had `more` final answers (2xx or 4xx) beyond those they
    /// had when called: the load is running against the server as it is now.
    pub async fn until_more_settled(&self, more: usize) {
        let what = format!("{more} more commands of the load are answered");
        until_more(&self.progress.settled, more, &what).await;
    }

    /// How many final answers (2xx or 4xx) the clients have had so far.
    pub fn settled(&self) -> usize {
        self.progress.settled.load(Ordering::Relaxed)
    }

    /// Waits until `more` further commands got no answer or a 503: the load has met an
    /// outage.
    pub async fn until_more_unsettled(&self, more: usize) {
        let what = format!("{more} more commands of the load go unanswered");
        until_more(&self.progress.unsettled, more, &what).await;
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

async fn until_more(counter: &AtomicUsize, more: usize, what: &str) {
    let target = counter.load(Ordering::Relaxed) + more;
    eventually(what, async || {
        let now = counter.load(Ordering::Relaxed);
        if now >= target {
            Ok(())
        } else {
            Err(format!("{now} of {target}"))
        }
    })
    .await;
}

struct Client {
    http: reqwest::Client,
    base: String,
    show: String,
    customer: String,
    token: String,
    /// The box office's name and token: counter sales are staff's.
    staff: (String, String),
    seed: u64,
    rows: u8,
    per_row: u32,
    progress: Arc<Progress>,
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
            self.progress.count(&hold);
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
            self.progress.count(&next);
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
        let (actor, token) = match kind {
            Kind::Confirm => (&self.staff.0, &self.staff.1),
            Kind::Hold | Kind::Release => (&self.customer, &self.token),
        };
        Attempt {
            actor: actor.clone(),
            token: token.clone(),
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
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            send(&http, base, attempt).await;
            if attempt.settled() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no final answer within {PATIENCE:?} for {attempt:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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
            attempt.actor.clone(),
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
