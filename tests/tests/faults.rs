//! Fault tests: the real binary killed with SIGKILL under load, and the database cutting the
//! server off under load. Afterwards every 2xx is in the log exactly once, retries with the
//! same idempotency keys add nothing, and every read model equals a fresh rebuild.

use boxoffice_api::auth::Role;
use boxoffice_tests::load::{check_log, retry_unsettled, Load};
use boxoffice_tests::read_models::{assert_read_models_equal_a_rebuild, wait_for_projections};
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use std::time::Duration;

const ROWS: u8 = 12;
const PER_ROW: u32 = 20;
const CLIENTS: usize = 12;

async fn schedule(api: &Api) -> String {
    let staff = api.token("box-office-1", &[Role::Staff]);
    let reply = api
        .post("/v1/shows", &staff, &fixtures::show(ROWS.into(), PER_ROW))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["show_id"].as_str().unwrap().to_owned()
}

fn customers(api: &Api) -> Vec<(String, String)> {
    (0..CLIENTS)
        .map(|n| {
            let name = format!("customer-{n}");
            let token = api.token(&name, &[Role::Customer]);
            (name, token)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_under_load_loses_and_doubles_nothing() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let mut server = BinaryServer::start(&db, port).await;
    let base = server.api.base.clone();
    let show = schedule(&server.api).await;
    let load = Load::start(&base, customers(&server.api), &show, ROWS, PER_ROW);

    for round in 0..3u64 {
        tokio::time::sleep(Duration::from_millis(700 + 150 * round)).await;
        server.kill();
        server = BinaryServer::start(&db, port).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_what_is_in_flight_and_exits_zero() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let server = BinaryServer::start(&db, port).await;
    let base = server.api.base.clone();
    let show = schedule(&server.api).await;
    let load = Load::start(&base, customers(&server.api), &show, ROWS, PER_ROW);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
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
    let load = Load::start(&base, customers(&api), &show, ROWS, PER_ROW);

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
        tokio::time::sleep(Duration::from_millis(400)).await;
        cut().await;
    }
    // ...then the database refuses connections for a while.
    tokio::time::sleep(Duration::from_millis(300)).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db_name} WITH ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    cut().await;
    let alice = api.token("alice", &[Role::Customer]);
    let during = api
        .post(
            &format!("/v1/shows/{quiet_show}/holds"),
            &alice,
            &serde_json::json!({ "seats": ["A1"] }),
        )
        .await;
    assert_eq!(during.status, StatusCode::SERVICE_UNAVAILABLE, "{during:?}");
    assert_eq!(during.code(), "service_unavailable");
    assert!(during.header("retry-after").is_some(), "{during:?}");
    let ready = api.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db_name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();

    // Recovers without a restart.
    let mut recovered = false;
    for _ in 0..150 {
        if api.get("/readyz", None).await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "/readyz did not recover within 15 s");
    tokio::time::sleep(Duration::from_millis(500)).await;
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
    let mut seats = api
        .get(&format!("/v1/shows/{show}/seats?min_position={last}"), None)
        .await;
    for _ in 0..3 {
        if seats.status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        seats = api
            .get(&format!("/v1/shows/{show}/seats?min_position={last}"), None)
            .await;
    }
    assert_eq!(seats.status, StatusCode::OK, "{seats:?}");

    wait_for_projections(&server.db).await;
    server.stop().await;
    assert_read_models_equal_a_rebuild(&server.db).await;
    println!(
        "2 cuts and an outage: {} commands, {successes} succeeded, {refusals} refused, {unsettled} unanswered or 503 and retried",
        attempts.len()
    );
    assert!(unsettled > 0, "the load did not meet the outage");
}
