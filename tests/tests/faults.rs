//! Fault tests: the real binary killed with SIGKILL under load, a rebuild of the read models
//! killed midway, and the database cutting the server off under load. Afterwards every 2xx
//! is in the log exactly once, retries with the same idempotency keys add nothing, and every
//! read model equals a fresh rebuild.

use boxoffice_tests::load::{check_log, retry_unsettled, Kind, Load};
use boxoffice_tests::read_models::{
    assert_read_models_equal_a_rebuild, keeping_in_use, projections, wait_for_projections,
    RunningRebuild,
};
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::eventually;
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::{Method, StatusCode};

const ROWS: u8 = 12;
const PER_ROW: u32 = 20;
const CLIENTS: usize = 12;

/// Commands answered between two steps of a test: the load ran against the server as the
/// previous step left it.
const A_WHILE: usize = 20;

async fn schedule(api: &Api) -> String {
    api.scheduled_show(&fixtures::show(ROWS.into(), PER_ROW))
        .await
}

/// The load on `show`: `CLIENTS` customers holding and letting go, and the box office
/// selling their holds at the counter.
fn load_on(api: &Api, show: &str) -> Load {
    Load::customers_of(api, CLIENTS, show, ROWS, PER_ROW)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_under_load_loses_and_doubles_nothing() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let mut server = BinaryServer::start(&db, port).await;
    let base = server.api.base.clone();
    let show = schedule(&server.api).await;
    let load = load_on(&server.api, &show);

    for _ in 0..3 {
        load.until_more_settled(A_WHILE).await;
        server.kill();
        load.until_more_unsettled(1).await;
        server = BinaryServer::start(&db, port).await;
    }
    load.until_more_settled(A_WHILE).await;
    let mut attempts = load.stop().await;
    let unanswered = attempts.iter().filter(|a| !a.settled()).count();
    let retried = retry_unsettled(&base, &mut attempts).await;
    let (successes, refusals) = check_log(&db, &attempts).await;
    wait_for_projections(&db).await;
    server.terminate();
    assert_read_models_equal_a_rebuild(&db).await;
    println!(
        "3 kills: {} commands, {successes} succeeded, {refusals} refused, {unanswered} unanswered and retried ({retried})",
        attempts.len()
    );
    assert!(
        successes > 0 && unanswered > 0,
        "the load did not meet a crash"
    );
    let sold = attempts
        .iter()
        .filter(|a| a.kind == Kind::Confirm)
        .filter(|a| a.answer.as_ref().is_some_and(|(s, _)| s.is_success()))
        .count();
    assert!(sold > 0, "the box office sold nothing through the crashes");
}

/// The identities of the live read-model tables: a rebuild swapped in replaces them.
async fn live_tables(db: &TestDatabase) -> Vec<(String, u32)> {
    let mut tables = Vec::new();
    for projector in boxoffice_projections::all() {
        for &table in projector.tables() {
            let row = db
                .client()
                .await
                .query_one("SELECT to_regclass($1)::oid", &[&table])
                .await
                .expect("look the table up");
            tables.push((table.to_owned(), row.get(0)));
        }
    }
    tables
}

/// How many tables a rebuild left in its schema.
async fn shadow_tables(db: &TestDatabase) -> i64 {
    db.client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'boxoffice_rebuild'",
            &[],
        )
        .await
        .expect("count the shadow tables")
        .get(0)
}

/// A rebuild killed with SIGKILL once it has loaded every shadow table and waits to swap the
/// seat map in (a reader keeps the live seat-map table in use), and the server killed and
/// restarted: the old read models serve as they were, and a new rebuild completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_rebuild_midway_leaves_the_old_read_models_serving() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let server = BinaryServer::start(&db, port).await;
    let base = server.api.base.clone();
    let show = schedule(&server.api).await;
    let load = load_on(&server.api, &show);
    load.until_more_settled(A_WHILE).await;
    let live = live_tables(&db).await;

    let mut reader = db.client().await;
    let reading = keeping_in_use(&mut reader, "seat_map_shows").await;
    let mut rebuild = RunningRebuild::start(&db);
    rebuild.gave_up_swapping("seat_map").await;
    assert!(shadow_tables(&db).await > 0, "no shadow table was loaded");
    rebuild.child.start_kill().unwrap();
    let killed = rebuild.child.wait().await.unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&killed),
        Some(9)
    );
    reading.rollback().await.unwrap();
    server.kill();

    let server = BinaryServer::start(&db, port).await;
    load.until_more_settled(A_WHILE).await;
    assert_eq!(live_tables(&db).await, live, "a live table was replaced");
    let seats = server.api.seat_map(&show).await;
    let counts = &seats.expect_ok()["counts"];
    let seats_counted: u64 = ["available", "held", "sold"]
        .iter()
        .map(|c| counts[c].as_u64().unwrap())
        .sum();
    assert_eq!(
        seats_counted,
        u64::from(ROWS) * u64::from(PER_ROW),
        "{counts}"
    );

    // A new rebuild, while the load goes on, clears what the killed one left and swaps in.
    let rebuilt = projections(&db, "rebuild").output().await.unwrap();
    assert_eq!(rebuilt.status.code(), Some(0), "{rebuilt:?}");
    assert_eq!(shadow_tables(&db).await, 0, "shadow tables left behind");
    let now = live_tables(&db).await;
    assert!(
        now.iter().zip(&live).all(|(now, before)| now.1 != before.1),
        "not every table was swapped: {live:?} -> {now:?}"
    );
    load.until_more_settled(A_WHILE).await;
    let mut attempts = load.stop().await;
    retry_unsettled(&base, &mut attempts).await;
    let (successes, _) = check_log(&db, &attempts).await;
    wait_for_projections(&db).await;
    server.terminate();
    assert_read_models_equal_a_rebuild(&db).await;
    println!("a rebuild killed midway; {successes} commands succeeded around it and the next");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_what_is_in_flight_and_exits_zero() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let server = BinaryServer::start(&db, port).await;
    let base = server.api.base.clone();
    let show = schedule(&server.api).await;
    let load = load_on(&server.api, &show);
    load.until_more_settled(A_WHILE).await;
    let started = std::time::Instant::now();
    // Exits by itself: terminate() fails the test if it has not within a minute.
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "exit status {status:?}");
    let mut attempts = load.stop().await;
    let unanswered = attempts.iter().filter(|a| !a.settled()).count();
    let server = BinaryServer::start(&db, port).await;
    retry_unsettled(&base, &mut attempts).await;
    let (successes, _) = check_log(&db, &attempts).await;
    wait_for_projections(&db).await;
    server.terminate();
    assert_read_models_equal_a_rebuild(&db).await;
    println!(
        "SIGTERM under load: exit 0 after {took:?}; {} commands, {successes} succeeded, {unanswered} unanswered and retried",
        attempts.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn losing_the_database_under_load_loses_and_doubles_nothing() {
    let mut server = TestServer::start().await;
    let base = server.api.base.clone();
    let api = Api::new(base.clone());
    let db_name = server.db.name.clone();
    let admin = server.db.admin().await;
    let show = schedule(&api).await;
    let quiet_show = schedule(&api).await;
    let load = load_on(&api, &show);

    let cut = || async {
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&db_name],
            )
            .await
            .expect("terminate the server's connections")
    };
    // Connections cut twice under load...
    for _ in 0..2 {
        load.until_more_settled(A_WHILE).await;
        cut().await;
    }
    // ...then, once the load runs again, the database refuses connections for a while.
    load.until_more_settled(A_WHILE).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db_name} WITH ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    cut().await;
    let during = api
        .hold_seats(&api.customer("alice"), &quiet_show, &["A1"])
        .await;
    during.expect_problem(503, "service_unavailable");
    assert!(during.header("retry-after").is_some(), "{during}");
    api.request(Method::GET, "/readyz").await.expect_status(503);
    load.until_more_unsettled(1).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db_name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();

    // Recovers without a restart.
    eventually("/readyz recovers", async || {
        let ready = api.request(Method::GET, "/readyz").await;
        match ready.status {
            StatusCode::OK => Ok(()),
            _ => Err(ready),
        }
    })
    .await;
    load.until_more_settled(A_WHILE).await;
    let mut attempts = load.stop().await;
    let unsettled = attempts.iter().filter(|a| !a.settled()).count();
    retry_unsettled(&base, &mut attempts).await;
    let (successes, refusals) = check_log(&server.db, &attempts).await;

    // The projectors resumed from their checkpoints: a read at the newest position answers.
    let last = attempts
        .iter()
        .filter_map(|a| a.answer.as_ref())
        .filter_map(|(_, body)| body["position"].as_str())
        .filter_map(|p| p.parse::<boxoffice_eventstore::Position>().ok())
        .max()
        .expect("some command succeeded");
    // A client told 503 with Retry-After tries again.
    eventually("a read at the newest position answers", async || {
        let seats = api.seat_map(&show).min_position(&last.to_string()).await;
        match seats.status {
            StatusCode::OK => Ok(()),
            StatusCode::SERVICE_UNAVAILABLE => Err(seats),
            _ => panic!("not a 200 or a 503: {seats}"),
        }
    })
    .await;

    wait_for_projections(&server.db).await;
    server.stop().await;
    assert_read_models_equal_a_rebuild(&server.db).await;
    println!(
        "2 cuts and an outage: {} commands, {successes} succeeded, {refusals} refused, {unsettled} unanswered or 503 and retried",
        attempts.len()
    );
    assert!(unsettled > 0, "the load did not meet the outage");
}
