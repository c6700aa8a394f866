//! Holds that end on time: the expiry scheduler with a controlled clock and across a crash,
//! best-available seats, and one active hold per customer.

use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::reply::Reply;
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::{eventually, until_lapsed};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

/// The seat map read at least as far as `at`, once `seat` has `status` in it.
async fn until_status(api: &Api, show: &str, at: &str, seat: &str, status: &str) -> Reply {
    let what = format!("seat {seat} of show {show} is {status}");
    eventually(&what, async || {
        let map = api.seat_map(show).min_position(at).await;
        if map.status == StatusCode::OK && map.seat(seat)["status"] == status {
            Ok(map)
        } else {
            Err(map)
        }
    })
    .await
}

/// The show's `HoldExpired` events, oldest first.
async fn expiries(api: &Api, show: &str) -> Vec<Value> {
    let stream = api.show_stream(&api.auditor(), show).await;
    stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "HoldExpired")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_hold_expires_once_at_its_expiry_plus_grace_and_not_before() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let (alice, bob, carol, dan) = (
        api.customer("alice"),
        api.customer("bob"),
        api.customer("carol"),
        api.customer("dan"),
    );
    let staff = api.staff();
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    // Carol's hold is ten seconds older than Alice's, and Dan's one second younger: the
    // scheduler's passes that expire theirs show what it did with Alice's at the same time.
    let carols = api
        .hold_seats(&carol, &show, &["A1"])
        .await
        .created("hold_id");
    clock.advance(chrono::Duration::seconds(10));
    let held = api.hold_seats(&alice, &show, &["B1", "B2"]).await;
    let hold_id = held.created("hold_id");
    clock.advance(chrono::Duration::seconds(1));
    let dans = api
        .hold_seats(&dan, &show, &["A2"])
        .await
        .created("hold_id");
    let paid_hold = api.hold_seats(&bob, &show, &["B5"]).await;
    let paid = api
        .confirm_hold(
            &staff,
            &show,
            paid_hold.text("hold_id"),
            "p",
            &paid_hold.body["total"],
        )
        .await;
    paid.expect_created();
    let at = paid.position();
    let map = api.seat_map(&show).min_position(at).await;
    assert_eq!(map.seat("B1")["status"], "held");

    // Past the expiry Alice was told, but inside the grace: the pass that expires Carol's
    // hold (past its grace) leaves Alice's held.
    clock.advance(chrono::Duration::seconds(300 + 4 - 1));
    let map = until_status(api, &show, at, "A1", "available").await;
    assert_eq!(map.seat("B1")["status"], "held", "expired inside the grace");
    let expired = expiries(api, &show).await;
    let ids: Vec<&Value> = expired.iter().map(|e| &e["data"]["hold_id"]).collect();
    assert_eq!(ids, [&json!(carols)], "only Carol's hold is expired");

    // Past expiry plus grace: expired by the system, and the seats are free again.
    clock.advance(chrono::Duration::seconds(1));
    let map = until_status(api, &show, at, "B1", "available").await;
    assert_eq!(map.seat("B2")["status"], "available");
    assert_eq!(
        map.seat("B5")["status"],
        "sold",
        "a paid hold is not expired"
    );

    // Once: a later pass (the one that expires Dan's hold) does not expire Alice's again.
    clock.advance(chrono::Duration::seconds(1));
    until_status(api, &show, at, "A2", "available").await;
    let expired = expiries(api, &show).await;
    let ids: Vec<&Value> = expired.iter().map(|e| &e["data"]["hold_id"]).collect();
    assert_eq!(ids, [&json!(carols), &json!(hold_id), &json!(dans)]);
    assert!(
        expired
            .iter()
            .all(|e| e["metadata"]["actor"] == "system:expiry"),
        "{expired:?}"
    );

    // Paying now is too late.
    api.confirm_hold(&staff, &show, &hold_id, "p", &held.body["total"])
        .await
        .expect_problem(410, "hold_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_that_ran_out_while_the_server_was_down_expire_after_a_restart() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let server = BinaryServer::start_with_short_holds(&db, port).await;
    let api = server.api.clone();
    let alice = api.customer("alice");
    let show = api.scheduled_show(&fixtures::show(1, 6)).await;
    let held = api.hold_seats(&alice, &show, &["A3"]).await;
    held.expect_created();
    let at = held.position();
    server.kill();

    // Down until the hold's second and its second of grace are over.
    until_lapsed(&held, 1).await;
    let server = BinaryServer::start_with_short_holds(&db, port).await;
    until_status(&api, &show, at, "A3", "available").await;
    let expired = expiries(&api, &show).await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    server.terminate();
}

#[tokio::test]
async fn best_available_is_the_centre_of_the_row_two_thirds_back_and_a_customer_holds_once() {
    let server = TestServer::start().await;
    let api = &server.api;
    let alice = api.customer("alice");
    let bob = api.customer("bob");
    let show = api.scheduled_show(&fixtures::show(3, 10)).await;

    // Rows A (premium), B, C: the best row is C (3 * 2 / 3), its centre first.
    let best = api.hold_best_available(&alice, &show, 2, None).await;
    assert_eq!(best.expect_created()["seats"], json!(["C5", "C6"]));
    let premium = api
        .hold_best_available(&bob, &show, 3, Some("premium"))
        .await;
    assert_eq!(
        premium.body["seats"],
        json!(["A4", "A5", "A6"]),
        "{premium}"
    );

    // A second hold while the first is active names the first.
    let again = api.hold_seats(&alice, &show, &["B1"]).await;
    assert_eq!(
        again.expect_problem(409, "hold_exists")["hold_id"],
        best.body["hold_id"]
    );

    let carol = api.customer("carol");
    for body in [
        json!({ "count": 11 }),
        json!({ "count": 2, "category": "balcony" }),
        json!({ "seats": ["B1"], "count": 1 }),
        json!({}),
        json!({ "count": 11, "seats": null }),
    ] {
        api.hold(&carol, &show, &body)
            .await
            .expect_problem(422, "validation_failed");
    }
    api.hold_best_available(&carol, &show, 10, Some("premium"))
        .await
        .expect_problem(409, "seats_unavailable");
}

#[tokio::test]
async fn one_idempotency_key_on_two_shows_makes_two_holds() {
    let server = TestServer::start().await;
    let api = &server.api;
    let alice = api.customer("alice");
    let first = api.scheduled_show(&fixtures::show(1, 4)).await;
    let second = api.scheduled_show(&fixtures::show(1, 4)).await;
    let mut held = Vec::new();
    for show in [&first, &second] {
        let reply = api
            .hold_seats(&alice, show, &["A1"])
            .idempotency_key("alice-key-1")
            .await;
        reply.expect_created();
        held.push(reply);
    }
    assert_ne!(held[0].body["hold_id"], held[1].body["hold_id"]);
    // Both read models took both holds (a clash would stop the seat-map projector).
    for (show, reply) in [(&first, &held[0]), (&second, &held[1])] {
        let map = api.seat_map(show).min_position(reply.position()).await;
        assert_eq!(map.seat("A1")["status"], "held");
    }
}
