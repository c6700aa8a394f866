//! The real binary, killed and restarted: a retried command gets its original answer and
//! writes nothing twice; SIGTERM drains and exits cleanly.

use boxoffice_tests::server::{free_port, BinaryServer};
use boxoffice_tests::{fixtures, TestDatabase};

#[tokio::test]
async fn an_idempotent_retry_after_a_crash_returns_the_original_outcome() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = server.api.clone();
    let staff = api.staff();
    let alice = api.customer("alice");
    let show_body = fixtures::show(2, 10);
    let scheduled = api
        .schedule_show(&staff, &show_body)
        .idempotency_key("schedule-1")
        .await;
    let show = scheduled.created("show_id");
    let first = api
        .hold_seats(&alice, &show, &["B4", "B5"])
        .idempotency_key("alice-hold-7")
        .await;
    first.expect_created();

    server.kill();
    let server = BinaryServer::start(&db, free_port()).await;
    let api = server.api.clone();

    let retry = api
        .hold_seats(&alice, &show, &["B4", "B5"])
        .idempotency_key("alice-hold-7")
        .await;
    retry.expect_created();
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.body, first.body,
        "the retry answers exactly like the first try"
    );
    let rescheduled = api
        .schedule_show(&staff, &show_body)
        .idempotency_key("schedule-1")
        .await;
    rescheduled.expect_created();
    assert_eq!(rescheduled.body, scheduled.body);

    // A different customer's key of the same text is a different command.
    api.hold_seats(&api.customer("bob"), &show, &["B4", "B5"])
        .idempotency_key("alice-hold-7")
        .await
        .expect_problem(409, "seats_unavailable");

    let stream = api.show_stream(&api.auditor(), &show).await;
    let types: Vec<&str> = stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ShowScheduled", "SeatsHeld"],
        "nothing was appended twice"
    );
    let seats = api.seat_map(&show).min_position(first.position()).await;
    assert_eq!(seats.body["counts"]["held"], 2);
}

#[tokio::test]
async fn sigterm_finishes_and_exits_zero() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    server.api.scheduled_show(&fixtures::show(1, 5)).await;
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}
