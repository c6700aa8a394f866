//! Outbound webhooks end to end: a real receiver on loopback is sent every event it asked
//! for, signed, in order per show, at least once, though it dies in the middle of a
//! delivery and the server itself is killed with SIGKILL while deliveries wait; and the
//! admin routes refuse what they must and write nothing then.

use boxoffice_api::auth::Role;
use boxoffice_tests::fixtures;
use boxoffice_tests::read_models::wait_for_projections;
use boxoffice_tests::receiver::{Inbox, Received, Receiver};
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::eventually;
use boxoffice_webhooks::{kinds, signature};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `who` holds `seats` and the box office sells them: the order id and the sale's position.
async fn sold(api: &Api, who: &str, show: &str, seats: &[&str]) -> (String, String) {
    let held = api.hold_seats(who, show, seats).await;
    let hold = held.created("hold_id");
    let paid = api
        .confirm_hold(&api.staff(), show, &hold, "counter-1", &held.body["total"])
        .await;
    (paid.created("order_id"), paid.position().to_owned())
}

/// The events of `show`'s stream a webhook sends: (version, event id, type).
async fn sendable(api: &Api, show: &str) -> Vec<(u64, String, String)> {
    let stream = api.show_stream(&api.auditor(), show).await;
    stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                e["type"].as_str().unwrap(),
                "HoldConfirmed"
                    | "OrderRefunded"
                    | "SeatsExchanged"
                    | "OrderTransferredIn"
                    | "TicketsCheckedIn"
                    | "ShowCancelled"
                    | "WaitlistOffered"
            )
        })
        .map(|e| {
            (
                e["version"].as_u64().unwrap(),
                e["event_id"].as_str().unwrap().to_owned(),
                e["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn received_at(inbox: &Inbox, path: &str) -> Vec<Received> {
    inbox
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == path)
        .cloned()
        .collect()
}

/// The distinct event ids `received` carried, in the order each first arrived.
fn first_arrivals(received: &[Received]) -> Vec<String> {
    let mut seen = Vec::new();
    for request in received {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let event_id = body["data"]["event"]["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        if !seen.contains(&event_id) {
            seen.push(event_id);
        }
    }
    seen
}

#[tokio::test]
async fn every_event_reaches_a_receiver_that_dies_mid_delivery_in_order_though_the_server_is_killed(
) {
    let db = boxoffice_tests::TestDatabase::create().await;
    // Retries at most a second apart, so the test is not kept waiting by the backoff; the
    // fixtures' shows start in two hours, so the doors must open earlier than that.
    let env = [
        ("BOXOFFICE_WEBHOOK_MAX_RETRY_SECONDS", "1"),
        ("BOXOFFICE_DOORS_OPEN_MINUTES", "180"),
    ];
    let server = BinaryServer::start_with_env(&db, free_port(), &env).await;
    let api = server.api.clone();
    let admin = api.admin();
    let port = free_port();
    let inbox = Inbox::default();
    // The third request it is sent, it takes and never answers: it dies with it in hand.
    let receiver = Receiver::start(port, inbox.clone(), Some(3)).await;
    let every = api
        .register_webhook(&admin, &format!("http://127.0.0.1:{port}/all"), &kinds::ALL)
        .await;
    let every = every.expect_created().clone();
    let secret = every["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{every}");
    let cancellations = api
        .register_webhook(
            &admin,
            &format!("http://127.0.0.1:{port}/cancellations"),
            &["show.cancelled"],
        )
        .await;
    let cancellations = cancellations.expect_created().clone();
    assert_ne!(cancellations["secret"], every["secret"]);

    let one = api.scheduled_show(&fixtures::show(2, 10)).await;
    let two = api.scheduled_show(&fixtures::show(2, 10)).await;
    let alice = api.customer("alice");
    let (alice_order, _) = sold(&api, &alice, &one, &["A1", "A2"]).await;
    for (n, who) in ["bob", "carol", "dave"].iter().enumerate() {
        let seat = format!("A{}", n + 1);
        sold(&api, &api.customer(who), &two, &[&seat]).await;
        let seat = format!("B{}", n + 1);
        sold(&api, &api.customer(who), &one, &[&seat]).await;
    }
    eventually("the receiver takes its third delivery", async || {
        let got = received_at(&inbox, "/all").len();
        if got >= 3 {
            Ok(())
        } else {
            Err(format!("{got} requests"))
        }
    })
    .await;
    receiver.kill().await;

    // While nobody listens: a refund, an exchange and a check-in on show one.
    api.refund_seats(&alice, &one, &alice_order, &["A2"])
        .await
        .expect_created();
    api.exchange_seats(&alice, &one, &alice_order, &["A1"], &["A5"])
        .await
        .expect_created();
    let (eve_order, sale) = sold(&api, &api.customer("eve"), &one, &["B9"]).await;
    let tickets = api
        .order_tickets(&api.customer("eve"), &eve_order)
        .min_position(&sale)
        .await;
    let code = tickets.text("pickup_code").to_owned();
    let door = api.token("door-1", &[Role::Door]);
    api.check_in_code(&door, &one, &code, "north")
        .await
        .expect_created();

    // The server dies with those deliveries waiting, and comes back.
    server.kill();
    let server = BinaryServer::start_with_env(&db, free_port(), &env).await;
    let api = server.api.clone();
    api.cancel_show(&api.staff(), &two, "the projector broke")
        .await
        .expect_ok();
    let receiver = Receiver::start(port, inbox.clone(), None).await;

    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut types = BTreeSet::new();
    for show in [&one, &two] {
        for (_, event_id, event_type) in sendable(&api, show).await {
            types.insert(event_type);
            expected.entry(show.clone()).or_default().push(event_id);
        }
    }
    assert_eq!(
        types,
        BTreeSet::from(
            [
                "HoldConfirmed",
                "OrderRefunded",
                "SeatsExchanged",
                "TicketsCheckedIn",
                "ShowCancelled"
            ]
            .map(String::from)
        ),
        "the scene makes each of these kinds"
    );
    let wanted: usize = expected.values().map(Vec::len).sum();
    eventually("every event reaches the receiver", async || {
        let got = first_arrivals(&received_at(&inbox, "/all")).len();
        if got == wanted {
            Ok(())
        } else {
            Err(format!("{got} of {wanted} events"))
        }
    })
    .await;
    receiver.kill().await;

    let all = received_at(&inbox, "/all");
    let mut bodies: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for request in &all {
        let id = &request.headers["webhook-id"];
        let timestamp: i64 = request.headers["webhook-timestamp"].parse().unwrap();
        assert!(
            signature::verifies(
                &secret,
                id,
                timestamp,
                &request.body,
                &request.headers["webhook-signature"]
            ),
            "a request's signature does not verify: {request:?}"
        );
        let before = bodies.entry(id.clone()).or_insert(request.body.clone());
        assert_eq!(*before, request.body, "one delivery id, one body");
    }
    assert!(
        all.len() > wanted,
        "the delivery in hand when the receiver died is sent again: {} requests for {wanted} events",
        all.len()
    );
    assert_eq!(bodies.len(), wanted, "one delivery id per event");
    for (show, events) in &expected {
        let arrived: Vec<String> = first_arrivals(&all)
            .into_iter()
            .filter(|event| events.contains(event))
            .collect();
        assert_eq!(
            &arrived, events,
            "show {show}'s events first arrived in their stream's order"
        );
    }
    let alice_paid = all
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .find(|body| body["data"]["event"]["event_id"] == expected[&one][0].as_str());
    let body = alice_paid.expect("alice's sale arrived");
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"]["event"]["type"], "HoldConfirmed");
    assert_eq!(body["data"]["show_id"], one.as_str());
    assert_eq!(
        body["data"]["event"]["data"]["seats"],
        serde_json::json!(["A1", "A2"])
    );

    let cancelled = first_arrivals(&received_at(&inbox, "/cancellations"));
    let cancel_event = sendable(&api, &two)
        .await
        .into_iter()
        .find(|(_, _, t)| t == "ShowCancelled")
        .unwrap()
        .1;
    assert_eq!(cancelled, [cancel_event], "an endpoint gets only its kinds");

    // The admin sees each delivery and its attempts, the failed ones too.
    let webhook_id = every["webhook_id"].as_str().unwrap();
    let view = api.webhook(&admin, webhook_id).await;
    let view = view.expect_ok();
    assert_eq!(view["delivered"], wanted);
    assert_eq!(view["waiting"], 0);
    let deliveries = api.webhook_deliveries(&admin, webhook_id).await;
    let deliveries = deliveries.expect_ok()["deliveries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(deliveries.len(), wanted);
    assert!(deliveries.iter().all(|d| d["status"] == "delivered"));
    let failed: Vec<&Value> = deliveries
        .iter()
        .flat_map(|d| d["attempts"].as_array().unwrap())
        .filter(|a| a["status"].is_null())
        .collect();
    assert!(
        !failed.is_empty() && failed.iter().all(|a| a["error"].is_string()),
        "attempts that found nobody are recorded with their error: {deliveries:?}"
    );
}

#[tokio::test]
async fn webhook_routes_refuse_bad_requests_and_strangers_and_a_disabled_endpoint_gets_nothing() {
    let server = TestServer::start().await;
    let api = &server.api;
    let admin = api.admin();
    let good = "https://hooks.example.com/boxoffice";
    for (url, kinds, field) in [
        ("ftp://hooks.example.com/x", vec!["order.paid"], "url"),
        ("/relative/path", vec!["order.paid"], "url"),
        (
            "https://user:pw@hooks.example.com/x",
            vec!["order.paid"],
            "url",
        ),
        (
            "https://hooks.example.com/x#frag",
            vec!["order.paid"],
            "url",
        ),
        ("not a url", vec!["order.paid"], "url"),
        (good, vec![], "kinds"),
        (good, vec!["order.paid", "order.eaten"], "kinds[1]"),
    ] {
        let reply = api.register_webhook(&admin, url, &kinds).await;
        reply.expect_problem(422, "validation_failed");
        assert_eq!(reply.invalid_fields(), [field], "{url} {kinds:?}: {reply}");
    }
    let long = format!("https://hooks.example.com/{}", "x".repeat(2000));
    api.register_webhook(&admin, &long, &["order.paid"])
        .await
        .expect_problem(422, "validation_failed");
    api.register_webhook(&api.staff(), good, &["order.paid"])
        .await
        .expect_status(403);
    api.webhooks(&api.staff()).await.expect_status(403);
    let listed = api.webhooks(&admin).await;
    assert_eq!(
        listed.expect_ok(),
        &serde_json::json!([]),
        "nothing was written"
    );
    let access = api.stream_state(&api.auditor(), "access").await;
    assert!(
        !access.body.to_string().contains("hooks.example.com"),
        "nothing was recorded: {access}"
    );

    let made = api
        .register_webhook(&admin, good, &["order.paid", "order.paid"])
        .idempotency_key("hook-1")
        .await;
    let made = made.expect_created().clone();
    assert_eq!(made["kinds"], serde_json::json!(["order.paid"]));
    api.register_webhook(&admin, good, &["order.paid"])
        .idempotency_key("hook-1")
        .await
        .expect_problem(409, "duplicate_id");
    let id = made["webhook_id"].as_str().unwrap();
    let unknown = uuid::Uuid::new_v4().to_string();
    api.webhook(&admin, &unknown)
        .await
        .expect_problem(404, "not_found");
    api.disable_webhook(&admin, &unknown)
        .await
        .expect_problem(404, "not_found");
    api.webhook_deliveries(&admin, id)
        .query("limit", 0)
        .await
        .expect_problem(400, "invalid_query");
    api.webhook_deliveries(&admin, id)
        .query("status", "lost")
        .await
        .expect_status(400);

    let disabled = api.disable_webhook(&admin, id).await;
    assert!(disabled.expect_ok()["disabled_at"].is_string());
    let show = api.scheduled_show(&fixtures::show(1, 5)).await;
    sold(api, &api.customer("alice"), &show, &["A1"]).await;
    wait_for_projections(&server.db).await;
    let deliveries = api.webhook_deliveries(&admin, id).await;
    assert_eq!(
        deliveries.expect_ok()["deliveries"],
        serde_json::json!([]),
        "a disabled endpoint is made no deliveries"
    );
}
