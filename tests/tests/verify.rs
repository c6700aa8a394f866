//! Read models verified against the log. `boxoffice projections verify` and the auditors'
//! `POST /v1/audit/verifications` rebuild every read model from the log at the position of
//! its live checkpoint and compare the two row by row: an untouched database is equal; a row
//! changed by hand is named with its read model, table and key, and the live and rebuilt
//! values; the HTTP job also walks the log and names an event changed by hand; and a
//! verification while customers keep buying finds no difference that is not there.

use boxoffice_tests::read_models::{projections_verify, wait_for_projections};
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::{eventually, PATIENCE};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Starts a verification over HTTP (202, with where to follow it) and follows it until it
/// is done; its last view.
async fn verified_over_http(api: &Api) -> Value {
    let auditor = api.auditor();
    let started = api.start_verification(&auditor).await;
    let id = started.expect_status(202)["verification_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no verification_id in {started}"))
        .to_owned();
    assert_eq!(
        started.header("location"),
        Some(format!("/v1/audit/verifications/{id}").as_str())
    );
    assert_eq!(started.body["status"], "running");
    eventually("the verification is done", async || {
        let reply = api.verification(&auditor, &id).await;
        let view = reply.expect_ok();
        if view["status"] == "running" {
            Err(format!("running: {}", view["progress"]))
        } else {
            Ok(view.clone())
        }
    })
    .await
}

/// The report on `table` of `read_model` in a finished verification's result.
fn table_report<'a>(view: &'a Value, read_model: &str, table: &str) -> &'a Value {
    view["result"]["read_models"]["read_models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["read_model"] == read_model))
        .and_then(|model| model["tables"].as_array())
        .and_then(|tables| tables.iter().find(|t| t["table"] == table))
        .unwrap_or_else(|| panic!("no report on {read_model}.{table} in {view:#}"))
}

/// What a scene put in each read model: the ids of rows a test changes.
struct Scene {
    show: String,
    movie: String,
    /// Alice's hold, paid through the provider and then partly refunded.
    hold: String,
    /// Dan's waiting-list entry, offered the seat Alice gave back.
    entry: String,
}

/// A catalogue show that sells out, with a payment through the provider, a refund, a hold
/// and a waiting list: a row in every read model.
async fn scene(api: &Api) -> Scene {
    let staff = api.staff();
    let city = api
        .create_city(&staff, "上海", "Asia/Shanghai")
        .await
        .created("id");
    let cinema = api
        .create_cinema(
            &staff,
            &json!({
                "city_id": city, "name": "人民广场影城", "address": "人民广场 1号",
                "latitude": 31.2304, "longitude": 121.4737, "postal_code": "200001"
            }),
        )
        .await
        .created("id");
    let hall = api
        .create_hall(&staff, &cinema, &fixtures::hall_of_one_row("1号厅", "RRRR"))
        .await
        .created("id");
    let movie = api
        .create_movie(
            &staff,
            &fixtures::movie(
                "流浪地球3",
                Some("The Wandering Earth III"),
                "太阳即将毁灭，人类带着地球流浪。",
                &["sci-fi"],
                "zh",
            ),
        )
        .await
        .created("id");
    let starts_at = chrono::Utc::now() + chrono::Duration::days(3);
    let show = api
        .schedule_show(
            &staff,
            &fixtures::show_in_hall(&movie, &hall, &starts_at.to_rfc3339()),
        )
        .await
        .created("show_id");
    let (alice, carol, dan) = (
        api.customer("alice"),
        api.customer("carol"),
        api.customer("dan"),
    );
    // Alice pays for two seats through the provider; Carol holds the other two: sold out.
    let hold = api
        .hold_seats(&alice, &show, &["A1", "A2"])
        .await
        .created("hold_id");
    let payment = api.start_payment(&alice, &show, &hold, "alipay").await;
    let paid = api
        .press_in_sandbox(&payment.created("pay_url"), "succeed")
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.html);
    api.hold_seats(&carol, &show, &["A3", "A4"])
        .await
        .expect_created();
    // Dan waits; the seat Alice gives back is offered to him.
    let entry = api.join_waitlist(&dan, &show, 1).await.created("entry_id");
    let order = eventually("Alice's order is paid", async || {
        let orders = api.my_orders(&alice).await;
        let first = &orders.expect_ok()["orders"][0];
        match first["order_id"].as_str() {
            Some(order) if first["status"] == "paid" => Ok(order.to_owned()),
            _ => Err(first.to_string()),
        }
    })
    .await;
    api.refund_seats(&alice, &show, &order, &["A2"])
        .await
        .expect_created();
    eventually("Dan is offered the seat given back", async || {
        let reply = api.waitlist_entry(&dan, &show, &entry).await;
        match reply.body["status"].as_str() {
            Some("offered") => Ok(()),
            // Not projected yet (404), or still waiting.
            _ => Err(reply.to_string()),
        }
    })
    .await;
    Scene {
        show,
        movie,
        hold,
        entry,
    }
}

#[tokio::test]
async fn an_untouched_database_equals_what_the_log_makes_of_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    scene(api).await;
    wait_for_projections(&server.db).await;

    // While the server keeps serving.
    let verified = projections_verify(&server.db, &[]).await;
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    assert!(stdout_lines(&verified).is_empty(), "{verified:?}");
    let said = String::from_utf8_lossy(&verified.stderr);
    for read_model in [
        "seat_map",
        "order_history",
        "sales",
        "waitlist",
        "catalogue",
    ] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(&format!("{read_model} at ")) && l.ends_with(": equal")),
            "{read_model} is not said to be equal: {said}"
        );
    }

    let view = verified_over_http(api).await;
    assert_eq!(view["status"], "passed", "{view:#}");
    assert_eq!(view["requested_by"], "auditor-1");
    assert!(view["finished_at"].is_string(), "{view:#}");
    assert_eq!(view["result"]["log"]["findings"], json!([]), "{view:#}");
    let seats = table_report(&view, "seat_map", "seat_map_seats");
    assert_eq!(seats["key"], json!(["show_id", "seat_id"]));
    assert_eq!(seats["live_rows"], 4);
    assert_eq!(seats["rebuilt_rows"], 4);
    assert_eq!(seats["differences"], 0);
    let timeline = table_report(&view, "order_history", "order_history_timeline");
    assert_eq!(
        timeline["key"],
        json!(["hold_id", "commit_position", "prepare_position"])
    );
    assert!(timeline["live_rows"].as_u64().unwrap() > 0, "{timeline}");
    let events = view["progress"]["events_rebuilt"].as_u64().unwrap();
    assert!(events > 10, "{view:#}");
    assert_eq!(
        view["progress"]["events_walked"],
        view["result"]["log"]["events"]
    );
}

#[tokio::test]
async fn a_row_changed_by_hand_is_named_by_read_model_table_and_key() {
    let server = TestServer::start().await;
    let api = &server.api;
    let scene = scene(api).await;
    wait_for_projections(&server.db).await;

    // Who did what keys an action by stream and `{actor}/{idempotency key}`: the show's
    // scheduling is the action at its first version.
    let db = server.db.client().await;
    let stream = format!("show-{}", scene.show);
    let scheduled: String = db
        .query_one(
            "SELECT action_key FROM audit_actions WHERE stream = $1 AND first_version = 0",
            &[&stream],
        )
        .await
        .unwrap()
        .get(0);

    // One row of each read model, changed with SQL: (read model, table, key, id, column, how
    // to read it, how to change it).
    let changes = [
        (
            "seat_map",
            "seat_map_shows",
            json!({ "show_id": scene.show }),
            &scene.show,
            "sold",
            "SELECT to_jsonb(sold) FROM seat_map_shows WHERE show_id = $1::text::uuid",
            "UPDATE seat_map_shows SET sold = sold + 1 WHERE show_id = $1::text::uuid",
        ),
        (
            "order_history",
            "order_history",
            json!({ "hold_id": scene.hold }),
            &scene.hold,
            "total_minor",
            "SELECT to_jsonb(total_minor) FROM order_history WHERE hold_id = $1::text::uuid",
            "UPDATE order_history SET total_minor = total_minor + 1 WHERE hold_id = $1::text::uuid",
        ),
        (
            "sales",
            "sales_by_show",
            json!({ "show_id": scene.show }),
            &scene.show,
            "gross_minor",
            "SELECT to_jsonb(gross_minor) FROM sales_by_show WHERE show_id = $1::text::uuid",
            "UPDATE sales_by_show SET gross_minor = gross_minor + 1 WHERE show_id = $1::text::uuid",
        ),
        (
            "waitlist",
            "waitlist_entries",
            json!({ "entry_id": scene.entry }),
            &scene.entry,
            "count",
            "SELECT to_jsonb(count) FROM waitlist_entries WHERE entry_id = $1::text::uuid",
            "UPDATE waitlist_entries SET count = count + 1 WHERE entry_id = $1::text::uuid",
        ),
        (
            "catalogue",
            "catalogue_movies",
            json!({ "movie_id": scene.movie }),
            &scene.movie,
            "title",
            "SELECT to_jsonb(title) FROM catalogue_movies WHERE movie_id = $1::text::uuid",
            "UPDATE catalogue_movies SET title = 'Changed by hand' WHERE movie_id = $1::text::uuid",
        ),
        (
            "actions",
            "audit_actions",
            json!({ "stream": stream, "action_key": scheduled }),
            &stream,
            "command",
            "SELECT to_jsonb(command) FROM audit_actions WHERE stream = $1 AND first_version = 0",
            "UPDATE audit_actions SET command = 'Changed by hand' WHERE stream = $1 AND first_version = 0",
        ),
    ];
    let mut before = Vec::new();
    for (_, _, _, id, _, read, change) in &changes {
        before.push(db.query_one(*read, &[id]).await.unwrap().get::<_, Value>(0));
        assert_eq!(db.execute(*change, &[id]).await.unwrap(), 1, "{change}");
    }
    let live_value = |n: usize| -> Value {
        match &before[n] {
            Value::Number(number) => json!(number.as_i64().unwrap() + 1),
            _ => json!("Changed by hand"),
        }
    };

    let verified = projections_verify(&server.db, &[]).await;
    assert_eq!(verified.status.code(), Some(1), "{verified:?}");
    let said = stdout_lines(&verified);
    assert_eq!(
        said.len(),
        changes.len(),
        "one line per changed row: {said:#?}"
    );
    for (n, (read_model, table, key, _, column, _, _)) in changes.iter().enumerate() {
        let expected = format!(
            "{read_model}: {table}: {key}: live {}, rebuilt {}",
            json!({ *column: live_value(n) }),
            json!({ *column: before[n] }),
        );
        assert!(said.contains(&expected), "{expected} is not in {said:#?}");
    }
    // One read model alone.
    let only = projections_verify(&server.db, &["--only", "waitlist"]).await;
    assert_eq!(only.status.code(), Some(1), "{only:?}");
    let only = stdout_lines(&only);
    assert_eq!(only.len(), 1, "{only:#?}");
    assert!(
        only[0].starts_with("waitlist: waitlist_entries: "),
        "{only:#?}"
    );
    let unknown = projections_verify(&server.db, &["--only", "seat_maps"]).await;
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");

    let view = verified_over_http(api).await;
    assert_eq!(view["status"], "failed", "{view:#}");
    assert_eq!(view["result"]["log"]["findings"], json!([]), "{view:#}");
    for (n, (read_model, table, key, _, column, _, _)) in changes.iter().enumerate() {
        let report = table_report(&view, read_model, table);
        assert_eq!(report["differences"], 1, "{report:#}");
        assert_eq!(
            report["shown"],
            json!([{
                "key": key,
                "live": { *column: live_value(n) },
                "rebuilt": { *column: before[n] },
            }]),
            "{read_model}.{table}"
        );
    }
}

#[tokio::test]
async fn the_http_verification_names_an_event_changed_by_hand() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(2, 5)).await;
    let customer = api.customer("alice");
    let hold = api
        .hold_seats(&customer, &show, &["B1"])
        .await
        .created("hold_id");
    api.release_hold(&customer, &show, &hold).await.expect_ok();
    wait_for_projections(&server.db).await;

    // As a database administrator would: past the log's immutability trigger. The log's walk
    // finds the broken chain; of the read models only who-did-what shows the actor, and its
    // rebuild from the changed log differs from what was projected when the hold was made.
    let db = server.db.client().await;
    db.batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    let stream = format!("show-{show}");
    let changed = db
        .execute(
            "UPDATE events SET metadata = jsonb_set(metadata, '{actor}', '\"someone-else\"')
             WHERE stream = $1 AND version = 1",
            &[&stream],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);

    let view = verified_over_http(api).await;
    assert_eq!(view["status"], "failed", "{view:#}");
    let findings = view["result"]["log"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{view:#}");
    assert_eq!(findings[0]["stream"], stream.as_str());
    assert_eq!(findings[0]["version"], 1);
    assert!(
        findings[0]["problem"]
            .as_str()
            .unwrap()
            .contains("does not match its contents"),
        "{view:#}"
    );
    let differing: Vec<(String, String, u64)> = view["result"]["read_models"]["read_models"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["tables"].as_array().unwrap().iter().map(|t| {
                (
                    m["read_model"].as_str().unwrap().to_owned(),
                    t["table"].as_str().unwrap().to_owned(),
                    t["differences"].as_u64().unwrap(),
                )
            })
        })
        .filter(|(_, _, differences)| *differences > 0)
        .collect();
    assert_eq!(
        differing,
        [("actions".to_owned(), "audit_actions".to_owned(), 2)],
        "{view:#}"
    );
    // The hold as projected (by alice) is not what the log now makes of it (by someone else).
    let shown = &view["result"]["read_models"]["read_models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["read_model"] == "actions")
        .unwrap()["tables"][0]["shown"];
    let actors: Vec<(&Value, &Value)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (&d["live"]["actor"], &d["rebuilt"]["actor"]))
        .collect();
    assert_eq!(
        actors,
        [
            (&json!("alice"), &Value::Null),
            (&Value::Null, &json!("someone-else"))
        ],
        "{shown:#}"
    );
}

#[tokio::test]
async fn one_verification_runs_at_a_time_and_one_whose_process_died_is_ended() {
    let server = TestServer::start().await;
    let api = &server.api;
    let auditor = api.auditor();
    api.start_verification(&api.customer("alice"))
        .await
        .expect_problem(403, "forbidden");
    api.verification(&auditor, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "not_found");

    // Another process's verification, running under a lease.
    let db = server.db.client().await;
    let other = uuid::Uuid::new_v4();
    db.execute(
        "INSERT INTO audit_verifications (verification_id, status, requested_by, lease_until)
         VALUES ($1, 'running', 'auditor-2', now() + interval '1 hour')",
        &[&other],
    )
    .await
    .unwrap();
    let refused = api.start_verification(&auditor).await;
    assert_eq!(
        refused.expect_problem(409, "verification_running")["verification_id"],
        other.to_string()
    );
    assert_eq!(
        api.verification(&auditor, &other.to_string())
            .await
            .expect_ok()["status"],
        "running"
    );

    // Its process dies: the lease runs out (here, by moving it into the past).
    db.execute(
        "UPDATE audit_verifications SET lease_until = now() - interval '1 second'
         WHERE verification_id = $1",
        &[&other],
    )
    .await
    .unwrap();
    let dead = api.verification(&auditor, &other.to_string()).await;
    assert_eq!(dead.expect_ok()["status"], "error", "{dead}");
    assert!(dead.text("error").contains("lease"), "{dead}");
    let view = verified_over_http(api).await;
    assert_eq!(view["status"], "passed", "{view:#}");
    let ended = api.verification(&auditor, &other.to_string()).await;
    assert_eq!(ended.expect_ok()["status"], "error", "{ended}");
    assert!(ended.body["finished_at"].is_string(), "{ended}");
}

/// Command-line verifications that must overlap with customers' commands.
const OVERLAPPING: usize = 3;
const ROWS: usize = 20;
const PER_ROW: u32 = 30;

/// Customers buying while a test verifies: each holds a few seats, then buys them at the
/// counter, lets them go, or pays through the provider (which fails now and then), and has
/// every order refunded, round after round, so seats keep coming back and the log keeps
/// growing. Counts what succeeded, for a test to wait on.
struct Buying {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Buying {
    fn start(api: &Api, show: &str, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let clients = (0..clients)
            .map(|n| {
                let (api, show) = (api.clone(), show.to_owned());
                let (stop, done) = (stop.clone(), done.clone());
                tokio::spawn(async move { buy(api, show, n, stop, done).await })
            })
            .collect();
        Self {
            stop,
            done,
            clients,
        }
    }

    /// Waits until `more` commands have succeeded beyond those so far.
    async fn until_more_done(&self, more: usize) {
        let target = self.done.load(Ordering::Relaxed) + more;
        eventually("the customers keep buying", async || {
            let now = self.done.load(Ordering::Relaxed);
            if now >= target {
                Ok(())
            } else {
                Err(format!("{now} of {target} commands done"))
            }
        })
        .await;
    }

    fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.await.expect("a buying customer");
        }
    }
}

async fn buy(api: Api, show: String, n: usize, stop: Arc<AtomicBool>, done: Arc<AtomicUsize>) {
    let customer = api.customer(&format!("buyer-{n}"));
    let staff = api.staff();
    let succeeded = |status: StatusCode| {
        if status.is_success() {
            done.fetch_add(1, Ordering::Relaxed);
        }
        status.is_success()
    };
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64 ^ (n as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let row = char::from(b'A' + (next() % ROWS as u64) as u8);
        let first = 1 + next() % u64::from(PER_ROW - 2);
        let seats: Vec<String> = (0..1 + next() % 3)
            .map(|i| format!("{row}{}", first + i))
            .collect();
        let held = api.hold_seats(&customer, &show, &seats).await;
        if !succeeded(held.status) {
            continue;
        }
        let hold = held.text("hold_id").to_owned();
        let order = match round % 4 {
            0 => {
                let sold = api
                    .confirm_hold(
                        &staff,
                        &show,
                        &hold,
                        &format!("till-{n}-{round}"),
                        &held.body["total"],
                    )
                    .await;
                succeeded(sold.status).then(|| sold.text("order_id").to_owned())
            }
            1 => None,
            round => {
                let outcome = if round == 2 { "succeed" } else { "fail" };
                let payment = api.start_payment(&customer, &show, &hold, "alipay").await;
                let paid = succeeded(payment.status)
                    && succeeded(
                        api.press_in_sandbox(payment.text("pay_url"), outcome)
                            .await
                            .status,
                    )
                    && outcome == "succeed";
                match paid {
                    true => Some(paid_order(&api, &customer, &hold).await),
                    false => None,
                }
            }
        };
        // Every round gives its seats back, so the show never sells out.
        match order {
            Some(order) => succeeded(api.refund_order(&staff, &show, &order).await.status),
            None => succeeded(api.release_hold(&customer, &show, &hold).await.status),
        };
    }
}

/// With the projectors' shared reader keeping a single batch, every projector falls behind
/// it again and again and reads the gap from the log itself while customers keep buying:
/// afterwards every read model equals what a rebuild makes of the log.
#[tokio::test]
async fn projectors_that_fall_behind_the_shared_reader_read_the_gap_from_the_log() {
    let db = TestDatabase::create().await;
    let env = [("BOXOFFICE_PROJECTION_FEED_BATCHES", "1")];
    let server = BinaryServer::start_with_env(&db, free_port(), &env).await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(ROWS, PER_ROW)).await;
    let buying = Buying::start(api, &show, 8);
    let gaps = eventually("projectors fell behind the reader", async || {
        let text = api
            .http()
            .get(format!("{}/metrics", api.base))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        let gaps: f64 = text
            .lines()
            .filter(|line| line.starts_with("boxoffice_projection_feed_gaps_total{"))
            .filter_map(|line| line.split_whitespace().last()?.parse::<f64>().ok())
            .sum();
        match gaps >= 5.0 {
            true => Ok(gaps),
            false => Err(format!("{gaps} gaps so far")),
        }
    })
    .await;
    buying.until_more_done(100).await;
    buying.stop().await;
    wait_for_projections(&db).await;
    let verified = projections_verify(&db, &[]).await;
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    println!("{gaps} gaps read from the log; the read models equal a rebuild");
}

/// The order a hold paid through the provider became, once the order history has it.
/// (Polled here rather than with `wait::eventually`, with the same deadline: a spawned
/// customer's future must be `Send`, which an async closure's cannot promise.)
async fn paid_order(api: &Api, customer: &str, hold: &str) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let orders = api.my_orders(customer).await;
        let order = orders.body["orders"].as_array().and_then(|orders| {
            orders
                .iter()
                .find(|o| o["hold_id"] == hold && o["status"] == "paid")
                .and_then(|o| o["order_id"].as_str())
        });
        if let Some(order) = order {
            return order.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the paid hold {hold} is not in the order history within {PATIENCE:?}: {orders}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verification_while_customers_buy_finds_no_difference_that_is_not_there() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(ROWS, PER_ROW)).await;
    let buying = Buying::start(api, &show, 4);
    buying.until_more_done(200).await;

    // Verified again and again while they buy, until three verifications overlapped with
    // customers' commands (on a slow machine one could fall between two of them); every one
    // must find the read models equal.
    let (mut verifications, mut overlapped) = (0, 0);
    while overlapped < OVERLAPPING {
        buying.until_more_done(50).await;
        let before = buying.done();
        let verified = projections_verify(&db, &[]).await;
        verifications += 1;
        assert_eq!(verified.status.code(), Some(0), "{verified:?}");
        if buying.done() > before {
            overlapped += 1;
        }
        assert!(
            verifications < 10 * OVERLAPPING,
            "commands were answered during only {overlapped} of {verifications} verifications"
        );
    }
    // Over HTTP too, in the server that serves the customers, until one verification
    // overlapped their commands (a quick one may fall between two, as above).
    let mut attempts = 0;
    let view = loop {
        let before = buying.done();
        let view = verified_over_http(api).await;
        assert_eq!(view["status"], "passed", "{view:#}");
        attempts += 1;
        if buying.done() > before {
            break view;
        }
        assert!(
            attempts < 10,
            "the customers bought nothing during {attempts} verifications over HTTP"
        );
    };
    buying.until_more_done(20).await;
    buying.stop().await;
    println!(
        "{verifications} command-line verifications and one over HTTP while customers bought; \
         {} events rebuilt",
        view["progress"]["events_rebuilt"]
    );
}
