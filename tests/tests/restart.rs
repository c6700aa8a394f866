//! The real binary, killed and restarted: a retried command gets its original answer and
//! writes nothing twice; SIGTERM drains and exits cleanly.

use boxoffice_api::auth::Role;
use boxoffice_tests::server::{free_port, BinaryServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_idempotent_retry_after_a_crash_returns_the_original_outcome() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = server.api.clone();
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let show_body = fixtures::show(2, 10);
    let schedule_key = [("idempotency-key", "schedule-1")];
    let scheduled = api
        .send(
            Method::POST,
            "/v1/shows",
            Some(&staff),
            Some(&show_body),
            &schedule_key,
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{scheduled:?}");
    let show = scheduled.body["show_id"].as_str().unwrap().to_owned();
    let holds = format!("/v1/shows/{show}/holds");
    let hold_key = [("idempotency-key", "alice-hold-7")];
    let body = json!({ "seats": ["B4", "B5"] });
    let first = api
        .send(Method::POST, &holds, Some(&alice), Some(&body), &hold_key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");

    server.kill();
    let server = BinaryServer::start(&db, free_port()).await;
    let api = server.api.clone();

    let retry = api
        .send(Method::POST, &holds, Some(&alice), Some(&body), &hold_key)
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{retry:?}");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.body, first.body,
        "the retry answers exactly like the first try"
    );
    let rescheduled = api
        .send(
            Method::POST,
            "/v1/shows",
            Some(&staff),
            Some(&show_body),
            &schedule_key,
        )
        .await;
    assert_eq!(rescheduled.status, StatusCode::CREATED);
    assert_eq!(rescheduled.body, scheduled.body);

    // A different customer's key of the same text is a different command.
    let bob = api.token("bob", &[Role::Customer]);
    let bobs = api
        .send(Method::POST, &holds, Some(&bob), Some(&body), &hold_key)
        .await;
    assert_eq!(
        (bobs.status, bobs.code()),
        (StatusCode::CONFLICT, "seats_unavailable")
    );

    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let stream = api
        .get(&format!("/v1/audit/streams/show-{show}"), Some(&auditor))
        .await;
    let types: Vec<&str> = stream.body["events"]
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
    let seats = api
        .get(
            &format!(
                "/v1/shows/{show}/seats?min_position={}",
                first.body["position"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(seats.body["counts"]["held"], 2);
}

#[tokio::test]
async fn sigterm_finishes_and_exits_zero() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = server.api.clone();
    let staff = api.token("box-office-1", &[Role::Staff]);
    let scheduled = api.post("/v1/shows", &staff, &fixtures::show(1, 5)).await;
    assert_eq!(scheduled.status, StatusCode::CREATED);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}
