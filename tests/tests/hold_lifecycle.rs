//! Holds that end on time: the expiry scheduler with a controlled clock and across a crash,
//! best-available seats, and one active hold per customer.

use boxoffice_api::auth::Role;
use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::server::{free_port, Api, BinaryServer, Reply, TestServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

async fn schedule(api: &Api, body: &Value) -> (String, String) {
    let staff = api.token("box-office-1", &[Role::Staff]);
    let reply = api.post("/v1/shows", &staff, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    (
        reply.body["show_id"].as_str().unwrap().to_owned(),
        reply.body["position"].as_str().unwrap().to_owned(),
    )
}

async fn hold(api: &Api, token: &str, show: &str, body: Value) -> Reply {
    api.post(&format!("/v1/shows/{show}/holds"), token, &body)
        .await
}

/// The seat's status in the seat map, read at least as far as `at`.
async fn seat_status(api: &Api, show: &str, at: &str, seat: &str) -> String {
    let map = api
        .get(&format!("/v1/shows/{show}/seats?min_position={at}"), None)
        .await;
    map.body["seats"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .find(|s| s["seat_id"] == seat)
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Polls the seat map (real time) until `seat` has `status`, for at most `within`.
async fn wait_for_status(
    api: &Api,
    show: &str,
    at: &str,
    seat: &str,
    status: &str,
    within: Duration,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if seat_status(api, show, at, seat).await == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn expiries(api: &Api, show: &str) -> Vec<Value> {
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let stream = api
        .get(&format!("/v1/audit/streams/show-{show}"), Some(&auditor))
        .await;
    stream.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "HoldExpired")
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_scheduler_expires_a_hold_at_its_expiry_plus_grace_and_not_before() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let alice = api.token("alice", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);
    let staff = api.token("box-office-1", &[Role::Staff]);
    let (show, _) = schedule(api, &fixtures::show(2, 10)).await;
    let held = hold(api, &alice, &show, json!({ "seats": ["B1", "B2"] })).await;
    assert_eq!(held.status, StatusCode::CREATED);
    let paid_hold = hold(api, &bob, &show, json!({ "seats": ["B5"] })).await;
    let paid_hold_id = paid_hold.body["hold_id"].as_str().unwrap();
    let paid = api
        .post(
            &format!("/v1/shows/{show}/holds/{paid_hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "p", "amount": paid_hold.body["total"] }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let at = paid.body["position"].as_str().unwrap().to_owned();
    assert_eq!(seat_status(api, &show, &at, "B1").await, "held");

    // Past the expiry the client was told, but inside the grace: still held.
    clock.advance(chrono::Duration::seconds(300 + 4));
    assert!(
        !wait_for_status(
            api,
            &show,
            &at,
            "B1",
            "available",
            Duration::from_millis(1500)
        )
        .await,
        "expired inside the grace"
    );
    assert!(expiries(api, &show).await.is_empty());

    // Past expiry plus grace: expired within about a second, by the system, once.
    clock.advance(chrono::Duration::seconds(1));
    assert!(
        wait_for_status(api, &show, &at, "B1", "available", Duration::from_secs(3)).await,
        "not expired after expiry plus grace"
    );
    assert_eq!(seat_status(api, &show, &at, "B2").await, "available");
    assert_eq!(
        seat_status(api, &show, &at, "B5").await,
        "sold",
        "a paid hold is not expired"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let expired = expiries(api, &show).await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["data"]["hold_id"], held.body["hold_id"]);
    assert_eq!(expired[0]["metadata"]["actor"], "system:expiry");

    // Paying now is too late.
    let hold_id = held.body["hold_id"].as_str().unwrap();
    let late = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "p", "amount": held.body["total"] }),
        )
        .await;
    assert_eq!(late.code(), "hold_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_that_ran_out_while_the_server_was_down_expire_after_a_restart() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let env = [
        ("BOXOFFICE_HOLD_TTL_SECONDS", "1"),
        ("BOXOFFICE_EXPIRY_GRACE_SECONDS", "1"),
    ];
    let server = BinaryServer::start_with_env(&db, port, &env).await;
    let api = server.api.clone();
    let alice = api.token("alice", &[Role::Customer]);
    let (show, _) = schedule(&api, &fixtures::show(1, 6)).await;
    let held = hold(&api, &alice, &show, json!({ "seats": ["A3"] })).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let at = held.body["position"].as_str().unwrap().to_owned();
    server.kill();

    // Down for longer than the hold's one second plus one second of grace.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let server = BinaryServer::start_with_env(&db, port, &env).await;
    assert!(
        wait_for_status(&api, &show, &at, "A3", "available", Duration::from_secs(3)).await,
        "the lapsed hold was not expired after the restart"
    );
    let expired = expiries(&api, &show).await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    server.terminate();
}

#[tokio::test]
async fn best_available_and_one_active_hold_per_customer_over_http() {
    let server = TestServer::start().await;
    let api = &server.api;
    let alice = api.token("alice", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);
    let (show, _) = schedule(api, &fixtures::show(3, 10)).await;

    // Rows A (premium), B, C: the best row is C (3 * 2 / 3), its centre first.
    let best = hold(api, &alice, &show, json!({ "count": 2 })).await;
    assert_eq!(best.status, StatusCode::CREATED, "{best:?}");
    assert_eq!(best.body["seats"], json!(["C5", "C6"]));
    let premium = hold(
        api,
        &bob,
        &show,
        json!({ "count": 3, "category": "premium" }),
    )
    .await;
    assert_eq!(
        premium.body["seats"],
        json!(["A4", "A5", "A6"]),
        "{premium:?}"
    );

    // A second hold while the first is active names the first.
    let again = hold(api, &alice, &show, json!({ "seats": ["B1"] })).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "hold_exists");
    assert_eq!(again.body["hold_id"], best.body["hold_id"]);

    let carol = api.token("carol", &[Role::Customer]);
    for (body, code) in [
        (json!({ "count": 11 }), "validation_failed"),
        (
            json!({ "count": 2, "category": "balcony" }),
            "validation_failed",
        ),
        (json!({ "seats": ["B1"], "count": 1 }), "validation_failed"),
        (json!({}), "validation_failed"),
        (json!({ "count": 11, "seats": null }), "validation_failed"),
    ] {
        let reply = hold(api, &carol, &show, body.clone()).await;
        assert_eq!(reply.code(), code, "{body}: {reply:?}");
    }
    let too_many = hold(
        api,
        &carol,
        &show,
        json!({ "count": 10, "category": "premium" }),
    )
    .await;
    assert_eq!(too_many.code(), "seats_unavailable", "{too_many:?}");
}

#[tokio::test]
async fn one_idempotency_key_on_two_shows_makes_two_holds() {
    let server = TestServer::start().await;
    let api = &server.api;
    let alice = api.token("alice", &[Role::Customer]);
    let (first, _) = schedule(api, &fixtures::show(1, 4)).await;
    let (second, _) = schedule(api, &fixtures::show(1, 4)).await;
    let key = [("idempotency-key", "alice-key-1")];
    let mut held = Vec::new();
    for show in [&first, &second] {
        let reply = api
            .send(
                reqwest::Method::POST,
                &format!("/v1/shows/{show}/holds"),
                Some(&alice),
                Some(&json!({ "seats": ["A1"] })),
                &key,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        held.push(reply);
    }
    assert_ne!(held[0].body["hold_id"], held[1].body["hold_id"]);
    // Both read models took both holds (a clash would stop the seat-map projector).
    for (show, reply) in [(&first, &held[0]), (&second, &held[1])] {
        let at = reply.body["position"].as_str().unwrap();
        assert_eq!(seat_status(api, show, at, "A1").await, "held");
    }
}
