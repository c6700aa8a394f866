//! The booking slice end to end over HTTP: schedule, hold, pay, refund, and every read model
//! and the audit log agreeing with what clients were told.

use boxoffice_api::auth::Role;
use boxoffice_commands::{Clock, ManualClock};
use boxoffice_tests::fixtures;
use boxoffice_tests::server::{Api, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

async fn schedule(api: &Api, staff: &str, body: &Value) -> String {
    let reply = api.post("/v1/shows", staff, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["show_id"].as_str().unwrap().to_owned()
}

async fn hold(api: &Api, token: &str, show: &str, seats: &[&str]) -> Reply {
    api.post(
        &format!("/v1/shows/{show}/holds"),
        token,
        &json!({ "seats": seats }),
    )
    .await
}

fn position(reply: &Reply) -> String {
    reply.body["position"]
        .as_str()
        .expect("a position")
        .to_owned()
}

async fn audit_count(api: &Api) -> usize {
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/audit/events?limit=1000&after={a}"),
            None => "/v1/audit/events?limit=1000".to_owned(),
        };
        let page = api.get(&path, Some(&auditor)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        count += page.body["events"].as_array().unwrap().len();
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return count,
        }
    }
}

fn seat_status(seat_map: &Value, seat: &str) -> String {
    seat_map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seat_id"] == seat)
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_customer_holds_pays_and_refunds_and_every_read_model_shows_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let analyst = api.token("analyst-1", &[Role::Analyst]);
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let show = schedule(api, &staff, &fixtures::show(3, 10)).await;

    let held = api
        .send(
            Method::POST,
            &format!("/v1/shows/{show}/holds"),
            Some(&alice),
            Some(&json!({ "seats": ["A1", "B2", "B3"] })),
            &[
                ("x-request-id", "req-hold-1"),
                ("idempotency-key", "alice-hold-1"),
            ],
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    assert_eq!(held.header("x-request-id"), Some("req-hold-1"));
    assert_eq!(
        held.body["total"],
        json!({ "amount_minor": 17000, "currency": "CNY" })
    );
    assert_eq!(held.body["seats"], json!(["A1", "B2", "B3"]));
    let hold_id = held.body["hold_id"].as_str().unwrap().to_owned();

    let seats = api
        .get(
            &format!("/v1/shows/{show}/seats?min_position={}", position(&held)),
            None,
        )
        .await;
    assert_eq!(seats.status, StatusCode::OK, "{seats:?}");
    assert_eq!(
        seats.body["counts"],
        json!({ "available": 27, "held": 3, "sold": 0 })
    );
    assert_eq!(seat_status(&seats.body, "B2"), "held");

    let paid = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "alipay-2026-0001", "amount": { "amount_minor": 17000, "currency": "CNY" } }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
    let order_id = paid.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(paid.body["seats"], json!(["A1", "B2", "B3"]));

    let refund = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            &alice,
            &json!({ "seats": ["A1"] }),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{refund:?}");
    assert_eq!(
        refund.body["amount"],
        json!({ "amount_minor": 8000, "currency": "CNY" })
    );
    assert_eq!(refund.body["fully_refunded"], json!(false));

    let seats = api
        .get(
            &format!("/v1/shows/{show}/seats?min_position={}", position(&refund)),
            None,
        )
        .await;
    assert_eq!(
        seats.body["counts"],
        json!({ "available": 28, "held": 0, "sold": 2 })
    );
    assert_eq!(seat_status(&seats.body, "A1"), "available");
    assert_eq!(seat_status(&seats.body, "B3"), "sold");

    let orders = api
        .get(
            &format!("/v1/me/orders?min_position={}", position(&refund)),
            Some(&alice),
        )
        .await;
    assert_eq!(orders.status, StatusCode::OK, "{orders:?}");
    let order = &orders.body["orders"][0];
    assert_eq!(order["order_id"], json!(order_id));
    assert_eq!(order["status"], "partially_refunded");
    assert_eq!(order["seats"], json!(["B2", "B3"]));
    assert_eq!(order["refunded_seats"], json!(["A1"]));
    assert_eq!(order["total"]["amount_minor"], 17000);
    assert_eq!(order["refunded"]["amount_minor"], 8000);
    assert_eq!(orders.body["next_cursor"], Value::Null);

    let report = api
        .get(
            &format!(
                "/v1/reports/sales?show_id={show}&min_position={}",
                position(&refund)
            ),
            Some(&analyst),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    let row = &report.body["shows"][0];
    assert_eq!(row["tickets_sold"], 3);
    assert_eq!(row["tickets_refunded"], 1);
    assert_eq!(row["gross"]["amount_minor"], 17000);
    assert_eq!(row["refunds"]["amount_minor"], 8000);
    assert_eq!(row["net"]["amount_minor"], 9000);
    assert_eq!(report.body["totals"][0]["net_minor"], 9000);

    let stream = api
        .get(&format!("/v1/audit/streams/show-{show}"), Some(&auditor))
        .await;
    assert_eq!(stream.status, StatusCode::OK, "{stream:?}");
    let events = stream.body["events"].as_array().unwrap();
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
    assert_eq!(held_event["data"]["hold_id"], json!(hold_id));
    assert_eq!(stream.body["next"], Value::Null);
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_and_writes_nothing() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let scheduled = api.post("/v1/shows", &staff, &fixtures::show(2, 12)).await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{scheduled:?}");
    let show = scheduled.body["show_id"].as_str().unwrap().to_owned();
    let at = scheduled.body["position"].as_str().unwrap().to_owned();
    // The log hands out an event once its place is final: wait for the show's to count it.
    let mut before = audit_count(api).await;
    for _ in 0..100 {
        if before > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        before = audit_count(api).await;
    }
    assert_eq!(before, 1, "the scheduled show is not in the log");
    let holds = format!("/v1/shows/{show}/holds");

    let cases: Vec<(Reply, StatusCode, &str)> = vec![
        (hold(api, &alice, &show, &[]).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (hold(api, &alice, &show, &["B1", "B1"]).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (hold(api, &alice, &show, &["Z99"]).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (
            hold(api, &alice, &show, &["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11"]).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (api.post(&holds, &alice, &json!({ "seats": "B1" })).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (api.post(&holds, &alice, &json!({ "seats": ["B1"], "vip": true })).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (api.post(&holds, &alice, &json!([1, 2])).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (
            api.raw(api.http().post(format!("{}{holds}", api.base)).bearer_auth(&alice).header("content-type", "application/json").body("{\"seats\": [")).await,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            api.raw(api.http().post(format!("{}{holds}", api.base)).bearer_auth(&alice).body("seats=B1")).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            api.raw(
                api.http()
                    .post(format!("{}{holds}", api.base))
                    .bearer_auth(&alice)
                    .header("content-type", "application/json")
                    .body(format!("{{\"seats\": [\"{}\"]}}", "x".repeat(200_000))),
            )
            .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (hold(api, &alice, "not-a-uuid", &["B1"]).await, StatusCode::BAD_REQUEST, "invalid_path"),
        (
            hold(api, &alice, &uuid::Uuid::new_v4().to_string(), &["B1"]).await,
            StatusCode::NOT_FOUND,
            "show_not_found",
        ),
        (
            api.send(Method::POST, &holds, Some(&alice), Some(&json!({ "seats": ["B1"] })), &[("idempotency-key", "")]).await,
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
        (
            api.send(Method::POST, &holds, None, Some(&json!({ "seats": ["B1"] })), &[]).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            api.send(Method::POST, &holds, Some("not.a.jwt"), Some(&json!({ "seats": ["B1"] })), &[]).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            api.post(&format!("/v1/shows/{show}/holds/{}/confirm", uuid::Uuid::new_v4()), &alice, &json!({ "payment_reference": "p", "amount": { "amount_minor": 1.5, "currency": "CNY" } })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            api.post(&format!("/v1/shows/{show}/holds/{}/confirm", uuid::Uuid::new_v4()), &alice, &json!({ "payment_reference": "p", "amount": { "amount_minor": 100, "currency": "yuan" } })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            api.post(&format!("/v1/shows/{show}/holds/{}/confirm", uuid::Uuid::new_v4()), &staff, &json!({ "payment_reference": "p", "amount": { "amount_minor": 100, "currency": "CNY" } })).await,
            StatusCode::NOT_FOUND,
            "hold_not_found",
        ),
        (api.post("/v1/shows", &alice, &fixtures::show(1, 1)).await, StatusCode::FORBIDDEN, "forbidden"),
        (
            api.post("/v1/shows", &staff, &{
                let mut body = fixtures::show(1, 2);
                body["seats"][1]["seat_id"] = json!("A1");
                body
            })
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            api.post("/v1/shows", &staff, &{
                let mut body = fixtures::show(1, 2);
                body["starts_at"] = json!("2026-13-01T00:00:00");
                body
            })
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (api.get(&format!("/v1/shows/{show}/seats?min_position=banana"), None).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (api.get("/v1/me/orders?limit=0", Some(&alice)).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (api.get("/v1/me/orders?cursor=zzz", Some(&alice)).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (api.get("/v1/nothing-here", None).await, StatusCode::NOT_FOUND, "not_found"),
        (api.send(Method::PUT, "/v1/shows", Some(&staff), None, &[]).await, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    ];
    for (index, (reply, status, code)) in cases.iter().enumerate() {
        assert_eq!(reply.status, *status, "case {index}: {reply:?}");
        assert_eq!(reply.code(), *code, "case {index}: {reply:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "case {index}"
        );
        assert!(
            !reply.body["detail"].as_str().unwrap_or("").is_empty(),
            "case {index}"
        );
    }
    assert_eq!(
        audit_count(api).await,
        before,
        "a rejected request wrote to the log"
    );
    let seats = api
        .get(&format!("/v1/shows/{show}/seats?min_position={at}"), None)
        .await;
    assert_eq!(seats.body["counts"]["available"], 24, "{seats:?}");
}

#[tokio::test]
async fn customers_only_see_and_change_their_own_holds_and_orders() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);
    let show = schedule(api, &staff, &fixtures::show(2, 10)).await;
    let held = hold(api, &alice, &show, &["B5"]).await;
    let hold_id = held.body["hold_id"].as_str().unwrap().to_owned();

    let stolen = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/payments"),
            &bob,
            &json!({ "method": "card" }),
        )
        .await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (StatusCode::NOT_FOUND, "hold_not_found")
    );
    // Customers never confirm at the counter, not even their own holds.
    let counter = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &alice,
            &json!({ "payment_reference": "alice-pay", "amount": { "amount_minor": 4500, "currency": "CNY" } }),
        )
        .await;
    assert_eq!(
        (counter.status, counter.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let released = api
        .send(
            Method::DELETE,
            &format!("/v1/shows/{show}/holds/{hold_id}"),
            Some(&bob),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (released.status, released.code()),
        (StatusCode::NOT_FOUND, "hold_not_found")
    );

    let paid = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "alice-pay", "amount": { "amount_minor": 4500, "currency": "CNY" } }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let order_id = paid.body["order_id"].as_str().unwrap().to_owned();
    let refund = api
        .send(
            Method::POST,
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            Some(&bob),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (refund.status, refund.code()),
        (StatusCode::NOT_FOUND, "order_not_found")
    );

    let bobs = api
        .get(
            &format!("/v1/me/orders?min_position={}", position(&paid)),
            Some(&bob),
        )
        .await;
    assert_eq!(bobs.body["orders"], json!([]));
    let alices = api
        .get(
            &format!("/v1/me/orders?min_position={}", position(&paid)),
            Some(&alice),
        )
        .await;
    assert_eq!(alices.body["orders"].as_array().unwrap().len(), 1);

    for (path, token) in [
        ("/v1/reports/sales", &alice),
        ("/v1/audit/events", &alice),
        (
            "/v1/audit/events",
            &api.token("analyst-1", &[Role::Analyst]),
        ),
    ] {
        let reply = api.get(path, Some(token)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path}"
        );
    }
    // Staff may refund anyone's order at the box office; with no body the whole order.
    let refund = api
        .send(
            Method::POST,
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            Some(&staff),
            None,
            &[],
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{refund:?}");
    assert_eq!(refund.body["fully_refunded"], json!(true));
    let again = api
        .send(
            Method::POST,
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            Some(&staff),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "order_fully_refunded")
    );
}

#[tokio::test]
async fn payments_must_match_and_a_retry_returns_the_original_answer() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let show = schedule(api, &staff, &fixtures::show(2, 10)).await;
    let held = hold(api, &alice, &show, &["A1", "A2"]).await;
    let hold_id = held.body["hold_id"].as_str().unwrap().to_owned();
    let confirm = format!("/v1/shows/{show}/holds/{hold_id}/confirm");

    let short = api
        .post(&confirm, &staff, &json!({ "payment_reference": "p1", "amount": { "amount_minor": 15999, "currency": "CNY" } }))
        .await;
    assert_eq!(
        (short.status, short.code()),
        (StatusCode::CONFLICT, "amount_mismatch")
    );
    assert_eq!(
        short.body["expected"],
        json!({ "amount_minor": 16000, "currency": "CNY" })
    );

    let body = json!({ "payment_reference": "p1", "amount": { "amount_minor": 16000, "currency": "CNY" } });
    let key = [("idempotency-key", "alice-pay-1")];
    let first = api
        .send(Method::POST, &confirm, Some(&staff), Some(&body), &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let retry = api
        .send(Method::POST, &confirm, Some(&staff), Some(&body), &key)
        .await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.body, first.body,
        "a retry answers exactly as the first try"
    );

    let other_body = json!({ "payment_reference": "p2", "amount": { "amount_minor": 16000, "currency": "CNY" } });
    let reused = api
        .send(
            Method::POST,
            &confirm,
            Some(&staff),
            Some(&other_body),
            &key,
        )
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );

    let twice = api.post(&confirm, &staff, &other_body).await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "hold_already_confirmed")
    );
    assert_eq!(twice.body["order_id"], first.body["order_id"]);

    let stream = api
        .get(
            &format!("/v1/audit/streams/show-{show}"),
            Some(&api.token("a", &[Role::Auditor])),
        )
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
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);
    let show = schedule(api, &staff, &fixtures::show(2, 10)).await;
    let held = hold(api, &alice, &show, &["B1", "B2"]).await;
    let hold_id = held.body["hold_id"].as_str().unwrap().to_owned();

    // Inside the hold's five minutes the seats stay Alice's.
    clock.advance(chrono::Duration::seconds(299));
    let early = hold(api, &bob, &show, &["B2"]).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "seats_unavailable")
    );
    assert_eq!(early.body["unavailable_seats"], json!(["B2"]));

    // Past expiry plus the 5 s grace, Alice can no longer pay and Bob gets the seat.
    clock.advance(chrono::Duration::seconds(7));
    let late = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "late", "amount": { "amount_minor": 9000, "currency": "CNY" } }),
        )
        .await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::GONE, "hold_expired")
    );
    let taken = hold(api, &bob, &show, &["B2"]).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{taken:?}");
    let seats = api
        .get(
            &format!("/v1/shows/{show}/seats?min_position={}", position(&taken)),
            None,
        )
        .await;
    assert_eq!(seat_status(&seats.body, "B1"), "available");
    assert_eq!(seat_status(&seats.body, "B2"), "held");
    assert_eq!(seats.body["counts"]["held"], 1);
}

#[tokio::test]
async fn rebuilt_read_models_equal_the_live_ones() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let analyst = api.token("analyst-1", &[Role::Analyst]);
    let show = schedule(api, &staff, &fixtures::show(3, 8)).await;
    let mut last = String::new();
    for seats in [["B1", "B2"], ["B3", "B4"], ["C1", "C2"]] {
        let held = hold(api, &alice, &show, &seats).await;
        let hold_id = held.body["hold_id"].as_str().unwrap();
        let paid = api
            .post(
                &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
                &staff,
                &json!({ "payment_reference": "p", "amount": held.body["total"] }),
            )
            .await;
        last = position(&paid);
    }
    let held = hold(api, &alice, &show, &["A8"]).await;
    last = position(&held).max(last);
    let read = |path: String, token: Option<String>| async move {
        let mut reply = api.get(&path, token.as_deref()).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        reply.body.as_object_mut().unwrap().remove("position");
        reply.body
    };
    let paths = [
        (format!("/v1/shows/{show}/seats?min_position={last}"), None),
        (
            format!("/v1/me/orders?min_position={last}"),
            Some(alice.clone()),
        ),
        (
            format!("/v1/reports/sales?min_position={last}"),
            Some(analyst.clone()),
        ),
    ];
    let mut live = Vec::new();
    for (path, token) in paths.clone() {
        live.push(read(path, token).await);
    }
    let pool = boxoffice_eventstore::postgres::pool(&server.db.config(), 4);
    let log = boxoffice_eventstore::postgres::PgEventLog::new(pool.clone(), &server.db.config());
    let report = boxoffice_projections::rebuild(&log, &pool, &boxoffice_projections::all())
        .await
        .expect("rebuild");
    assert!(report.iter().all(|(_, events)| *events >= 8), "{report:?}");
    for ((path, token), before) in paths.into_iter().zip(live) {
        assert_eq!(read(path.clone(), token).await, before, "{path}");
    }
}

#[tokio::test]
async fn seat_statuses_follow_the_seat_map_in_layout_order() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(api, &staff, &fixtures::show(2, 3)).await;
    let alice = api.token("alice", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);
    let held = hold(api, &alice, &show, &["A2", "A3"]).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let sold = hold(api, &bob, &show, &["B1"]).await;
    let hold_id = sold.body["hold_id"].as_str().unwrap();
    let paid = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({"payment_reference": "pay-1", "amount": sold.body["total"]}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
    let at = paid.body["position"].as_str().unwrap();

    let statuses = api
        .get(
            &format!("/v1/shows/{show}/seats/status?min_position={at}"),
            None,
        )
        .await;
    assert_eq!(statuses.status, StatusCode::OK, "{statuses:?}");
    // Layout order: A1 A2 A3 B1 B2 B3.
    assert_eq!(statuses.body["statuses"], "ahhsaa");
    assert_eq!(
        statuses.body["counts"],
        json!({"available": 3, "held": 2, "sold": 1})
    );
    let map = api
        .get(&format!("/v1/shows/{show}/seats?min_position={at}"), None)
        .await;
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
    let released = api
        .send(
            Method::DELETE,
            &format!(
                "/v1/shows/{show}/holds/{}",
                held.body["hold_id"].as_str().unwrap()
            ),
            Some(&alice),
            None,
            &[],
        )
        .await;
    let at = released.body["position"].as_str().unwrap();
    let statuses = api
        .get(
            &format!("/v1/shows/{show}/seats/status?min_position={at}"),
            None,
        )
        .await;
    assert_eq!(statuses.body["statuses"], "aaasaa");

    let unknown = api
        .get(
            &format!("/v1/shows/{}/seats/status", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "show_not_found");
}
