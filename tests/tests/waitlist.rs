//! The waiting list over HTTP: offers in joining order, long-polling, restarts.

use boxoffice_api::auth::Role;
use boxoffice_tests::server::{free_port, Api, BinaryServer, Reply, TestServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A show of one regular row B (row A is the fixtures' premium row, sold out here by none).
async fn schedule(api: &Api, per_row: u32) -> String {
    let staff = api.token("box-office-1", &[Role::Staff]);
    let mut body = fixtures::show(2, per_row);
    // Only row B: drop the premium row A so every seat is alike.
    body["seats"] = json!(body["seats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["row"] == "B")
        .cloned()
        .collect::<Vec<_>>());
    let reply = api.post("/v1/shows", &staff, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["show_id"].as_str().unwrap().to_owned()
}

async fn join(api: &Api, who: &str, show: &str, count: u32) -> Reply {
    let token = api.token(who, &[Role::Customer]);
    let reply = api
        .post(
            &format!("/v1/shows/{show}/waitlist"),
            &token,
            &json!({ "count": count }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{who}: {reply:?}");
    reply
}

async fn entry(api: &Api, who: &str, show: &str, entry_id: &str, query: &str) -> Reply {
    let token = api.token(who, &[Role::Customer]);
    api.get(
        &format!("/v1/shows/{show}/waitlist/{entry_id}?{query}"),
        Some(&token),
    )
    .await
}

fn id(reply: &Reply, field: &str) -> String {
    reply.body[field].as_str().unwrap().to_owned()
}

async fn stream(api: &Api, show: &str) -> Vec<Value> {
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let reply = api
        .get(
            &format!("/v1/audit/streams/show-{show}?limit=1000"),
            Some(&auditor),
        )
        .await;
    reply.body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn seats_freed_go_to_the_queue_in_order_and_a_long_poll_sees_its_offer_at_once() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = schedule(api, 4).await;
    let alice = api.token("alice", &[Role::Customer]);
    let held = api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &alice,
            &json!({ "seats": ["B1", "B2", "B3", "B4"] }),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED);

    let bob = join(api, "bob", &show, 2).await;
    assert_eq!(bob.body["status"], "waiting");
    assert_eq!(bob.body["place"], 1);
    let carol = join(api, "carol", &show, 4).await;
    assert_eq!(carol.body["place"], 2);
    let dan = join(api, "dan", &show, 1).await;
    assert_eq!(dan.body["place"], 3);
    let again = api
        .post(
            &format!("/v1/shows/{show}/waitlist"),
            &api.token("bob", &[Role::Customer]),
            &json!({ "count": 1 }),
        )
        .await;
    assert_eq!(again.code(), "waitlist_entry_exists");
    assert_eq!(again.body["entry_id"], bob.body["entry_id"]);
    let bob_entry = id(&bob, "entry_id");
    let at = id(&dan, "position");

    // Bob follows his entry: nothing changes for a second...
    let quiet = entry(
        api,
        "bob",
        &show,
        &bob_entry,
        &format!("version=1&wait=1&min_position={at}"),
    )
    .await;
    assert_eq!(quiet.status, StatusCode::OK, "{quiet:?}");
    assert_eq!(quiet.body["status"], "waiting");
    assert_eq!(quiet.body["version"], 1);
    // ...then he waits up to 20 s while alice gives her seats back.
    let follower = {
        let api = api.clone();
        let (show, bob_entry) = (show.clone(), bob_entry.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let reply = entry(&api, "bob", &show, &bob_entry, "version=1&wait=20").await;
            (reply, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hold_id = id(&held, "hold_id");
    let released = api
        .send(
            Method::DELETE,
            &format!("/v1/shows/{show}/holds/{hold_id}"),
            Some(&alice),
            None,
            &[],
        )
        .await;
    assert_eq!(released.status, StatusCode::OK);
    let (offered, took) = follower.await.unwrap();
    assert!(took < Duration::from_secs(5), "the long poll took {took:?}");
    assert_eq!(offered.body["status"], "offered", "{offered:?}");
    assert_eq!(offered.body["offer"]["seats"].as_array().unwrap().len(), 2);

    // Bob got the centre pair; carol's four do not fit in what is left; dan, behind her,
    // wanting one seat, gets one.
    let carol_now = entry(
        api,
        "carol",
        &show,
        &id(&carol, "entry_id"),
        &format!("min_position={}", id(&released, "position")),
    )
    .await;
    assert_eq!(carol_now.body["status"], "waiting");
    assert_eq!(carol_now.body["place"], 1);
    let dan_now = entry(
        api,
        "dan",
        &show,
        &id(&dan, "entry_id"),
        &format!("min_position={}", id(&released, "position")),
    )
    .await;
    assert_eq!(dan_now.body["status"], "offered", "{dan_now:?}");
    assert_eq!(dan_now.body["offer"]["seats"].as_array().unwrap().len(), 1);

    // Bob and dan pay; carol can never get four seats now: her entry closes with the reason.
    let mut last = String::new();
    for followed in [&offered, &dan_now] {
        let staff = api.token("box-office-1", &[Role::Staff]);
        let offer = &followed.body["offer"];
        let hold = offer["hold_id"].as_str().unwrap();
        let paid = api
            .post(
                &format!("/v1/shows/{show}/holds/{hold}/confirm"),
                &staff,
                &json!({ "payment_reference": "p", "amount": offer["total"] }),
            )
            .await;
        assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
        last = id(&paid, "position");
    }
    let carol_end = entry(
        api,
        "carol",
        &show,
        &id(&carol, "entry_id"),
        &format!("min_position={last}"),
    )
    .await;
    assert_eq!(carol_end.body["status"], "cannot_be_met", "{carol_end:?}");
    let bob_end = entry(
        api,
        "bob",
        &show,
        &bob_entry,
        &format!("min_position={last}"),
    )
    .await;
    assert_eq!(bob_end.body["status"], "fulfilled");

    // Someone else's entry is a 404; leaving an ended entry is refused.
    let stranger = entry(api, "eve", &show, &bob_entry, "").await;
    assert_eq!(stranger.code(), "waitlist_entry_not_found");
    let bob_token = api.token("bob", &[Role::Customer]);
    let leave = api
        .send(
            Method::DELETE,
            &format!("/v1/shows/{show}/waitlist/{bob_entry}"),
            Some(&bob_token),
            None,
            &[],
        )
        .await;
    assert_eq!(leave.code(), "waitlist_entry_ended");
}

#[tokio::test]
async fn fifty_customers_are_offered_freed_seats_in_exactly_the_order_they_joined() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = schedule(api, 100).await;
    // Sold out: fifty holders of two seats each.
    let mut holds = Vec::new();
    for n in 0..50 {
        let token = api.token(&format!("holder-{n}"), &[Role::Customer]);
        let seats = [format!("B{}", 2 * n + 1), format!("B{}", 2 * n + 2)];
        let held = api
            .post(
                &format!("/v1/shows/{show}/holds"),
                &token,
                &json!({ "seats": seats }),
            )
            .await;
        assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
        holds.push((token, id(&held, "hold_id")));
    }
    let mut joined = Vec::new();
    for n in 0..50 {
        let reply = join(api, &format!("waiter-{n}"), &show, 2).await;
        assert_eq!(reply.body["place"], n + 1);
        joined.push(id(&reply, "entry_id"));
    }
    // Holds given back one block at a time, in an order unrelated to the queue.
    for k in 0..50usize {
        let (token, hold) = &holds[(k * 17) % 50];
        let released = api
            .send(
                Method::DELETE,
                &format!("/v1/shows/{show}/holds/{hold}"),
                Some(token),
                None,
                &[],
            )
            .await;
        assert_eq!(released.status, StatusCode::OK, "{released:?}");
    }
    let offered: Vec<String> = stream(api, &show)
        .await
        .iter()
        .filter(|e| e["type"] == "WaitlistOffered")
        .map(|e| e["data"]["entry_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(offered, joined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_lapsed_holds_expire_and_the_queue_is_served_in_order() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let env = [
        ("BOXOFFICE_HOLD_TTL_SECONDS", "1"),
        ("BOXOFFICE_EXPIRY_GRACE_SECONDS", "1"),
    ];
    let server = BinaryServer::start_with_env(&db, port, &env).await;
    let api = server.api.clone();
    let show = schedule(&api, 4).await;
    let alice = api.token("alice", &[Role::Customer]);
    let held = api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &alice,
            &json!({ "seats": ["B1", "B2", "B3", "B4"] }),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED);
    let bob = join(&api, "bob", &show, 2).await;
    let carol = join(&api, "carol", &show, 2).await;
    server.kill();

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let server = BinaryServer::start_with_env(&db, port, &env).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let offered = loop {
        let offers: Vec<String> = stream(&api, &show)
            .await
            .iter()
            .filter(|e| e["type"] == "WaitlistOffered")
            .map(|e| e["data"]["entry_id"].as_str().unwrap().to_owned())
            .collect();
        if offers.len() >= 2 || Instant::now() > deadline {
            break offers;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(offered, [id(&bob, "entry_id"), id(&carol, "entry_id")]);
    let expired = stream(&api, &show)
        .await
        .iter()
        .any(|e| e["type"] == "HoldExpired" && e["data"]["hold_id"] == held.body["hold_id"]);
    assert!(expired, "alice's hold was not expired");
    server.terminate();
}
