//! Paying through the provider (the built-in sandbox), refunds under a cinema's policy,
//! exchanges, promo codes and late payments, end to end over HTTP against a real database.

use boxoffice_api::auth::Role;
use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models::{assert_read_models_equal_a_rebuild, wait_for_projections};
use boxoffice_tests::server::{Api, TestServer};
use boxoffice_tests::wait::eventually;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const SANDBOX_SECRET: &str = "boxoffice-sandbox-secret";

/// The caller's orders once `ready` holds for the first (newest) one.
async fn history_until(api: &Api, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually("the order history gets there", async || {
        let orders = api.my_orders(token).await;
        let first = &orders.expect_ok()["orders"][0];
        if ready(first) {
            Ok(orders.body.clone())
        } else {
            Err(first.clone())
        }
    })
    .await
}

/// The show's seat map once the projector has it and `ready` holds for it.
async fn seat_map_until(api: &Api, show: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually("the seat map gets there", async || {
        let seats = api.seat_map(show).await;
        if seats.status == StatusCode::OK && ready(&seats.body) {
            Ok(seats.body)
        } else {
            Err(seats)
        }
    })
    .await
}

/// The kinds of an order's timeline, newest first.
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

/// Whether the newest entry of an order's timeline is of `kind`.
fn latest_is(order: &Value, kind: &str) -> bool {
    order["timeline"][0]["kind"] == kind
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

const EVENTS: &str = "SELECT count(*) FROM events";
const REFUNDED: &str = "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_refunds";
const CHARGED: &str = "SELECT coalesce(sum(amount_minor), 0)::bigint FROM sandbox_charges";

/// A customer with an account: registered, then logged in; their access token.
async fn customer(api: &Api, email: &str) -> String {
    let password = "correct horse 电池 staple";
    api.register(email, password, "李雷").await.expect_created();
    let login = api.login(email, password).await;
    login.expect_ok();
    login.text("access_token").to_owned()
}

/// `token` holds `seats` and pays for them through the sandbox; the order's id once the
/// order history says it is paid.
async fn paid_order(api: &Api, token: &str, show: &str, seats: &[&str]) -> String {
    let hold_id = api.hold_seats(token, show, seats).await.created("hold_id");
    let payment = api.start_payment(token, show, &hold_id, "alipay").await;
    let paid = api
        .press_in_sandbox(&payment.created("pay_url"), "succeed")
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.html);
    let history = history_until(api, token, |o| o["status"] == "paid").await;
    history["orders"][0]["order_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_customer_registers_pays_through_the_sandbox_refunds_part_and_exchanges() {
    let server = TestServer::start().await;
    let api = &server.api;
    // Starts in 2 hours; the full refund ends 3 hours before, so returns now cost 10%.
    let show = api
        .scheduled_show(&fixtures::show_with_refund_policy(3, 10, 180, 10))
        .await;
    let customer = customer(api, "li.lei@example.cn").await;

    // Hold: three regular seats, 45.00 each.
    let held = api.hold_seats(&customer, &show, &["B1", "B2", "B3"]).await;
    let hold_id = held.created("hold_id");
    let history = history_until(api, &customer, |o| o["hold_id"] == hold_id).await;
    assert_eq!(history["orders"][0]["status"], "held");
    assert_eq!(history["orders"][0]["total"]["amount_minor"], 13500);
    assert_eq!(kinds(&history["orders"][0]), ["held"]);

    // Pay: the server answers the sandbox's pay URL.
    let payment = api
        .start_payment(&customer, &show, &hold_id, "alipay")
        .await;
    assert_eq!(payment.expect_created()["amount"]["amount_minor"], 13500);
    let pay_url = payment.text("pay_url");
    assert!(pay_url.ends_with(&format!("/sandbox/pay/{}", payment.text("payment_id"))));
    let page = api.http().get(pay_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("13500 minor units of CNY") && page.contains(r#"value="succeed""#));
    let history = history_until(api, &customer, |o| o["payment_status"] == "pending").await;
    assert_eq!(kinds(&history["orders"][0]), ["payment_started", "held"]);

    // The customer pays; the sandbox notifies the server, signed; the hold is an order.
    let page = api.press_in_sandbox(pay_url, "succeed").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("Payment succeeded") && page.html.contains("answer 200"),
        "{}",
        page.html
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
    let again = api.press_in_sandbox(pay_url, "succeed").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a payment is paid once");

    // Before refunding, the customer asks what a refund of B3 would pay back: the show's own
    // rule decides it (45.00 paid, 4.50 kept), and asking writes nothing.
    let quote_path = format!("/v1/shows/{show}/orders/{order_id}/refunds/quote");
    let quote = api
        .request(reqwest::Method::GET, &quote_path)
        .token(&customer)
        .query("seats", "B3")
        .send()
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{:?}", quote.body);
    assert_eq!(quote.body["seats"], json!(["B3"]));
    assert_eq!(quote.body["paid"], json!(cny(4500)));
    assert_eq!(quote.body["fee"], json!(cny(450)));
    assert_eq!(quote.body["amount"], json!(cny(4050)));
    let whole = api
        .request(reqwest::Method::GET, &quote_path)
        .token(&customer)
        .send()
        .await;
    assert_eq!(
        whole.body["amount"]["amount_minor"],
        3 * 4050,
        "no seats: the whole order"
    );
    let not_in_order = api
        .request(reqwest::Method::GET, &quote_path)
        .token(&customer)
        .query("seats", "A9")
        .send()
        .await;
    assert_eq!(not_in_order.status, StatusCode::CONFLICT);
    assert_eq!(not_in_order.code(), "seats_not_in_order");
    let stranger = crate::customer(api, "stranger@example.cn").await;
    let theirs = api
        .request(reqwest::Method::GET, &quote_path)
        .token(&stranger)
        .query("seats", "B3")
        .send()
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "someone else's order");
    let history = history_until(api, &customer, |o| o["status"] == "paid").await;
    assert_eq!(
        history["orders"][0]["refunded"]["amount_minor"], 0,
        "a quote refunds nothing"
    );

    // A partial refund, under the policy: 45.00 less the 10% fee.
    let refund = api.refund_seats(&customer, &show, &order_id, &["B3"]).await;
    assert_eq!(refund.expect_created()["amount"]["amount_minor"], 4050);
    let history = history_until(api, &customer, |o| latest_is(o, "refund_paid_out")).await;
    let order = &history["orders"][0];
    assert_eq!(order["status"], "partially_refunded");
    assert_eq!(order["seats"], json!(["B1", "B2"]));
    assert_eq!(order["refunded_seats"], json!(["B3"]));
    assert_eq!(order["refunded"]["amount_minor"], 4050);
    assert_eq!(order["fees"]["amount_minor"], 450);
    assert_eq!(order["timeline"][1]["detail"]["fee_minor"], 450);
    assert_eq!(
        count(&server, REFUNDED).await,
        4050,
        "the provider paid the refund back"
    );

    // Exchange B2 for A5, a premium seat (80.00): 35.00 more, charged through the payment.
    let exchanged = api
        .exchange_seats(&customer, &show, &order_id, &["B2"], &["A5"])
        .await;
    assert_eq!(exchanged.expect_created()["charge"]["amount_minor"], 3500);
    assert_eq!(exchanged.body["refund"]["amount_minor"], 0);
    let history = history_until(api, &customer, |o| latest_is(o, "charge_collected")).await;
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
    let seats = api.seat_map(&show).min_position(exchanged.position()).await;
    assert_eq!(seats.seat("A5")["status"], "sold");
    assert_eq!(seats.seat("B2")["status"], "available");
    assert_eq!(count(&server, CHARGED).await, 3500);
    // Exchanging back to a cheaper seat refunds the difference, without a fee.
    let back = api
        .exchange_seats(&customer, &show, &order_id, &["A5"], &["C7"])
        .await;
    assert_eq!(back.expect_created()["refund"]["amount_minor"], 3500);
    let history = history_until(api, &customer, |o| {
        latest_is(o, "refund_paid_out") && o["timeline"][0]["detail"]["amount_minor"] == 3500
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
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = api.customer("alice");
    let hold_id = api
        .hold_seats(&alice, &show, &["B1"])
        .await
        .created("hold_id");
    let payment = api.start_payment(&alice, &show, &hold_id, "alipay").await;
    let payment_id = payment.created("payment_id");
    let before = count(&server, EVENTS).await;

    let body = json!({
        "event_id": "forged-1", "payment_id": payment_id, "status": "succeeded",
        "amount": cny(4500), "detail": "",
        "occurred_at": chrono::Utc::now(),
    })
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let sign = |secret: &str, timestamp: i64| {
        boxoffice_api::sandbox::sign(secret, timestamp, body.as_bytes())
    };
    // Signed with another secret, with no signature, over another body, or too old.
    let old = now - 3600;
    let tampered = body.replace("4500", "1");
    for (timestamp, signature, body) in [
        (now, sign("not-the-sandbox-secret", now), &body),
        (now, String::new(), &body),
        (now, sign(SANDBOX_SECRET, now), &tampered),
        (old, sign(SANDBOX_SECRET, old), &body),
    ] {
        api.notify_payment(timestamp, &signature, body)
            .await
            .expect_problem(401, "invalid_signature");
    }
    assert_eq!(
        count(&server, EVENTS).await,
        before,
        "a forgery wrote to the log"
    );
    let seats = seat_map_until(api, &show, |_| true).await;
    assert_eq!(seats["counts"]["sold"], 0);

    // The real notification, sent by the sandbox, and then delivered again verbatim.
    let page = api
        .press_in_sandbox(payment.text("pay_url"), "succeed")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
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
    let after_first = count(&server, EVENTS).await;
    let replay = || api.notify_payment(sent.get(0), sent.get(1), sent.get(2));
    let replayed = replay().await;
    let replayed_again = replay().await;
    assert_eq!(replayed.expect_ok()["status"], "succeeded");
    assert!(replayed.body["order_id"].is_string());
    assert_eq!(
        replayed.body, replayed_again.body,
        "the same answer each time"
    );
    assert_eq!(
        count(&server, EVENTS).await,
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

#[tokio::test]
async fn customers_cannot_touch_each_others_holds_payments_or_orders_and_bad_tokens_are_401() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = customer(api, "alice@example.cn").await;
    let bob = customer(api, "bob@example.cn").await;
    let hold_id = api
        .hold_seats(&alice, &show, &["B1", "B2"])
        .await
        .created("hold_id");

    // Bob can neither pay for, release nor sell Alice's hold.
    api.start_payment(&bob, &show, &hold_id, "alipay")
        .await
        .expect_problem(404, "hold_not_found");
    api.release_hold(&bob, &show, &hold_id)
        .await
        .expect_problem(404, "hold_not_found");
    api.confirm_hold(&bob, &show, &hold_id, "x", &cny(9000))
        .await
        .expect_problem(403, "forbidden");

    let payment = api.start_payment(&alice, &show, &hold_id, "alipay").await;
    let payment_id = payment.created("payment_id");
    // Before the provider says anything, Alice's payment is pending.
    let pending = api
        .my_payment(&alice, &payment_id)
        .min_position(payment.position())
        .await;
    assert_eq!(pending.expect_ok()["status"], "pending", "{pending}");
    assert_eq!(pending.body["hold_id"], hold_id.as_str());
    assert_eq!(pending.body["order_id"], Value::Null);
    assert_eq!(pending.body["method"], "alipay");
    api.press_in_sandbox(&payment.created("pay_url"), "succeed")
        .await;
    let history = history_until(api, &alice, |o| o["status"] == "paid").await;
    let order_id = history["orders"][0]["order_id"].as_str().unwrap();
    // Then it succeeded, took the order's total, paid nothing back, and names the order.
    let paid = api.my_payment(&alice, &payment_id).await;
    assert_eq!(paid.expect_ok()["status"], "succeeded", "{paid}");
    assert_eq!(paid.body["order_id"], order_id);
    assert_eq!(paid.body["amount"], history["orders"][0]["total"]);
    assert_eq!(paid.body["refunded"]["amount_minor"], 0);
    let steps: Vec<&str> = paid.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["payment_succeeded", "payment_started"]);
    api.my_payment(&bob, &payment_id)
        .await
        .expect_problem(404, "payment_not_found");
    // The staff desk finds the purchase by its payment.
    let found = api
        .find_orders(&api.staff(), "payment_id", &payment_id)
        .await;
    assert_eq!(found.expect_ok()["orders"][0]["order_id"], order_id);
    assert_eq!(found.body["orders"].as_array().unwrap().len(), 1);
    api.my_payment(&alice, &hold_id)
        .await
        .expect_problem(404, "payment_not_found");
    api.my_payment(&alice, "not-a-uuid")
        .await
        .expect_problem(400, "invalid_path");

    // Nor refund or exchange her order, nor see it.
    api.refund_order(&bob, &show, order_id)
        .json(&json!({}))
        .await
        .expect_problem(404, "order_not_found");
    api.exchange_seats(&bob, &show, order_id, &["B1"], &["B9"])
        .await
        .expect_problem(404, "order_not_found");
    let bobs = api.my_orders(&bob).await;
    assert_eq!(bobs.body["orders"], json!([]), "{bobs}");
    api.my_order(&bob, order_id)
        .await
        .expect_problem(404, "order_not_found");
    api.my_hold(&bob, &hold_id)
        .await
        .expect_problem(404, "hold_not_found");

    // Alice reads her order one at a time, by the order or by its hold: the same as in her
    // history, with the position it reflects.
    let mut mine = history["orders"][0].clone();
    for one in [
        api.my_order(&alice, order_id).await,
        api.my_hold(&alice, &hold_id).await,
    ] {
        let mut one = one.expect_ok().clone();
        assert!(one["position"].is_string(), "{one}");
        one.as_object_mut().unwrap().remove("position");
        mine.as_object_mut().unwrap().remove("position");
        assert_eq!(one, mine);
        assert_eq!(one["status"], "paid");
        assert_eq!(one["hold_id"], hold_id.as_str());
    }
    api.my_order(&alice, &hold_id)
        .await
        .expect_problem(404, "order_not_found");
    api.my_hold(&alice, "not-a-uuid")
        .await
        .expect_problem(400, "invalid_path");

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
        api.my_orders(&token)
            .await
            .expect_problem(401, "unauthorized");
        api.start_payment(&token, &show, &hold_id, "alipay")
            .await
            .expect_problem(401, "unauthorized");
    }
}

#[tokio::test]
async fn a_hundred_customers_race_for_a_code_with_ten_uses_and_exactly_ten_get_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let show = api.scheduled_show(&fixtures::show(11, 10)).await;
    let now = chrono::Utc::now();
    api.create_promo(
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
    .await
    .expect_created();

    let racers = (0..100).map(|n| {
        let api = api.clone();
        let show = show.clone();
        tokio::spawn(async move {
            let token = api.customer(&format!("racer-{n}"));
            let row = char::from(b'B' + (n / 10) as u8);
            let seat = format!("{row}{}", n % 10 + 1);
            let reply = api
                .hold_seats_with_code(&token, &show, &[seat], "OPENING-NIGHT")
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
                discounted.push((reply.text("hold_id").to_owned(), token));
            }
            StatusCode::CONFLICT => {
                reply.expect_problem(409, "promo_used_up");
                used_up += 1;
            }
            other => panic!("unexpected {other}: {reply}"),
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
    api.release_hold(token, &show, hold_id).await.expect_ok();
    eventually("the released hold's use comes back", async || {
        let promo = api.promo(&staff, "opening-night").await;
        if promo.body["uses"] == 9 {
            Ok(())
        } else {
            Err(promo)
        }
    })
    .await;
    let late = api.customer("late-comer");
    // A hold that cannot be made keeps no use...
    api.hold_seats_with_code(&late, &show, &["Z1"], "opening-night")
        .await
        .expect_problem(422, "validation_failed");
    let promo = api.promo(&staff, "opening-night").await;
    assert_eq!(promo.body["uses"], 9, "{promo}");
    // ...and the use that came back goes to the next customer: 20% off 80.00.
    let again = api
        .hold_seats_with_code(&late, &show, &["A1"], "opening-night")
        .await;
    assert_eq!(again.expect_created()["total"]["amount_minor"], 6400);
}

#[tokio::test]
async fn a_payment_after_the_hold_lapsed_buys_free_seats_or_is_refunded_automatically() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let staff = api.staff();
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = api.customer("alice");
    let carol = api.customer("carol");
    let bob = api.customer("bob");

    let alices = api.hold_seats(&alice, &show, &["B1", "B2"]).await;
    let alice_pays = api
        .start_payment(&alice, &show, alices.text("hold_id"), "alipay")
        .await;
    let carols = api.hold_seats(&carol, &show, &["B7"]).await;
    let carol_pays = api
        .start_payment(&carol, &show, carols.text("hold_id"), "alipay")
        .await;
    alice_pays.expect_created();
    carol_pays.expect_created();

    // Both holds lapse (5 minutes and the grace); Bob buys B2 at the counter.
    clock.advance(chrono::Duration::minutes(6));
    let bobs = api.hold_seats(&bob, &show, &["B2"]).await;
    let bobs_hold = bobs.created("hold_id");
    api.confirm_hold(&staff, &show, &bobs_hold, "counter-1", &bobs.body["total"])
        .await
        .expect_created();

    // Alice pays late: B2 is gone, so the payment is refused and refunded in full.
    let page = api
        .press_in_sandbox(alice_pays.text("pay_url"), "succeed")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let history = history_until(api, &alice, |o| latest_is(o, "refund_paid_out")).await;
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
    assert_eq!(count(&server, REFUNDED).await, 9000);
    // Her payment says so too: refused, and paid back whole.
    let payment = api.my_payment(&alice, alice_pays.text("payment_id")).await;
    assert_eq!(payment.expect_ok()["status"], "refused", "{payment}");
    assert_eq!(payment.body["amount"]["amount_minor"], 9000);
    assert_eq!(payment.body["refunded"]["amount_minor"], 9000);
    assert_eq!(payment.body["order_id"], Value::Null);

    // Carol pays late too, but B7 is still free: she gets it.
    let page = api
        .press_in_sandbox(carol_pays.text("pay_url"), "succeed")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let history = history_until(api, &carol, |o| o["status"] == "paid").await;
    assert_eq!(kinds(&history["orders"][0])[0], "paid_after_expiry");
    // B2 to Bob, B7 to Carol.
    seat_map_until(api, &show, |m| m["counts"]["sold"] == 2).await;
}

#[tokio::test]
async fn cancelling_a_show_refunds_every_paid_order_in_full_through_the_provider() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let show = api
        .scheduled_show(&fixtures::show_with_refund_policy(2, 10, 600, 50))
        .await;
    for (who, seat) in [("alice", "B1"), ("bob", "B2")] {
        let token = api.customer(who);
        paid_order(api, &token, &show, &[seat]).await;
    }
    api.cancel_show(&staff, &show, "projector broken")
        .await
        .expect_ok();
    for who in ["alice", "bob"] {
        let token = api.customer(who);
        let history = history_until(api, &token, |o| latest_is(o, "refund_paid_out")).await;
        let order = &history["orders"][0];
        assert_eq!(order["status"], "refunded");
        assert_eq!(order["refunded"]["amount_minor"], 4500, "in full, no fee");
        assert_eq!(order["timeline"][1]["detail"]["reason"], "show_cancelled");
    }
    assert_eq!(count(&server, REFUNDED).await, 9000);
}

#[tokio::test]
async fn an_exchange_to_another_show_of_the_movie_moves_the_order_and_settles_the_difference() {
    let server = TestServer::start().await;
    let api = &server.api;
    let movie = uuid::Uuid::new_v4();
    let mut evening = fixtures::show(2, 10);
    evening["movie_id"] = json!(movie);
    let mut late = fixtures::show_starting(2, 10, chrono::Utc::now() + chrono::Duration::hours(5));
    late["movie_id"] = json!(movie);
    let evening = api.scheduled_show(&evening).await;
    let late = api.scheduled_show(&late).await;
    let other_movie = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = api.customer("alice");
    let order_id = paid_order(api, &alice, &evening, &["B1", "B2"]).await;
    // The server finds each show's movie in the seat-map read model: wait for it to have them.
    for show in [&late, &other_movie] {
        seat_map_until(api, show, |_| true).await;
    }
    let transfer = |give_back: &[&str], to_show: &str, take: &[&str]| {
        api.transfer_seats(&alice, &evening, &order_id, give_back, to_show, take)
    };

    // Another movie, or seats not in the order: refused; nothing is left held.
    let before = count(&server, EVENTS).await;
    transfer(&["B1"], &other_movie, &["B1"])
        .await
        .expect_status(422);
    assert_eq!(
        count(&server, EVENTS).await,
        before,
        "a refused exchange wrote"
    );
    transfer(&["B9"], &late, &["A1"])
        .await
        .expect_problem(409, "seats_not_in_order");
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
    let moved = transfer(&["B1", "B2"], &late, &["A1", "A2"]).await;
    assert_eq!(moved.expect_created()["credit"]["amount_minor"], 9000);
    assert_eq!(moved.body["charge"]["amount_minor"], 7000);
    assert_eq!(moved.body["seats"], json!(["A1", "A2"]));
    let history = history_until(api, &alice, |o| latest_is(o, "charge_collected")).await;
    let orders = history["orders"].as_array().unwrap();
    let new = orders.iter().find(|o| o["show_id"] == late).unwrap();
    let old = orders.iter().find(|o| o["show_id"] == evening).unwrap();
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
    assert_eq!(count(&server, CHARGED).await, 7000);
    // The new order is an order like any other: refunding it pays back through the
    // original payment (9000 + 7000 paid there).
    let refund = api
        .refund_order(&alice, &late, moved.text("order_id"))
        .json(&json!({}))
        .await;
    assert_eq!(refund.expect_created()["amount"]["amount_minor"], 16000);
    history_until(api, &alice, |o| {
        latest_is(o, "refund_paid_out") && o["timeline"][0]["detail"]["amount_minor"] == 16000
    })
    .await;
    let mut server = server;
    wait_for_projections(&server.db).await;
    server.stop().await;
    assert_read_models_equal_a_rebuild(&server.db).await;
}

/// A client names where the pay page sends the customer back. An allowed origin (configured,
/// or the server's own) gets them there, with the payment's id and outcome in the query;
/// any other return URL is refused and writes nothing.
#[tokio::test]
async fn the_pay_page_sends_the_customer_back_to_an_allowed_return_url_only() {
    let server = TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.payments.return_origins = vec!["https://app.example.cn".into()];
    })
    .await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = api.customer("alice");
    let hold_id = api
        .hold_seats(&alice, &show, &["A1"])
        .await
        .created("hold_id");
    let start = |return_url: &str| {
        api.start_payment(&alice, &show, &hold_id, "alipay")
            .json(&json!({ "method": "alipay", "return_url": return_url }))
    };

    let before = count(&server, EVENTS).await;
    let too_long = format!("https://app.example.cn/{}", "x".repeat(2100));
    for refused in [
        "https://evil.example.com/paid",
        "https://app.example.cn.evil.com/paid",
        "http://app.example.cn/paid",
        "https://app.example.cn:8443/paid",
        "javascript:alert(1)",
        "/relative/path",
        "not a url",
        too_long.as_str(),
    ] {
        let answer = start(refused).await;
        answer.expect_problem(422, "validation_failed");
        assert_eq!(answer.invalid_fields(), ["return_url"], "{refused}");
    }
    assert_eq!(
        count(&server, EVENTS).await,
        before,
        "a refused start wrote to the log"
    );

    let started = start("https://app.example.cn/orders/done?lang=zh").await;
    let pay_url = started.created("pay_url");
    let payment_id = started.text("payment_id").to_owned();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pressed = browser
        .post(&pay_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("outcome=succeed")
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pressed.headers()["location"].to_str().unwrap(),
        format!(
            "https://app.example.cn/orders/done?lang=zh&payment_id={payment_id}&status=succeeded"
        )
    );
    // Coming to the pay page again, the customer finds the way back too.
    let page = browser
        .get(&pay_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "href=\"https://app.example.cn/orders/done?lang=zh&amp;payment_id={payment_id}&amp;status=succeeded\""
        )),
        "{page}"
    );
    // The sandbox notified the server before it answered: the payment is done.
    eventually("the payment succeeded", async || {
        let payment = api.my_payment(&alice, &payment_id).await;
        match payment.body["status"] == "succeeded" {
            true => Ok(()),
            false => Err(payment.to_string()),
        }
    })
    .await;

    // The server's own origin is always one (its own web app); without a return URL the
    // pay page answers itself, as before.
    let bobs = api.hold_seats(&api.customer("bob"), &show, &["A2"]).await;
    let own = api
        .start_payment(&api.customer("bob"), &show, bobs.text("hold_id"), "alipay")
        .json(&json!({ "method": "alipay", "return_url": format!("{}/app/paid", api.base()) }))
        .await;
    own.expect_created();
}
