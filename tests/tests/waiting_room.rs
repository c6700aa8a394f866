//! The virtual waiting room end to end. 2,000 customers arrive over the minute before and
//! the minute after an on-sale opens (a manual clock moves time; two servers share the
//! database and the clock): they are admitted in the shuffled pre-queue's order, then in
//! arrival order, at the configured rate, each once, and nobody holds without an admission
//! of their own. Then real processes: positions survive `kill -9` and a restart, and two
//! processes admit from one line. And someone who stops asking gives their place up after
//! the grace, while someone who keeps asking keeps it.
//!
//! Order and rate are read from the admission records (number, time, process), never from
//! how long the test waited.

use boxoffice_api::server::{self, Running};
use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures;
use boxoffice_tests::server::{free_port, test_config, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::eventually;
use boxoffice_tests::TestDatabase;
use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Sets up an on-sale of `show` opening at `opens_at`; its id.
async fn onsale(api: &Api, show: &str, opens_at: DateTime<Utc>, rate: i32, grace: i32) -> String {
    let reply = api
        .request(Method::POST, "/v1/onsales")
        .token(&api.staff())
        .json(&json!({
            "title": "流浪地球3 首映",
            "show_ids": [show],
            "opens_at": opens_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "admitted_per_minute": rate,
            "grace_seconds": grace,
        }))
        .send()
        .await;
    reply.expect_created();
    reply.text("onsale_id").to_owned()
}

async fn join(api: &Api, onsale: &str, customer: &str) -> Value {
    let reply = api
        .request(Method::POST, format!("/v1/onsales/{onsale}/queue"))
        .token(&api.customer(customer))
        .send()
        .await;
    assert!(
        reply.status.is_success(),
        "{customer} could not join: {reply:?}"
    );
    reply.body.clone()
}

async fn place(api: &Api, onsale: &str, customer: &str, ticket: &str) -> Value {
    api.request(Method::GET, format!("/v1/onsales/{onsale}/queue/{ticket}"))
        .token(&api.customer(customer))
        .send()
        .await
        .expect_ok()
        .clone()
}

/// One admission as recorded: who, arrived early or not, arrival number, admission number,
/// when, by which process.
struct Admitted {
    customer: String,
    early: bool,
    arrival: i64,
    admission: i32,
    admitted_at: DateTime<Utc>,
    by: String,
}

async fn admissions(db: &TestDatabase) -> Vec<Admitted> {
    db.client()
        .await
        .query(
            "SELECT customer_id, early, arrival, admission, admitted_at, admitted_by \
             FROM onsale_queue WHERE admission IS NOT NULL ORDER BY admission",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| Admitted {
            customer: row.get(0),
            early: row.get(1),
            arrival: row.get(2),
            admission: row.get(3),
            admitted_at: row.get(4),
            by: row.get(5),
        })
        .collect()
}

async fn admitted_count(db: &TestDatabase) -> i64 {
    db.client()
        .await
        .query_one(
            "SELECT count(*) FROM onsale_queue WHERE admission IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Admission `k` may not come before `opens_at + k / rate`: never faster than the rate.
fn never_faster_than(rate: i64, opens_at: DateTime<Utc>, admitted: &[Admitted]) {
    for a in admitted {
        let due = opens_at + Duration::microseconds(i64::from(a.admission) * 60_000_000 / rate);
        assert!(
            a.admitted_at >= due,
            "admission {} at {} came before it was due ({due})",
            a.admission,
            a.admitted_at
        );
    }
}

/// Numbers 0..n once each, and each customer once.
fn each_once(admitted: &[Admitted], n: usize) {
    let numbers: Vec<i32> = admitted.iter().map(|a| a.admission).collect();
    assert_eq!(numbers, (0..n as i32).collect::<Vec<_>>());
    let customers: BTreeSet<&str> = admitted.iter().map(|a| a.customer.as_str()).collect();
    assert_eq!(customers.len(), n, "someone was admitted twice");
}

/// Spearman's rank correlation of admission order against arrival order.
fn rank_correlation(admitted: &[&Admitted]) -> f64 {
    let mut by_arrival: Vec<usize> = (0..admitted.len()).collect();
    by_arrival.sort_by_key(|&i| admitted[i].arrival);
    let mut arrival_rank = vec![0usize; admitted.len()];
    for (rank, &i) in by_arrival.iter().enumerate() {
        arrival_rank[i] = rank;
    }
    let n = admitted.len() as f64;
    let d2: f64 = arrival_rank
        .iter()
        .enumerate()
        .map(|(rank, &other)| (rank as f64 - other as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[tokio::test]
async fn two_thousand_customers_are_admitted_fairly_at_the_rate_by_two_servers() {
    const EARLY: usize = 1_000;
    const LATE: usize = 1_000;
    const RATE: i64 = 600;
    let clock = Arc::new(ManualClock::new(SystemClock.now().trunc_subsecs(0)));
    let a = TestServer::start_with_clock(clock.clone()).await;
    let b: Running = server::start_with_clock(
        test_config(&a.db, "127.0.0.1:0".parse().unwrap()),
        clock.clone(),
    )
    .await
    .expect("a second server on the same database");
    let servers = [a.api.clone(), Api::new(format!("http://{}", b.addr))];
    let api = &servers[0];
    let show = api.scheduled_show(&fixtures::show(10, 20)).await;
    let opens_at = clock.now() + Duration::seconds(60);
    let id = onsale(api, &show, opens_at, RATE as i32, 86_400).await;

    // The show says where its line is, to anyone.
    let of_show = api
        .request(Method::GET, format!("/v1/shows/{show}/onsale"))
        .send()
        .await;
    assert_eq!(of_show.expect_ok()["onsale_id"], id.as_str());
    // Before the opening nobody holds, admitted or not.
    api.hold_seats(&api.customer("c0"), &show, &["B1"])
        .send()
        .await
        .expect_problem(403, "queue_required");
    // Staff at the counter have their own line.
    api.hold_seats(&api.staff(), &show, &["B1"])
        .send()
        .await
        .expect_created();

    // A thousand arrive over the minute before the opening, twenty at a time, on either
    // server; then a thousand over the minute after.
    let mut tickets: BTreeMap<String, String> = BTreeMap::new();
    for (first, count) in [(0, EARLY), (EARLY, LATE)] {
        for chunk in (first..first + count).collect::<Vec<_>>().chunks(20) {
            let joins = chunk.iter().map(|&n| {
                let server = &servers[n % 2];
                let id = &id;
                async move {
                    let name = format!("c{n}");
                    let joined = join(server, id, &name).await;
                    (name, joined)
                }
            });
            for (name, joined) in futures_util::future::join_all(joins).await {
                let expected = if n_of(&name) < EARLY {
                    "pre_queue"
                } else {
                    "waiting"
                };
                assert_eq!(joined["status"], expected, "{name}: {joined}");
                tickets.insert(name, joined["ticket"].as_str().unwrap().to_owned());
            }
            clock.advance(Duration::milliseconds(1_200));
        }
    }
    // One place per account: asking again answers the same ticket.
    let again = join(&servers[1], &id, "c7").await;
    assert_eq!(
        again["ticket_id"],
        place(api, &id, "c7", &tickets["c7"]).await["ticket_id"]
    );

    // The clock moves in five-second steps; at each, exactly the admissions due by then are
    // made: one every tenth of a second after the one before (the schedule the on-sale's
    // row keeps), while anyone waits.
    let total = (EARLY + LATE) as i64;
    loop {
        // Nothing is due at the clock's time any more (or nobody waits).
        let (admitted, next_due, waiting) = eventually("admissions caught up", async || {
            let row =
                a.db.client()
                    .await
                    .query_one(
                        "SELECT admitted::bigint, next_due_at, (SELECT count(*) FROM onsale_queue \
                     WHERE admission IS NULL AND left_at IS NULL) FROM onsales",
                        &[],
                    )
                    .await
                    .unwrap();
            let (admitted, next_due, waiting): (i64, Option<DateTime<Utc>>, i64) =
                (row.get(0), row.get(1), row.get(2));
            match next_due {
                Some(next) if next > clock.now() || waiting == 0 => Ok((admitted, next, waiting)),
                _ => Err(format!("{admitted} admitted, next due {next_due:?}")),
            }
        })
        .await;
        if admitted == total {
            break;
        }
        clock.advance(Duration::seconds(5));
        let ahead = (clock.now() - next_due).num_microseconds().unwrap();
        let due = if ahead < 0 {
            0
        } else {
            ahead * RATE / 60_000_000 + 1
        };
        let expected = admitted + due.min(waiting);
        eventually(
            &format!("{expected} admitted"),
            async || match admitted_count(&a.db).await {
                n if n == expected => Ok(()),
                n => Err(format!("{n} admitted")),
            },
        )
        .await;
    }

    let admitted = admissions(&a.db).await;
    each_once(&admitted, EARLY + LATE);
    never_faster_than(RATE, opens_at, &admitted);
    // The pre-queue first, in a drawn order (no trace of arrival order left); then
    // everyone after the opening, first come first served.
    assert!(admitted[..EARLY].iter().all(|a| a.early));
    assert!(admitted[EARLY..].iter().all(|a| !a.early));
    let early: Vec<&Admitted> = admitted[..EARLY].iter().collect();
    let rho = rank_correlation(&early);
    assert!(
        rho.abs() < 0.2,
        "the pre-queue follows arrival order (rho {rho})"
    );
    let late: Vec<i64> = admitted[EARLY..].iter().map(|a| a.arrival).collect();
    assert!(
        late.windows(2).all(|w| w[0] < w[1]),
        "late arrivals out of order"
    );
    let processes: BTreeSet<&str> = admitted.iter().map(|a| a.by.as_str()).collect();
    eprintln!("admissions made by {} server(s)", processes.len());

    // Admitted customers hold with their own admission; nobody else can use it; without one
    // a hold is still refused.
    let last = &admitted[EARLY + LATE - 1].customer;
    let seen = place(&servers[1], &id, last, &tickets[last]).await;
    assert_eq!(seen["status"], "admitted", "{seen}");
    let token = seen["admission"]["token"].as_str().unwrap();
    let with = |seat: &str, token: &str| json!({"seats": [seat], "admission_token": token});
    api.hold(&api.customer("c0-thief"), &show, &with("C1", token))
        .send()
        .await
        .expect_problem(403, "queue_required");
    api.hold(&api.customer(last), &show, &json!({"seats": ["C1"]}))
        .send()
        .await
        .expect_problem(403, "queue_required");
    api.hold(&api.customer(last), &show, &with("C1", "not-a-token"))
        .send()
        .await
        .expect_problem(403, "queue_required");
    // An admission is not a bearer token.
    api.request(Method::GET, "/v1/me/orders")
        .token(token)
        .send()
        .await
        .expect_problem(401, "unauthorized");
    servers[1]
        .hold(&api.customer(last), &show, &with("C1", token))
        .send()
        .await
        .expect_created();
    // The queue ticket is its holder's only.
    api.request(
        Method::GET,
        format!("/v1/onsales/{id}/queue/{}", tickets["c3"]),
    )
    .token(&api.customer("c4"))
    .send()
    .await
    .expect_problem(404, "queue_ticket_not_found");

    // The admission runs out after its window.
    clock.advance(Duration::minutes(11));
    servers[1]
        .hold(&api.customer(last), &show, &with("C2", token))
        .send()
        .await
        .expect_problem(403, "queue_required");
    // The metrics say how the line stands: nobody waiting any more.
    let text = api
        .http()
        .get(format!("{}/metrics", api.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("boxoffice_database_up 1"), "{text}");
    assert!(
        text.contains(&format!(
            "boxoffice_onsale_queue_length{{onsale=\"{id}\"}} 0"
        )),
        "{text}"
    );
    // Ending the on-sale lifts the queue: anyone holds.
    let ended = api
        .request(Method::POST, format!("/v1/onsales/{id}/end"))
        .token(&api.staff())
        .send()
        .await;
    assert!(ended.expect_ok()["ended_at"].is_string());
    api.hold_seats(&api.customer("walk-in"), &show, &["C3"])
        .send()
        .await
        .expect_created();
    api.request(Method::GET, format!("/v1/shows/{show}/onsale"))
        .send()
        .await
        .expect_problem(404, "onsale_not_found");
    b.stop().await;
}

fn n_of(name: &str) -> usize {
    name.trim_start_matches('c').parse().unwrap()
}

#[tokio::test]
async fn places_survive_kill_dash_nine_and_two_processes_admit_from_one_line() {
    const CUSTOMERS: usize = 200;
    const RATE: i64 = 300;
    let db = TestDatabase::create().await;
    let a = BinaryServer::start(&db, free_port()).await;
    let api = a.api.clone();
    let show = api.scheduled_show(&fixtures::show(10, 20)).await;
    // Opens in a few seconds: those who arrive before are drawn, any later join the back.
    let opens_at = Utc::now().trunc_subsecs(0) + Duration::seconds(4);
    let id = onsale(&api, &show, opens_at, RATE as i32, 86_400).await;
    let mut tickets = BTreeMap::new();
    for chunk in (0..CUSTOMERS).collect::<Vec<_>>().chunks(40) {
        let joins = chunk.iter().map(|n| {
            let name = format!("p{n}");
            let (api, id) = (&api, &id);
            async move {
                let joined = join(api, id, &name).await;
                (name, joined)
            }
        });
        for (name, joined) in futures_util::future::join_all(joins).await {
            tickets.insert(name, joined["ticket"].as_str().unwrap().to_owned());
        }
    }

    // A alone admits the first ones.
    eventually("A admits", async || match admitted_count(&db).await {
        n if n >= 20 => Ok(()),
        n => Err(format!("{n} admitted")),
    })
    .await;
    // Where everyone still waiting stands, just before A is killed mid-line.
    let waiting = |api: Api, tickets: BTreeMap<String, String>, id: String| async move {
        let asked = tickets.iter().map(|(name, ticket)| {
            let (api, id) = (&api, &id);
            async move { (name.clone(), place(api, id, name, ticket).await) }
        });
        futures_util::future::join_all(asked)
            .await
            .into_iter()
            .filter(|(_, seen)| seen["status"] == "waiting")
            .map(|(name, seen)| (name, seen["number_in_line"].as_i64().unwrap()))
            .collect::<BTreeMap<_, _>>()
    };
    let before = waiting(api.clone(), tickets.clone(), id.clone()).await;
    let b_started = Utc::now();
    let b = BinaryServer::start(&db, free_port()).await;
    a.kill();
    let killed_at = Utc::now();
    // B alone goes on admitting.
    eventually("B admits after A's death", async || {
        match admitted_count(&db).await {
            n if n >= 60 => Ok(()),
            n => Err(format!("{n} admitted")),
        }
    })
    .await;
    let a = BinaryServer::start(&db, free_port()).await;
    // Those still waiting keep their number in line: nobody overtook anybody.
    let after = waiting(a.api.clone(), tickets.clone(), id.clone()).await;
    assert!(!after.is_empty(), "nobody left waiting to compare");
    for (name, number) in &after {
        assert_eq!(
            before.get(name),
            Some(number),
            "{name}'s number in line changed across kill -9"
        );
    }
    // Both processes admit the rest.
    eventually("everyone admitted", async || {
        match admitted_count(&db).await {
            n if n == CUSTOMERS as i64 => Ok(()),
            n => Err(format!("{n} admitted")),
        }
    })
    .await;
    let admitted = admissions(&db).await;
    each_once(&admitted, CUSTOMERS);
    never_faster_than(RATE, opens_at, &admitted);
    // Only A was up before B started; after A's death, only others admit.
    let a_names: BTreeSet<&str> = admitted
        .iter()
        .filter(|x| x.admitted_at < b_started)
        .map(|x| x.by.as_str())
        .collect();
    let after_kill: BTreeSet<&str> = admitted
        .iter()
        .filter(|x| x.admitted_at > killed_at)
        .map(|x| x.by.as_str())
        .collect();
    assert_eq!(a_names.len(), 1, "{a_names:?}");
    assert!(!after_kill.is_empty());
    assert!(
        a_names.is_disjoint(&after_kill),
        "the killed process admitted after its death"
    );
    // The order the admissions followed is the line's: each admission number's place comes
    // after the one before.
    let places: Vec<i64> = db
        .client()
        .await
        .query(
            "SELECT place FROM onsale_queue WHERE admission IS NOT NULL ORDER BY admission",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "admitted out of the line's order"
    );
    drop((a, b));
}

#[tokio::test]
async fn a_place_is_kept_while_its_holder_asks_and_given_up_after_the_grace() {
    let clock = Arc::new(ManualClock::new(SystemClock.now().trunc_subsecs(0)));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(4, 10)).await;
    // Opens in a minute; one admission a minute; a place is kept 30 s without a question.
    let opens_at = clock.now() + Duration::seconds(60);
    let id = onsale(api, &show, opens_at, 1, 30).await;
    let gone = join(api, &id, "gone").await;
    let stays = join(api, &id, "stays").await;
    let stays_ticket = stays["ticket"].as_str().unwrap();
    // "stays" asks every 20 s; "gone" never asks again.
    for _ in 0..3 {
        clock.advance(Duration::seconds(20));
        place(api, &id, "stays", stays_ticket).await;
    }
    // The opening: one admission due. "gone" was last seen 60 s ago, so whatever the draw
    // put first, "stays" is the one let in.
    let admitted = eventually("one admitted", async || {
        let seen = place(api, &id, "stays", stays_ticket).await;
        if seen["status"] == "admitted" {
            Ok(seen)
        } else {
            Err(seen.to_string())
        }
    })
    .await;
    assert_eq!(admitted["admission"]["number"], 0);
    // Whether "gone" still holds a place is read from the line itself: asking would keep it.
    let left = async || -> bool {
        server
            .db
            .client()
            .await
            .query_one(
                "SELECT left_at IS NOT NULL FROM onsale_queue WHERE customer_id = 'gone'",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    };
    // Given up at once if the draw put "gone" first; otherwise when its turn comes, a
    // minute later.
    if !left().await {
        clock.advance(Duration::seconds(60));
        eventually("gone given up", async || {
            if left().await {
                Ok(())
            } else {
                Err("still in line")
            }
        })
        .await;
    }
    let gone_ticket = gone["ticket"].as_str().unwrap();
    assert_eq!(place(api, &id, "gone", gone_ticket).await["status"], "left");
    // Coming back is a new place at the back.
    let back = api
        .request(Method::POST, format!("/v1/onsales/{id}/queue"))
        .token(&api.customer("gone"))
        .send()
        .await;
    assert_eq!(back.expect_created()["status"], "waiting");
    assert_ne!(back.body["ticket_id"], gone["ticket_id"]);
}

#[tokio::test]
async fn an_automatic_rate_is_set_at_the_opening_from_the_writers_measured_capacity() {
    let clock = Arc::new(ManualClock::new(SystemClock.now().trunc_subsecs(0)));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(4, 10)).await;
    let opens_at = clock.now() + Duration::seconds(60);
    let reply = api
        .request(Method::POST, "/v1/onsales")
        .token(&api.staff())
        .json(&json!({
            "title": "首映", "show_ids": [show],
            "opens_at": opens_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "admitted_per_minute": "auto",
        }))
        .send()
        .await;
    let made = reply.expect_created();
    assert_eq!(made["automatic_rate"], true);
    assert!(made["admitted_per_minute"].is_null(), "{made}");
    let id = made["onsale_id"].as_str().unwrap().to_owned();
    let mut tickets = BTreeMap::new();
    for name in ["a1", "a2", "a3"] {
        let joined = join(api, &id, name).await;
        tickets.insert(name, joined["ticket"].as_str().unwrap().to_owned());
    }
    // Nothing moves before the opening: a short long-poll answers the pre-queue unchanged.
    let unchanged = api
        .request(
            Method::GET,
            format!("/v1/onsales/{id}/queue/{}", tickets["a1"]),
        )
        .token(&api.customer("a1"))
        .query("wait", 1)
        .send()
        .await;
    assert_eq!(unchanged.expect_ok()["status"], "pre_queue");
    // a1 follows its place by long-poll: answered once let in.
    let follow = {
        let (api, id, ticket) = (api.clone(), id.clone(), tickets["a1"].clone());
        tokio::spawn(async move {
            api.request(Method::GET, format!("/v1/onsales/{id}/queue/{ticket}"))
                .token(&api.customer("a1"))
                .query("wait", 60)
                .send()
                .await
        })
    };
    clock.advance(Duration::seconds(60));
    // The opening sets the rate (at least the floor of 600 a minute) and admits the first.
    let opened = eventually("the opening", async || {
        let onsale = api
            .request(Method::GET, format!("/v1/onsales/{id}"))
            .token(&api.customer("a1"))
            .send()
            .await
            .expect_ok()
            .clone();
        if onsale["admitted"].as_i64() >= Some(1) {
            Ok(onsale)
        } else {
            Err(onsale.to_string())
        }
    })
    .await;
    assert!(
        opened["admitted_per_minute"].as_i64().unwrap() >= 600,
        "{opened}"
    );
    // At 600 a minute or more, the other two are due within 0.2 s.
    clock.advance(Duration::milliseconds(200));
    eventually("all three admitted", async || {
        match admitted_count(&server.db).await {
            3 => Ok(()),
            n => Err(format!("{n} admitted")),
        }
    })
    .await;
    let followed = follow.await.unwrap();
    assert_eq!(followed.expect_ok()["status"], "admitted", "{followed:?}");
    // Nonsense is refused and sets nothing up.
    for bad in [json!("fast"), json!(0), json!(1.5)] {
        api.request(Method::POST, "/v1/onsales")
            .token(&api.staff())
            .json(
                &json!({"title": "x", "show_ids": [show], "opens_at": opens_at.to_rfc3339(),
                "admitted_per_minute": bad}),
            )
            .send()
            .await
            .expect_problem(422, "validation_failed");
    }
}
