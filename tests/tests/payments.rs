//! Paying through the provider (the built-in sandbox), refunds under a cinema's policy,
//! exchanges, promo codes and late payments, end to end over HTTP against a real database.

use boxoffice_api::auth::Role;
use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures;
use boxoffice_tests::load::{assert_read_models_equal_a_rebuild, wait_for_projections};
use boxoffice_tests::server::{Api, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SANDBOX_SECRET: &str = "boxoffice-sandbox-secret";

fn text(reply: &Reply, name: &str) -> String {
    reply.body[name].as_str().unwrap_or_default().to_owned()
}

async fn schedule(api: &Api, staff: &str, mut body: Value, policy: Option<Value>) -> String {
    if let Some(policy) = policy {
        body["refund_policy"] = policy;
    }
    let scheduled = api.post("/v1/shows", staff, &body).await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{scheduled:?}");
    text(&scheduled, "show_id")
}

async fn hold(api: &Api, token: &str, show: &str, body: Value) -> Reply {
    api.post(&format!("/v1/shows/{show}/holds"), token, &body)
        .await
}

async fn start_payment(api: &Api, token: &str, show: &str, hold_id: &str) -> Reply {
    api.post(
        &format!("/v1/shows/{show}/holds/{hold_id}/payments"),
        token,
        &json!({"method": "alipay"}),
    )
    .await
}

/// Presses a button of the sandbox's pay page; returns the status and the page.
async fn press(api: &Api, pay_url: &str, outcome: &str) -> (StatusCode, String) {
    let response = api
        .http()
        .post(pay_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("outcome={outcome}"))
        .send()
        .await
        .expect("the sandbox answers");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// The caller's orders once `ready` holds for the first (newest) one; panics after 10 s.
async fn history_until(api: &Api, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let orders = api.get("/v1/me/orders", Some(token)).await;
        assert_eq!(orders.status, StatusCode::OK, "{orders:?}");
        let first = orders.body["orders"][0].clone();
        if ready(&first) {
            return orders.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "order history never got there: {first:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The show's seat map, once the projector has it.
async fn seat_map(api: &Api, show: &str) -> Value {
    seat_map_until(api, show, |_| true).await
}

/// The show's seat map once `ready` holds for it; panics after 10 s.
async fn seat_map_until(api: &Api, show: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let seats = api.get(&format!("/v1/shows/{show}/seats"), None).await;
        if seats.status == StatusCode::OK && ready(&seats.body) {
            return seats.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the seat map never got there: {seats:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kinds(order: &Value) -> Vec<String> {
    order["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    server
        .db
        .client()
        .await
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

async fn register(api: &Api, email: &str) -> String {
    let registered = api
        .send(
            Method::POST,
            "/v1/auth/register",
            None,
            Some(&json!({"email": email, "password": "correct horse 电池 staple", "display_name": "李雷"})),
            &[],
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{registered:?}");
    let login = api
        .send(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(&json!({"email": email, "password": "correct horse 电池 staple"})),
            &[],
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    text(&login, "access_token")
}

#[tokio::test]
async fn a_customer_registers_pays_through_the_sandbox_refunds_part_and_exchanges() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    // Starts in 2 hours; the full refund ends 3 hours before, so returns now cost 10%.
    let show = schedule(
        api,
        &staff,
        fixtures::show(3, 10),
        Some(json!({"full_refund_until_minutes": 180, "fee_percent": 10})),
    )
    .await;
    let customer = register(api, "li.lei@example.cn").await;

    // Hold: three regular seats, 45.00 each.
    let held = hold(api, &customer, &show, json!({"seats": ["B1", "B2", "B3"]})).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let hold_id = text(&held, "hold_id");
    let history = history_until(api, &customer, |o| o["hold_id"] == json!(hold_id)).await;
    assert_eq!(history["orders"][0]["status"], "held");
    assert_eq!(history["orders"][0]["total"]["amount_minor"], 13500);
    assert_eq!(kinds(&history["orders"][0]), ["held"]);

    // Pay: the server answers the sandbox's pay URL.
    let payment = start_payment(api, &customer, &show, &hold_id).await;
    assert_eq!(payment.status, StatusCode::CREATED, "{payment:?}");
    assert_eq!(payment.body["amount"]["amount_minor"], 13500);
    let pay_url = text(&payment, "pay_url");
    assert!(pay_url.ends_with(&format!("/sandbox/pay/{}", text(&payment, "payment_id"))));
    let page = api.http().get(&pay_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("13500 minor units of CNY") && page.contains(r#"value="succeed""#));
    let history = history_until(api, &customer, |o| o["payment_status"] == "pending").await;
    assert_eq!(kinds(&history["orders"][0]), ["payment_started", "held"]);

    // The customer pays; the sandbox notifies the server, signed; the hold is an order.
    let (status, page) = press(api, &pay_url, "succeed").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Payment succeeded") && page.contains("answer 200"),
        "{page}"
    );
    let history = history_until(api, &customer, |o| o["status"] == "paid").await;
    let order = &history["orders"][0];
    assert_eq!(order["payment_status"], "succeeded");
    assert_eq!(order["seats"], json!(["B1", "B2", "B3"]));
    assert_eq!(
        kinds(order),
        ["paid", "payment_succeeded", "payment_started", "held"]
    );
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    let (again, _) = press(api, &pay_url, "succeed").await;
    assert_eq!(again, StatusCode::CONFLICT, "a payment is paid once");

    // A partial refund, under the policy: 45.00 less the 10% fee.
    let refund = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            &customer,
            &json!({"seats": ["B3"]}),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{refund:?}");
    assert_eq!(refund.body["amount"]["amount_minor"], 4050);
    let history = history_until(api, &customer, |o| {
        kinds(o).first().map(String::as_str) == Some("refund_paid_out")
    })
    .await;
    let order = &history["orders"][0];
    assert_eq!(order["status"], "partially_refunded");
    assert_eq!(order["seats"], json!(["B1", "B2"]));
    assert_eq!(order["refunded_seats"], json!(["B3"]));
    assert_eq!(order["refunded"]["amount_minor"], 4050);
    assert_eq!(order["fees"]["amount_minor"], 450);
    assert_eq!(order["timeline"][1]["detail"]["fee_minor"], 450);
    assert_eq!(
        count(
            &server,
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_refunds"
        )
        .await,
        4050,
        "the provider paid the refund back"
    );

    // Exchange B2 for A5, a premium seat (80.00): 35.00 more, charged through the payment.
    let exchanged = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/exchanges"),
            &customer,
            &json!({"give_back": ["B2"], "take": ["A5"]}),
        )
        .await;
    assert_eq!(exchanged.status, StatusCode::CREATED, "{exchanged:?}");
    assert_eq!(exchanged.body["charge"]["amount_minor"], 3500);
    assert_eq!(exchanged.body["refund"]["amount_minor"], 0);
    let history = history_until(api, &customer, |o| {
        kinds(o).first().map(String::as_str) == Some("charge_collected")
    })
    .await;
    let order = &history["orders"][0];
    assert_eq!(order["status"], "exchanged");
    assert_eq!(order["seats"], json!(["B1", "A5"]));
    assert_eq!(order["total"]["amount_minor"], 13500 + 3500);
    assert_eq!(
        kinds(order),
        [
            "charge_collected",
            "exchanged",
            "refund_paid_out",
            "refunded",
            "paid",
            "payment_succeeded",
            "payment_started",
            "held"
        ]
    );
    let seats = api
        .get(
            &format!(
                "/v1/shows/{show}/seats?min_position={}",
                text(&exchanged, "position")
            ),
            None,
        )
        .await;
    let status_of = |seat: &str| {
        seats.body["seats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["seat_id"] == seat)
            .map(|s| s["status"].clone())
    };
    assert_eq!(status_of("A5"), Some(json!("sold")));
    assert_eq!(status_of("B2"), Some(json!("available")));
    assert_eq!(
        count(
            &server,
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_charges"
        )
        .await,
        3500
    );
    // Exchanging back to a cheaper seat refunds the difference, without a fee.
    let back = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/exchanges"),
            &customer,
            &json!({"give_back": ["A5"], "take": ["C7"]}),
        )
        .await;
    assert_eq!(back.status, StatusCode::CREATED, "{back:?}");
    assert_eq!(back.body["refund"]["amount_minor"], 3500);
    let history = history_until(api, &customer, |o| {
        o["timeline"][0]["kind"] == "refund_paid_out"
            && o["timeline"][0]["detail"]["amount_minor"] == 3500
    })
    .await;
    assert_eq!(history["orders"][0]["seats"], json!(["B1", "C7"]));
    // The order history, its timeline and the sales figures are what the log says: the
    // live read models equal a rebuild from it.
    let mut server = server;
    wait_for_projections(&server.db).await;
    server.stop().await;
    assert_read_models_equal_a_rebuild(&server.db).await;
}

#[tokio::test]
async fn forged_stale_and_replayed_notifications_change_nothing() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(api, &staff, fixtures::show(2, 10), None).await;
    let alice = api.token("alice", &[Role::Customer]);
    let held = hold(api, &alice, &show, json!({"seats": ["B1"]})).await;
    let hold_id = text(&held, "hold_id");
    let payment = start_payment(api, &alice, &show, &hold_id).await;
    let payment_id = text(&payment, "payment_id");
    let events = "SELECT count(*) FROM events";
    let before = count(&server, events).await;

    let body = json!({
        "event_id": "forged-1", "payment_id": payment_id, "status": "succeeded",
        "amount": {"amount_minor": 4500, "currency": "CNY"}, "detail": "",
        "occurred_at": chrono::Utc::now(),
    })
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let send = |timestamp: i64, signature: String, body: String| {
        let request = api
            .http()
            .post(format!("{}/v1/payments/notify", base(api)))
            .header("content-type", "application/json")
            .header("x-sandbox-timestamp", timestamp.to_string())
            .header("x-sandbox-signature", signature)
            .body(body);
        api.raw(request)
    };
    // Signed with another secret, with no signature, over another body, or too old.
    let wrong = boxoffice_api::payments::sign("not-the-sandbox-secret", now, body.as_bytes());
    let forged = send(now, wrong, body.clone()).await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::UNAUTHORIZED, "invalid_signature")
    );
    let unsigned = send(now, String::new(), body.clone()).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let good = boxoffice_api::payments::sign(SANDBOX_SECRET, now, body.as_bytes());
    let tampered = body.replace("4500", "1");
    let altered = send(now, good.clone(), tampered).await;
    assert_eq!(altered.status, StatusCode::UNAUTHORIZED);
    let old = now - 3600;
    let stale = send(
        old,
        boxoffice_api::payments::sign(SANDBOX_SECRET, old, body.as_bytes()),
        body.clone(),
    )
    .await;
    assert_eq!(
        (stale.status, stale.code()),
        (StatusCode::UNAUTHORIZED, "invalid_signature")
    );
    assert_eq!(
        count(&server, events).await,
        before,
        "a forgery wrote to the log"
    );
    let seats = seat_map(api, &show).await;
    assert_eq!(seats["counts"]["sold"], 0);

    // The real notification, sent by the sandbox, and then delivered again verbatim.
    let (status, page) = press(api, &text(&payment, "pay_url"), "succeed").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let sent = server
        .db
        .client()
        .await
        .query_one(
            "SELECT sent_timestamp, signature, body, answer_status FROM sandbox_notifications",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(sent.get::<_, Option<i32>>(3), Some(200));
    let after_first = count(&server, events).await;
    let replayed = send(sent.get(0), sent.get(1), sent.get(2)).await;
    let replayed_again = send(sent.get(0), sent.get(1), sent.get(2)).await;
    assert_eq!(replayed.status, StatusCode::OK, "{replayed:?}");
    assert_eq!(replayed.body["status"], "succeeded");
    assert!(replayed.body["order_id"].is_string());
    assert_eq!(
        replayed.body, replayed_again.body,
        "the same answer each time"
    );
    assert_eq!(
        count(&server, events).await,
        after_first,
        "a replay wrote to the log"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM events WHERE event_type = 'HoldConfirmed'"
        )
        .await,
        1
    );
}

fn base(api: &Api) -> String {
    api.base().to_owned()
}

#[tokio::test]
async fn customers_cannot_touch_each_others_holds_payments_or_orders_and_bad_tokens_are_401() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(api, &staff, fixtures::show(2, 10), None).await;
    let alice = register(api, "alice@example.cn").await;
    let bob = register(api, "bob@example.cn").await;
    let held = hold(api, &alice, &show, json!({"seats": ["B1", "B2"]})).await;
    let hold_id = text(&held, "hold_id");

    // Bob can neither pay for, release nor sell Alice's hold.
    let paid_by_bob = start_payment(api, &bob, &show, &hold_id).await;
    assert_eq!(
        (paid_by_bob.status, paid_by_bob.code()),
        (StatusCode::NOT_FOUND, "hold_not_found")
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
    assert_eq!(released.status, StatusCode::NOT_FOUND);
    let counter = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &bob,
            &json!({"payment_reference": "x", "amount": {"amount_minor": 9000, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(counter.status, StatusCode::FORBIDDEN);

    let payment = start_payment(api, &alice, &show, &hold_id).await;
    assert_eq!(payment.status, StatusCode::CREATED);
    press(api, &text(&payment, "pay_url"), "succeed").await;
    let history = history_until(api, &alice, |o| o["status"] == "paid").await;
    let order_id = history["orders"][0]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nor refund or exchange her order, nor see it.
    let refund = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/refunds"),
            &bob,
            &json!({}),
        )
        .await;
    assert_eq!(
        (refund.status, refund.code()),
        (StatusCode::NOT_FOUND, "order_not_found")
    );
    let exchange = api
        .post(
            &format!("/v1/shows/{show}/orders/{order_id}/exchanges"),
            &bob,
            &json!({"give_back": ["B1"], "take": ["B9"]}),
        )
        .await;
    assert_eq!(exchange.status, StatusCode::NOT_FOUND);
    let bobs = api.get("/v1/me/orders", Some(&bob)).await;
    assert_eq!(bobs.body["orders"], json!([]), "{bobs:?}");

    // Tokens signed with another key, or expired, are 401.
    let forged = boxoffice_api::auth::JwtKeys::new("another-secret-entirely-32-bytes!!").mint(
        "alice",
        &[Role::Customer],
        chrono::Duration::hours(1),
    );
    let expired = boxoffice_api::auth::JwtKeys::new(boxoffice_tests::server::JWT_SECRET).mint(
        "alice",
        &[Role::Customer],
        chrono::Duration::seconds(-120),
    );
    for token in [forged, expired, "not.a.token".to_owned()] {
        let mine = api.get("/v1/me/orders", Some(&token)).await;
        assert_eq!(
            (mine.status, mine.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
        let paid = start_payment(api, &token, &show, &hold_id).await;
        assert_eq!(paid.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_hundred_customers_race_for_a_code_with_ten_uses_and_exactly_ten_get_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(api, &staff, fixtures::show(11, 10), None).await;
    let now = chrono::Utc::now();
    let created = api
        .post(
            "/v1/promos",
            &staff,
            &json!({
                "code": "opening-night",
                "discount": {"percent": 20},
                "valid_from": now - chrono::Duration::hours(1),
                "valid_until": now + chrono::Duration::hours(1),
                "usage_limit": 10,
                "per_customer_limit": 1,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");

    let racers = (0..100).map(|n| {
        let api = api.clone();
        let show = show.clone();
        tokio::spawn(async move {
            let token = api.token(&format!("racer-{n}"), &[Role::Customer]);
            let row = char::from(b'B' + (n / 10) as u8);
            let seat = format!("{row}{}", n % 10 + 1);
            let reply = hold(
                &api,
                &token,
                &show,
                json!({"seats": [seat], "promo_code": "OPENING-NIGHT"}),
            )
            .await;
            (reply, token)
        })
    });
    let mut discounted = Vec::new();
    let mut used_up = 0;
    for racer in futures_util::future::join_all(racers).await {
        let (reply, token) = racer.unwrap();
        match reply.status {
            StatusCode::CREATED => {
                assert_eq!(reply.body["total"]["amount_minor"], 3600, "20% off 45.00");
                assert_eq!(reply.body["discount"]["amount"]["amount_minor"], 900);
                discounted.push((text(&reply, "hold_id"), token));
            }
            StatusCode::CONFLICT if reply.code() == "promo_used_up" => used_up += 1,
            other => panic!("unexpected {other}: {reply:?}"),
        }
    }
    assert_eq!(
        discounted.len(),
        10,
        "exactly the usage limit got the discount"
    );
    assert_eq!(used_up, 90);
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM events WHERE event_type = 'PromoRedeemed'"
        )
        .await,
        10
    );

    // Releasing a discounted hold gives its use back; the next customer gets it.
    let (hold_id, token) = &discounted[0];
    let released = api
        .send(
            Method::DELETE,
            &format!("/v1/shows/{show}/holds/{hold_id}"),
            Some(token),
            None,
            &[],
        )
        .await;
    assert_eq!(released.status, StatusCode::OK);
    let started = Instant::now();
    loop {
        let promo = api.get("/v1/promos/opening-night", Some(&staff)).await;
        if promo.body["uses"] == 9 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the use never came back: {promo:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let late = api.token("late-comer", &[Role::Customer]);
    // A hold that cannot be made keeps no use...
    let refused = hold(
        api,
        &late,
        &show,
        json!({"seats": ["Z1"], "promo_code": "opening-night"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let promo = api.get("/v1/promos/opening-night", Some(&staff)).await;
    assert_eq!(promo.body["uses"], 9, "{promo:?}");
    // ...and the use that came back goes to the next customer: 20% off 80.00.
    let again = hold(
        api,
        &late,
        &show,
        json!({"seats": ["A1"], "promo_code": "opening-night"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    assert_eq!(again.body["total"]["amount_minor"], 6400);
}

#[tokio::test]
async fn a_payment_after_the_hold_lapsed_buys_free_seats_or_is_refunded_automatically() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(api, &staff, fixtures::show(2, 10), None).await;
    let alice = api.token("alice", &[Role::Customer]);
    let carol = api.token("carol", &[Role::Customer]);
    let bob = api.token("bob", &[Role::Customer]);

    let alices = hold(api, &alice, &show, json!({"seats": ["B1", "B2"]})).await;
    let alice_pays = start_payment(api, &alice, &show, &text(&alices, "hold_id")).await;
    let carols = hold(api, &carol, &show, json!({"seats": ["B7"]})).await;
    let carol_pays = start_payment(api, &carol, &show, &text(&carols, "hold_id")).await;
    assert_eq!(alice_pays.status, StatusCode::CREATED);
    assert_eq!(carol_pays.status, StatusCode::CREATED);

    // Both holds lapse (5 minutes and the grace); Bob buys B2 at the counter.
    clock.advance(chrono::Duration::minutes(6));
    let bobs = hold(api, &bob, &show, json!({"seats": ["B2"]})).await;
    assert_eq!(bobs.status, StatusCode::CREATED, "{bobs:?}");
    let sold = api
        .post(
            &format!("/v1/shows/{show}/holds/{}/confirm", text(&bobs, "hold_id")),
            &staff,
            &json!({"payment_reference": "counter-1", "amount": bobs.body["total"]}),
        )
        .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{sold:?}");

    // Alice pays late: B2 is gone, so the payment is refused and refunded in full.
    let (status, page) = press(api, &text(&alice_pays, "pay_url"), "succeed").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let history = history_until(api, &alice, |o| {
        kinds(o).first().map(String::as_str) == Some("refund_paid_out")
    })
    .await;
    let order = &history["orders"][0];
    assert_eq!(order["status"], "refunded");
    assert_eq!(order["order_id"], Value::Null);
    assert_eq!(order["refunded"]["amount_minor"], 9000);
    assert_eq!(
        kinds(order)[..3],
        ["refund_paid_out", "payment_refused", "payment_succeeded"]
    );
    let refused = &order["timeline"][1]["detail"];
    assert_eq!(refused["reason"], "seats_taken");
    assert_eq!(refused["unavailable_seats"], json!(["B2"]));
    assert!(refused["detail"]
        .as_str()
        .unwrap()
        .contains("sold to someone else"));
    assert_eq!(
        count(
            &server,
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_refunds"
        )
        .await,
        9000
    );

    // Carol pays late too, but B7 is still free: she gets it.
    let (status, _) = press(api, &text(&carol_pays, "pay_url"), "succeed").await;
    assert_eq!(status, StatusCode::OK);
    let history = history_until(api, &carol, |o| o["status"] == "paid").await;
    assert_eq!(kinds(&history["orders"][0])[0], "paid_after_expiry");
    // B2 to Bob, B7 to Carol.
    seat_map_until(api, &show, |m| m["counts"]["sold"] == 2).await;
}

#[tokio::test]
async fn cancelling_a_show_refunds_every_paid_order_in_full_through_the_provider() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = schedule(
        api,
        &staff,
        fixtures::show(2, 10),
        Some(json!({"full_refund_until_minutes": 600, "fee_percent": 50})),
    )
    .await;
    for (who, seat) in [("alice", "B1"), ("bob", "B2")] {
        let token = api.token(who, &[Role::Customer]);
        let held = hold(api, &token, &show, json!({"seats": [seat]})).await;
        let payment = start_payment(api, &token, &show, &text(&held, "hold_id")).await;
        press(api, &text(&payment, "pay_url"), "succeed").await;
        history_until(api, &token, |o| o["status"] == "paid").await;
    }
    let cancelled = api
        .post(
            &format!("/v1/shows/{show}/cancel"),
            &staff,
            &json!({"reason": "projector broken"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    for who in ["alice", "bob"] {
        let token = api.token(who, &[Role::Customer]);
        let history = history_until(api, &token, |o| {
            kinds(o).first().map(String::as_str) == Some("refund_paid_out")
        })
        .await;
        let order = &history["orders"][0];
        assert_eq!(order["status"], "refunded");
        assert_eq!(order["refunded"]["amount_minor"], 4500, "in full, no fee");
        assert_eq!(order["timeline"][1]["detail"]["reason"], "show_cancelled");
    }
    assert_eq!(
        count(
            &server,
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_refunds"
        )
        .await,
        9000
    );
}

#[tokio::test]
async fn an_exchange_to_another_show_of_the_movie_moves_the_order_and_settles_the_difference() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("box-office-1", &[Role::Staff]);
    let movie = uuid::Uuid::new_v4();
    let mut evening = fixtures::show(2, 10);
    evening["movie_id"] = json!(movie);
    let mut late = fixtures::show_starting(2, 10, chrono::Utc::now() + chrono::Duration::hours(5));
    late["movie_id"] = json!(movie);
    let evening = schedule(api, &staff, evening, None).await;
    let late = schedule(api, &staff, late, None).await;
    let other_movie = schedule(api, &staff, fixtures::show(2, 10), None).await;
    let alice = api.token("alice", &[Role::Customer]);
    let held = hold(api, &alice, &evening, json!({"seats": ["B1", "B2"]})).await;
    let payment = start_payment(api, &alice, &evening, &text(&held, "hold_id")).await;
    press(api, &text(&payment, "pay_url"), "succeed").await;
    let history = history_until(api, &alice, |o| o["status"] == "paid").await;
    let order_id = history["orders"][0]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let transfers = format!("/v1/shows/{evening}/orders/{order_id}/transfers");

    // Another movie, or seats not in the order: refused; nothing is left held.
    let events = "SELECT count(*) FROM events";
    let before = count(&server, events).await;
    let wrong = api
        .post(
            &transfers,
            &alice,
            &json!({"give_back": ["B1"], "to_show_id": other_movie, "take": ["B1"]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong:?}");
    assert_eq!(
        count(&server, events).await,
        before,
        "a refused exchange wrote"
    );
    let foreign = api
        .post(
            &transfers,
            &alice,
            &json!({"give_back": ["B9"], "to_show_id": late, "take": ["A1"]}),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (StatusCode::CONFLICT, "seats_not_in_order")
    );
    let undone = server
        .db
        .client()
        .await
        .query(
            "SELECT event_type FROM events WHERE stream = $1 ORDER BY version",
            &[&format!("show-{late}")],
        )
        .await
        .unwrap();
    let undone: Vec<String> = undone.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        undone,
        ["ShowScheduled", "SeatsHeld", "HoldReleased"],
        "the new hold was undone"
    );

    // B1, B2 (2 x 45.00) for the later show's A1, A2 (2 x 80.00): 70.00 more.
    let moved = api
        .post(
            &transfers,
            &alice,
            &json!({"give_back": ["B1", "B2"], "to_show_id": late, "take": ["A1", "A2"]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{moved:?}");
    assert_eq!(moved.body["credit"]["amount_minor"], 9000);
    assert_eq!(moved.body["charge"]["amount_minor"], 7000);
    assert_eq!(moved.body["seats"], json!(["A1", "A2"]));
    let history = history_until(api, &alice, |o| {
        kinds(o).first().map(String::as_str) == Some("charge_collected")
    })
    .await;
    let orders = history["orders"].as_array().unwrap();
    let new = orders.iter().find(|o| o["show_id"] == json!(late)).unwrap();
    let old = orders
        .iter()
        .find(|o| o["show_id"] == json!(evening))
        .unwrap();
    assert_eq!(new["status"], "exchanged");
    assert_eq!(new["order_id"], moved.body["order_id"]);
    assert_eq!(new["seats"], json!(["A1", "A2"]));
    assert_eq!(
        kinds(new)[..3],
        ["charge_collected", "exchanged_from_show", "paid"]
    );
    assert_eq!(old["status"], "exchanged");
    assert_eq!(old["seats"], json!([]));
    assert_eq!(kinds(old)[0], "exchanged_to_show");
    seat_map_until(api, &evening, |m| m["counts"]["sold"] == 0).await;
    seat_map_until(api, &late, |m| m["counts"]["sold"] == 2).await;
    assert_eq!(
        count(
            &server,
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_charges"
        )
        .await,
        7000
    );
    // The new order is an order like any other: refunding it pays back through the
    // original payment (9000 + 7000 paid there).
    let refund = api
        .post(
            &format!(
                "/v1/shows/{late}/orders/{}/refunds",
                text(&moved, "order_id")
            ),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{refund:?}");
    assert_eq!(refund.body["amount"]["amount_minor"], 16000);
    history_until(api, &alice, |o| {
        o["timeline"][0]["kind"] == "refund_paid_out"
            && o["timeline"][0]["detail"]["amount_minor"] == 16000
    })
    .await;
    let mut server = server;
    wait_for_projections(&server.db).await;
    server.stop().await;
    assert_read_models_equal_a_rebuild(&server.db).await;
}
