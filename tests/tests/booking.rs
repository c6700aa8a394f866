//! The booking slice end to end over HTTP: schedule, hold, pay, refund, and every read model
//! and the audit log agreeing with what clients were told.

use boxoffice_api::auth::Role;
use boxoffice_commands::{Clock, ManualClock};
use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models;
use boxoffice_tests::server::{Api, TestServer};
use boxoffice_tests::wait::eventually;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

/// How many events the whole log hands out, read a page at a time.
async fn audit_count(api: &Api) -> usize {
    let auditor = api.auditor();
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let mut page = api.audit_events(&auditor).query("limit", 1000);
        if let Some(after) = &after {
            page = page.query("after", after);
        }
        let page = page.await;
        count += page.expect_ok()["events"].as_array().unwrap().len();
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return count,
        }
    }
}

#[tokio::test]
async fn a_customer_holds_pays_and_refunds_and_every_read_model_shows_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let analyst = api.analyst();
    let auditor = api.auditor();
    let show = api.scheduled_show(&fixtures::show(3, 10)).await;

    let held = api
        .hold_seats(&alice, &show, &["A1", "B2", "B3"])
        .header("x-request-id", "req-hold-1")
        .idempotency_key("alice-hold-1")
        .await;
    let hold = held.expect_created();
    assert_eq!(held.header("x-request-id"), Some("req-hold-1"));
    assert_eq!(hold["total"], cny(17000));
    assert_eq!(hold["seats"], json!(["A1", "B2", "B3"]));
    let hold_id = held.text("hold_id");

    let seats = api.seat_map(&show).min_position(held.position()).await;
    assert_eq!(
        seats.expect_ok()["counts"],
        json!({ "available": 27, "held": 3, "sold": 0, "checked_in": 0 })
    );
    assert_eq!(seats.seat("B2")["status"], "held");

    let paid = api
        .confirm_hold(&staff, &show, hold_id, "alipay-2026-0001", &cny(17000))
        .await;
    assert_eq!(paid.expect_created()["seats"], json!(["A1", "B2", "B3"]));
    let order_id = paid.text("order_id");

    let refund = api.refund_seats(&alice, &show, order_id, &["A1"]).await;
    assert_eq!(refund.expect_created()["amount"], cny(8000));
    assert_eq!(refund.body["fully_refunded"], json!(false));

    let seats = api.seat_map(&show).min_position(refund.position()).await;
    assert_eq!(
        seats.body["counts"],
        json!({ "available": 28, "held": 0, "sold": 2, "checked_in": 0 })
    );
    assert_eq!(seats.seat("A1")["status"], "available");
    assert_eq!(seats.seat("B3")["status"], "sold");

    let orders = api.my_orders(&alice).min_position(refund.position()).await;
    let order = &orders.expect_ok()["orders"][0];
    assert_eq!(order["order_id"], order_id);
    assert_eq!(order["status"], "partially_refunded");
    assert_eq!(order["seats"], json!(["B2", "B3"]));
    assert_eq!(order["refunded_seats"], json!(["A1"]));
    assert_eq!(order["total"]["amount_minor"], 17000);
    assert_eq!(order["refunded"]["amount_minor"], 8000);
    assert_eq!(orders.body["next_cursor"], Value::Null);

    let report = api
        .sales_report(&analyst)
        .query("show_id", &show)
        .min_position(refund.position())
        .await;
    let row = &report.expect_ok()["shows"][0];
    assert_eq!(row["tickets_sold"], 3);
    assert_eq!(row["tickets_refunded"], 1);
    assert_eq!(row["gross"]["amount_minor"], 17000);
    assert_eq!(row["refunds"]["amount_minor"], 8000);
    assert_eq!(row["net"]["amount_minor"], 9000);
    assert_eq!(report.body["totals"][0]["net_minor"], 9000);

    let stream = api.show_stream(&auditor, &show).await;
    let events = stream.expect_ok()["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ShowScheduled",
            "SeatsHeld",
            "HoldConfirmed",
            "OrderRefunded"
        ]
    );
    let versions: Vec<u64> = events
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [0, 1, 2, 3]);
    let held_event = &events[1];
    assert_eq!(held_event["schema_version"], 1);
    assert_eq!(held_event["metadata"]["actor"], "alice");
    assert_eq!(held_event["metadata"]["idempotency_key"], "alice-hold-1");
    assert_eq!(held_event["metadata"]["correlation_id"], "req-hold-1");
    assert_eq!(held_event["data"]["hold_id"], hold_id);
    assert_eq!(stream.body["next"], Value::Null);
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_and_writes_nothing() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let scheduled = api.schedule_show(&staff, &fixtures::show(2, 12)).await;
    let show = scheduled.created("show_id");
    let at = scheduled.position();
    // The log hands out an event once its place is final: wait for the show's to count it.
    let before = eventually(
        "the scheduled show is in the log",
        async || match audit_count(api).await {
            0 => Err("no event"),
            count => Ok(count),
        },
    )
    .await;
    assert_eq!(before, 1, "the scheduled show alone is in the log");
    let holds = format!("/v1/shows/{show}/holds");
    let unknown = uuid::Uuid::new_v4().to_string();
    let twin_seats = {
        let mut body = fixtures::show(1, 2);
        body["seats"][1]["seat_id"] = json!("A1");
        body
    };
    let no_such_month = {
        let mut body = fixtures::show(1, 2);
        body["starts_at"] = json!("2026-13-01T00:00:00");
        body
    };
    let eleven = [
        "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11",
    ];
    let cases = [
        (
            api.hold(&alice, &show, &json!({ "seats": [] })),
            422,
            "validation_failed",
        ),
        (
            api.hold_seats(&alice, &show, &["B1", "B1"]),
            422,
            "validation_failed",
        ),
        (
            api.hold_seats(&alice, &show, &["Z99"]),
            422,
            "validation_failed",
        ),
        (
            api.hold_seats(&alice, &show, &eleven),
            422,
            "validation_failed",
        ),
        (
            api.hold(&alice, &show, &json!({ "seats": "B1" })),
            422,
            "validation_failed",
        ),
        (
            api.hold(&alice, &show, &json!({ "seats": ["B1"], "vip": true })),
            422,
            "validation_failed",
        ),
        (
            api.hold(&alice, &show, &json!([1, 2])),
            422,
            "validation_failed",
        ),
        (
            api.request(Method::POST, &holds)
                .token(&alice)
                .json_text("{\"seats\": ["),
            400,
            "malformed_json",
        ),
        (
            api.request(Method::POST, &holds)
                .token(&alice)
                .untyped_body("seats=B1"),
            415,
            "unsupported_media_type",
        ),
        (
            api.request(Method::POST, &holds)
                .token(&alice)
                .json_text(&format!("{{\"seats\": [\"{}\"]}}", "x".repeat(200_000))),
            413,
            "payload_too_large",
        ),
        (
            api.hold_seats(&alice, "not-a-uuid", &["B1"]),
            400,
            "invalid_path",
        ),
        (
            api.hold_seats(&alice, &unknown, &["B1"]),
            404,
            "show_not_found",
        ),
        (
            api.hold_seats(&alice, &show, &["B1"]).idempotency_key(""),
            400,
            "invalid_idempotency_key",
        ),
        (
            api.request(Method::POST, &holds)
                .json(&json!({ "seats": ["B1"] })),
            401,
            "unauthorized",
        ),
        (
            api.hold_seats("not.a.jwt", &show, &["B1"]),
            401,
            "unauthorized",
        ),
        (
            api.confirm_hold(
                &alice,
                &show,
                &unknown,
                "p",
                &json!({ "amount_minor": 1.5, "currency": "CNY" }),
            ),
            422,
            "validation_failed",
        ),
        (
            api.confirm_hold(
                &alice,
                &show,
                &unknown,
                "p",
                &json!({ "amount_minor": 100, "currency": "yuan" }),
            ),
            422,
            "validation_failed",
        ),
        (
            api.confirm_hold(&staff, &show, &unknown, "p", &cny(100)),
            404,
            "hold_not_found",
        ),
        (
            api.schedule_show(&alice, &fixtures::show(1, 1)),
            403,
            "forbidden",
        ),
        (
            api.schedule_show(&staff, &twin_seats),
            422,
            "validation_failed",
        ),
        (
            api.schedule_show(&staff, &no_such_month),
            422,
            "validation_failed",
        ),
        (
            api.seat_map(&show).min_position("banana"),
            400,
            "invalid_query",
        ),
        (
            api.my_orders(&alice).query("limit", 0),
            400,
            "invalid_query",
        ),
        (
            api.my_orders(&alice).query("cursor", "zzz"),
            400,
            "invalid_query",
        ),
        (
            api.request(Method::GET, "/v1/nothing-here"),
            404,
            "not_found",
        ),
        (
            api.request(Method::PUT, "/v1/shows").token(&staff),
            405,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        let reply = request.await;
        let problem = reply.expect_problem(status, code);
        assert!(
            !problem["detail"].as_str().unwrap_or("").is_empty(),
            "a problem says what is wrong: {reply}"
        );
    }
    assert_eq!(
        audit_count(api).await,
        before,
        "a rejected request wrote to the log"
    );
    let seats = api.seat_map(&show).min_position(at).await;
    assert_eq!(seats.expect_ok()["counts"]["available"], 24);
}

#[tokio::test]
async fn customers_only_see_and_change_their_own_holds_and_orders() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let bob = api.customer("bob");
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let hold_id = api
        .hold_seats(&alice, &show, &["B5"])
        .await
        .created("hold_id");

    api.start_payment(&bob, &show, &hold_id, "card")
        .await
        .expect_problem(404, "hold_not_found");
    // Customers never confirm at the counter, not even their own holds.
    api.confirm_hold(&alice, &show, &hold_id, "alice-pay", &cny(4500))
        .await
        .expect_problem(403, "forbidden");
    api.release_hold(&bob, &show, &hold_id)
        .await
        .expect_problem(404, "hold_not_found");

    let paid = api
        .confirm_hold(&staff, &show, &hold_id, "alice-pay", &cny(4500))
        .await;
    let order_id = paid.created("order_id");
    api.refund_order(&bob, &show, &order_id)
        .await
        .expect_problem(404, "order_not_found");

    let bobs = api.my_orders(&bob).min_position(paid.position()).await;
    assert_eq!(bobs.body["orders"], json!([]));
    let alices = api.my_orders(&alice).min_position(paid.position()).await;
    assert_eq!(alices.body["orders"].as_array().unwrap().len(), 1);

    let analyst = api.analyst();
    for forbidden in [
        api.sales_report(&alice),
        api.audit_events(&alice),
        api.audit_events(&analyst),
    ] {
        forbidden.await.expect_problem(403, "forbidden");
    }
    // Staff may refund anyone's order at the box office; with no body the whole order.
    let refund = api.refund_order(&staff, &show, &order_id).await;
    assert_eq!(refund.expect_created()["fully_refunded"], json!(true));
    api.refund_order(&staff, &show, &order_id)
        .await
        .expect_problem(409, "order_fully_refunded");
}

#[tokio::test]
async fn a_counter_sale_must_match_the_total_and_a_retry_returns_the_original_answer() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let hold_id = api
        .hold_seats(&alice, &show, &["A1", "A2"])
        .await
        .created("hold_id");

    let short = api
        .confirm_hold(&staff, &show, &hold_id, "p1", &cny(15999))
        .await;
    assert_eq!(
        short.expect_problem(409, "amount_mismatch")["expected"],
        cny(16000)
    );

    let confirm = |reference| api.confirm_hold(&staff, &show, &hold_id, reference, &cny(16000));
    let first = confirm("p1").idempotency_key("alice-pay-1").await;
    first.expect_created();
    let retry = confirm("p1").idempotency_key("alice-pay-1").await;
    retry.expect_created();
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.body, first.body,
        "a retry answers exactly as the first try"
    );

    confirm("p2")
        .idempotency_key("alice-pay-1")
        .await
        .expect_problem(422, "idempotency_key_reused");

    let twice = confirm("p2").await;
    assert_eq!(
        twice.expect_problem(409, "hold_already_confirmed")["order_id"],
        first.body["order_id"]
    );

    let stream = api
        .show_stream(&api.token("a", &[Role::Auditor]), &show)
        .await;
    let confirmations = stream.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "HoldConfirmed")
        .count();
    assert_eq!(confirmations, 1);
}

#[tokio::test]
async fn an_unpaid_hold_runs_out_and_its_seats_go_to_the_next_customer() {
    let clock = Arc::new(ManualClock::new(boxoffice_commands::SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let bob = api.customer("bob");
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let hold_id = api
        .hold_seats(&alice, &show, &["B1", "B2"])
        .await
        .created("hold_id");

    // Inside the hold's five minutes the seats stay Alice's.
    clock.advance(chrono::Duration::seconds(299));
    let early = api.hold_seats(&bob, &show, &["B2"]).await;
    let refused = early.expect_problem(409, "seats_unavailable");
    assert_eq!(refused["unavailable_seats"], json!(["B2"]));
    assert_eq!(refused["reason"], "seats_taken", "other seats are free");

    // Past expiry plus the 5 s grace, Alice can no longer pay and Bob gets the seat.
    clock.advance(chrono::Duration::seconds(7));
    api.confirm_hold(&staff, &show, &hold_id, "late", &cny(9000))
        .await
        .expect_problem(410, "hold_expired");
    let taken = api.hold_seats(&bob, &show, &["B2"]).await;
    taken.expect_created();
    let seats = api.seat_map(&show).min_position(taken.position()).await;
    assert_eq!(seats.seat("B1")["status"], "available");
    assert_eq!(seats.seat("B2")["status"], "held");
    assert_eq!(seats.body["counts"]["held"], 1);
}

#[tokio::test]
async fn rebuilt_read_models_equal_the_live_ones() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let analyst = api.analyst();
    let show = api.scheduled_show(&fixtures::show(3, 8)).await;
    let mut last = String::new();
    for seats in [["B1", "B2"], ["B3", "B4"], ["C1", "C2"]] {
        let held = api.hold_seats(&alice, &show, &seats).await;
        let paid = api
            .confirm_hold(
                &staff,
                &show,
                held.text("hold_id"),
                "p",
                &held.body["total"],
            )
            .await;
        last = paid.position().to_owned();
    }
    let held = api.hold_seats(&alice, &show, &["A8"]).await;
    let last = held.position().to_owned().max(last);
    let reads = || {
        [
            api.seat_map(&show).min_position(&last),
            api.my_orders(&alice).min_position(&last),
            api.sales_report(&analyst).min_position(&last),
        ]
    };
    let mut live = Vec::new();
    for read in reads() {
        let mut reply = read.await;
        reply.expect_ok();
        reply.body.as_object_mut().unwrap().remove("position");
        live.push(reply);
    }
    let report = read_models::rebuild(&server.db).await;
    assert!(report.iter().all(|(_, events)| *events >= 8), "{report:?}");
    for (read, before) in reads().into_iter().zip(live) {
        let mut reply = read.await;
        reply.expect_ok();
        reply.body.as_object_mut().unwrap().remove("position");
        assert_eq!(reply.body, before.body, "{}", before.request);
    }
}

#[tokio::test]
async fn seat_statuses_follow_the_seat_map_in_layout_order() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let show = api.scheduled_show(&fixtures::show(2, 3)).await;
    let alice = api.customer("alice");
    let bob = api.customer("bob");
    let held = api.hold_seats(&alice, &show, &["A2", "A3"]).await;
    held.expect_created();
    let sold = api.hold_seats(&bob, &show, &["B1"]).await;
    let paid = api
        .confirm_hold(
            &staff,
            &show,
            sold.text("hold_id"),
            "pay-1",
            &sold.body["total"],
        )
        .await;
    paid.expect_created();
    let at = paid.position();

    let statuses = api.seat_statuses(&show).min_position(at).await;
    // Layout order: A1 A2 A3 B1 B2 B3.
    assert_eq!(statuses.expect_ok()["statuses"], "ahhsaa");
    assert_eq!(
        statuses.body["counts"],
        json!({"available": 3, "held": 2, "sold": 1, "checked_in": 0})
    );
    let map = api.seat_map(&show).min_position(at).await;
    assert_eq!(map.body["version"], statuses.body["version"]);
    let from_map: String = map.body["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|seat| match seat["status"].as_str().unwrap() {
            "available" => 'a',
            "held" => 'h',
            _ => 's',
        })
        .collect();
    assert_eq!(from_map, "ahhsaa");

    // Releasing moves both reads on, together.
    let released = api.release_hold(&alice, &show, held.text("hold_id")).await;
    let statuses = api
        .seat_statuses(&show)
        .min_position(released.position())
        .await;
    assert_eq!(statuses.body["statuses"], "aaasaa");

    api.seat_statuses(&uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "show_not_found");
}
