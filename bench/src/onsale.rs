//! The on-sale through the waiting room: a 2,000-seat show set up as a high-demand on-sale,
//! more customers than seats lining up before the opening, each following their place by
//! long-poll, holding the best seats with their admission once let in, and paying at once.
//! Measured: the rate admissions were actually made at (from the admission records, against
//! the configured one), the holds' latency inside the room, customers who held without an
//! admission (must be none: every hold is asked without one first), and the invariant check
//! (0 oversold).

use crate::check::{check, Invariants};
use crate::client::{show_body, Http};
use crate::server::{BenchDatabase, Server};
use crate::stats::{Latency, Summary};
use boxoffice_api::auth::Role;
use futures_util::future::join_all;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The hall: 40 rows of 50 seats.
const ROWS: usize = 40;
const PER_ROW: u32 = 50;
/// Seconds between setting the on-sale up and its opening (everyone lines up before).
const OPENS_IN: i64 = 10;
/// How long a customer's question waits for the line to move.
const WAIT_SECONDS: u64 = 25;

#[derive(Debug, Clone, Serialize)]
pub struct OnSaleResult {
    pub customers: usize,
    pub configured_per_minute: i32,
    /// Admissions over the time they took (first to last), per minute.
    pub measured_per_minute: f64,
    pub admitted: i64,
    /// Holds of admitted customers.
    pub hold: Summary,
    pub holds_succeeded: u64,
    /// Sold out by the time their turn came.
    pub holds_sold_out: u64,
    /// Holds that went through without an admission (must be 0).
    pub held_without_admission: u64,
    /// Status questions, long-polls included.
    pub follows: u64,
    pub seats_sold: usize,
    pub invariants: Invariants,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

#[derive(Default)]
struct Tally {
    hold: Latency,
    holds_succeeded: u64,
    holds_sold_out: u64,
    held_without_admission: u64,
    follows: u64,
    sold: Vec<(Uuid, String)>,
    errors: u64,
    error_samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.hold.merge(&other.hold);
        self.holds_succeeded += other.holds_succeeded;
        self.holds_sold_out += other.holds_sold_out;
        self.held_without_admission += other.held_without_admission;
        self.follows += other.follows;
        self.sold.extend(other.sold);
        self.errors += other.errors;
        for sample in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(sample);
            }
        }
    }
}

pub async fn run(
    binary: &Path,
    admin_url: &str,
    customers: usize,
    per_minute: i32,
    seed: u64,
) -> anyhow::Result<OnSaleResult> {
    let db = BenchDatabase::create(admin_url, "onsale").await?;
    db.migrate(binary)?;
    let server = Server::start(binary, &db.url, customers, &[]).await?;
    let http = server.http.clone();
    let staff = http.token("bench-box-office", Role::Staff);
    let (show, _) = http
        .schedule(&staff, &show_body("流浪地球3 首映", ROWS, PER_ROW))
        .await?;
    let opens_at = chrono::Utc::now() + chrono::Duration::seconds(OPENS_IN);
    let made = http
        .send(
            Method::POST,
            "/v1/onsales",
            Some(&staff),
            Some(&json!({
                "title": "流浪地球3 首映", "show_ids": [show],
                "opens_at": opens_at.to_rfc3339(), "admitted_per_minute": per_minute,
                "grace_seconds": 600,
            })),
        )
        .await?;
    anyhow::ensure!(
        made.status == StatusCode::CREATED,
        "setting the on-sale up answered {}: {}",
        made.status,
        String::from_utf8_lossy(&made.body)
    );
    let onsale = made.json()["onsale_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    eprintln!(
        "   {customers} customers line up; the on-sale opens in {OPENS_IN} s at {per_minute}/min"
    );
    let tasks: Vec<_> = (0..customers)
        .map(|n| {
            let (http, onsale, staff) = (http.clone(), onsale.clone(), staff.clone());
            tokio::spawn(async move {
                let mut rng = SmallRng::seed_from_u64(seed * 10_000 + n as u64);
                customer(&http, &onsale, show, &staff, n, &mut rng).await
            })
        })
        .collect();
    let mut tally = Tally::default();
    for done in join_all(tasks).await {
        tally.merge(done?);
    }
    let client = db.client().await?;
    let row = client
        .query_one(
            "SELECT count(*), extract(epoch FROM max(admitted_at) - min(admitted_at))::float8 \
             FROM onsale_queue WHERE admission IS NOT NULL",
            &[],
        )
        .await?;
    let admitted: i64 = row.get(0);
    let span: Option<f64> = row.get(1);
    // n admissions span n - 1 intervals.
    let measured_per_minute = match span {
        Some(span) if span > 0.0 => (admitted - 1) as f64 * 60.0 / span,
        _ => 0.0,
    };
    eprintln!("   checking invariants");
    let invariants = check(&http, &db.config(), &[show], &tally.sold).await?;
    server.stop();
    db.drop_now().await?;
    Ok(OnSaleResult {
        customers,
        configured_per_minute: per_minute,
        measured_per_minute,
        admitted,
        hold: tally.hold.summary(),
        holds_succeeded: tally.holds_succeeded,
        holds_sold_out: tally.holds_sold_out,
        held_without_admission: tally.held_without_admission,
        follows: tally.follows,
        seats_sold: invariants.seats_sold,
        invariants,
        errors: tally.errors,
        error_samples: tally.error_samples,
    })
}

/// One customer: tries to hold without an admission (refused), lines up, follows the place
/// until let in, holds 1 to 4 of the best seats with the admission, and pays at once.
async fn customer(
    http: &Http,
    onsale: &str,
    show: Uuid,
    staff: &str,
    n: usize,
    rng: &mut SmallRng,
) -> Tally {
    let mut tally = Tally::default();
    let token = http.token(&format!("fan-{n}"), Role::Customer);
    let count = rng.random_range(1..=4);
    let holds = format!("/v1/shows/{show}/holds");
    match http
        .send(
            Method::POST,
            &holds,
            Some(&token),
            Some(&json!({"count": count})),
        )
        .await
    {
        Ok(reply) if reply.status == StatusCode::FORBIDDEN => {}
        Ok(reply) if reply.status == StatusCode::CREATED => tally.held_without_admission += 1,
        Ok(reply) => tally.error(format!("hold without admission answered {}", reply.status)),
        Err(error) => tally.error(format!("hold without admission: {error}")),
    }
    let joined = match http
        .send(
            Method::POST,
            &format!("/v1/onsales/{onsale}/queue"),
            Some(&token),
            None,
        )
        .await
    {
        Ok(reply) if reply.status == StatusCode::CREATED => reply.json(),
        Ok(reply) => {
            tally.error(format!("join answered {}", reply.status));
            return tally;
        }
        Err(error) => {
            tally.error(format!("join: {error}"));
            return tally;
        }
    };
    let ticket = joined["ticket"].as_str().unwrap_or_default().to_owned();
    let follow = format!("/v1/onsales/{onsale}/queue/{ticket}?wait={WAIT_SECONDS}");
    let admission = loop {
        tally.follows += 1;
        match http.send(Method::GET, &follow, Some(&token), None).await {
            Ok(reply) if reply.status == StatusCode::OK => {
                let place: Value = reply.json();
                match place["status"].as_str() {
                    Some("admitted") => {
                        break place["admission"]["token"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    }
                    Some("pre_queue" | "waiting") => {}
                    other => {
                        tally.error(format!("place answered status {other:?}"));
                        return tally;
                    }
                }
            }
            // A busy server says so; ask again in a moment.
            Ok(reply) if reply.status == StatusCode::SERVICE_UNAVAILABLE => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(reply) => {
                tally.error(format!("place answered {}", reply.status));
                return tally;
            }
            Err(error) => {
                tally.error(format!("place: {error}"));
                return tally;
            }
        }
    };
    let body = json!({"count": count, "admission_token": admission});
    let started = Instant::now();
    let held = http
        .send(Method::POST, &holds, Some(&token), Some(&body))
        .await;
    tally.hold.record(started.elapsed());
    let held = match held {
        Ok(reply) if reply.status == StatusCode::CREATED => reply.json(),
        Ok(reply)
            if reply.status == StatusCode::CONFLICT
                && reply.json()["code"] == "seats_unavailable" =>
        {
            tally.holds_sold_out += 1;
            return tally;
        }
        Ok(reply) => {
            tally.error(format!(
                "hold answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
            return tally;
        }
        Err(error) => {
            tally.error(format!("hold: {error}"));
            return tally;
        }
    };
    tally.holds_succeeded += 1;
    let hold_id = held["hold_id"].as_str().unwrap_or_default();
    let path = format!("/v1/shows/{show}/holds/{hold_id}/confirm");
    let pay = json!({"payment_reference": format!("onsale-{hold_id}"), "amount": held["total"]});
    match http
        .send(Method::POST, &path, Some(staff), Some(&pay))
        .await
    {
        Ok(reply) if reply.status == StatusCode::CREATED => {
            let seats = held["seats"].as_array().cloned().unwrap_or_default();
            tally.sold.extend(
                seats
                    .iter()
                    .filter_map(|s| s.as_str())
                    .map(|s| (show, s.to_owned())),
            );
        }
        Ok(reply) => tally.error(format!("confirm answered {}", reply.status)),
        Err(error) => tally.error(format!("confirm: {error}")),
    }
    tally
}
