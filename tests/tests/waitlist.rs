//! The waiting list over HTTP: offers in joining order, long-polling, restarts.

use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::{eventually, until_lapsed};
use boxoffice_tests::{fixtures, TestDatabase};
use std::time::Duration;

/// The entries the show offered seats to, in the order of the offers (from its log).
async fn offered(api: &Api, show: &str) -> Vec<String> {
    let stream = api
        .show_stream(&api.auditor(), show)
        .query("limit", 1000)
        .await;
    stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "WaitlistOffered")
        .map(|e| e["data"]["entry_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn seats_freed_go_to_the_queue_in_order_and_a_long_poll_sees_its_offer_at_once() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::one_regular_row(4)).await;
    let (alice, bob, carol, dan) = (
        api.customer("alice"),
        api.customer("bob"),
        api.customer("carol"),
        api.customer("dan"),
    );
    let hold_id = api
        .hold_seats(&alice, &show, &["B1", "B2", "B3", "B4"])
        .await
        .created("hold_id");

    // Every seat is held: Bob is told they may come back, and joins the waiting list.
    let refused = api.hold_seats(&bob, &show, &["B1"]).await;
    assert_eq!(
        refused.expect_problem(409, "seats_unavailable")["reason"],
        "held_by_others"
    );
    let bobs = api.join_waitlist(&bob, &show, 2).await;
    assert_eq!(bobs.expect_created()["status"], "waiting");
    assert_eq!(bobs.body["place"], 1);
    let carols = api.join_waitlist(&carol, &show, 4).await;
    assert_eq!(carols.expect_created()["place"], 2);
    let dans = api.join_waitlist(&dan, &show, 1).await;
    assert_eq!(dans.expect_created()["place"], 3);
    let again = api.join_waitlist(&bob, &show, 1).await;
    assert_eq!(
        again.expect_problem(409, "waitlist_entry_exists")["entry_id"],
        bobs.body["entry_id"]
    );
    let (bob_entry, carol_entry, dan_entry) = (
        bobs.text("entry_id"),
        carols.text("entry_id"),
        dans.text("entry_id"),
    );

    // Bob follows his entry: nothing changes for a second...
    let quiet = api
        .waitlist_entry(&bob, &show, bob_entry)
        .query("version", 1)
        .query("wait", 1)
        .min_position(dans.position())
        .await;
    assert_eq!(quiet.expect_ok()["status"], "waiting");
    assert_eq!(quiet.body["version"], 1);
    // ...then he waits, for as long as the server lets him (60 s), while alice gives her
    // seats back. Whether his poll is already waiting when the seats come free or arrives
    // just after, the answer is the offer, long before those 60 s are up.
    let follower = {
        let (api, bob, show, entry) =
            (api.clone(), bob.clone(), show.clone(), bob_entry.to_owned());
        tokio::spawn(async move {
            api.waitlist_entry(&bob, &show, &entry)
                .query("version", 1)
                .query("wait", 60)
                .timeout(Duration::from_secs(90))
                .await
        })
    };
    let released = api.release_hold(&alice, &show, &hold_id).await;
    released.expect_ok();
    let offered_to_bob = tokio::time::timeout(Duration::from_secs(45), follower)
        .await
        .expect("the long poll answers when the entry changes, not when its wait ends")
        .unwrap();
    assert_eq!(
        offered_to_bob.expect_ok()["status"],
        "offered",
        "{offered_to_bob}"
    );
    assert_eq!(
        offered_to_bob.body["offer"]["seats"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Bob got the centre pair; carol's four do not fit in what is left; dan, behind her,
    // wanting one seat, gets one.
    let carol_now = api
        .waitlist_entry(&carol, &show, carol_entry)
        .min_position(released.position())
        .await;
    assert_eq!(carol_now.body["status"], "waiting");
    assert_eq!(carol_now.body["place"], 1);
    let dan_now = api
        .waitlist_entry(&dan, &show, dan_entry)
        .min_position(released.position())
        .await;
    assert_eq!(dan_now.body["status"], "offered", "{dan_now}");
    assert_eq!(dan_now.body["offer"]["seats"].as_array().unwrap().len(), 1);

    // Bob and dan pay; carol can never get four seats now: her entry closes with the reason.
    let staff = api.staff();
    let mut last = String::new();
    for followed in [&offered_to_bob, &dan_now] {
        let offer = &followed.body["offer"];
        let hold = offer["hold_id"].as_str().unwrap();
        let paid = api
            .confirm_hold(&staff, &show, hold, "p", &offer["total"])
            .await;
        paid.expect_created();
        last = paid.position().to_owned();
    }
    let carol_end = api
        .waitlist_entry(&carol, &show, carol_entry)
        .min_position(&last)
        .await;
    assert_eq!(carol_end.body["status"], "cannot_be_met", "{carol_end}");
    let bob_end = api
        .waitlist_entry(&bob, &show, bob_entry)
        .min_position(&last)
        .await;
    assert_eq!(bob_end.body["status"], "fulfilled");

    // Someone else's entry is a 404; leaving an ended entry is refused.
    api.waitlist_entry(&api.customer("eve"), &show, bob_entry)
        .await
        .expect_problem(404, "waitlist_entry_not_found");
    api.leave_waitlist(&bob, &show, bob_entry)
        .await
        .expect_problem(409, "waitlist_entry_ended");
}

#[tokio::test]
async fn fifty_customers_are_offered_freed_seats_in_exactly_the_order_they_joined() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::one_regular_row(100)).await;
    // Sold out: fifty holders of two seats each.
    let mut holds = Vec::new();
    for n in 0..50 {
        let token = api.customer(&format!("holder-{n}"));
        let seats = [format!("B{}", 2 * n + 1), format!("B{}", 2 * n + 2)];
        let hold_id = api
            .hold_seats(&token, &show, &seats)
            .await
            .created("hold_id");
        holds.push((token, hold_id));
    }
    let mut joined = Vec::new();
    for n in 0..50 {
        let waiter = api.customer(&format!("waiter-{n}"));
        let reply = api.join_waitlist(&waiter, &show, 2).await;
        assert_eq!(reply.expect_created()["place"], n + 1);
        joined.push(reply.text("entry_id").to_owned());
    }
    // Holds given back one block at a time, in an order unrelated to the queue.
    for k in 0..50usize {
        let (token, hold) = &holds[(k * 17) % 50];
        api.release_hold(token, &show, hold).await.expect_ok();
    }
    assert_eq!(offered(api, &show).await, joined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_lapsed_holds_expire_and_the_queue_is_served_in_order() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let server = BinaryServer::start_with_short_holds(&db, port).await;
    let api = server.api.clone();
    let show = api.scheduled_show(&fixtures::one_regular_row(4)).await;
    let held = api
        .hold_seats(&api.customer("alice"), &show, &["B1", "B2", "B3", "B4"])
        .await;
    held.expect_created();
    let bob = api.join_waitlist(&api.customer("bob"), &show, 2).await;
    let carol = api.join_waitlist(&api.customer("carol"), &show, 2).await;
    let queue = [bob.created("entry_id"), carol.created("entry_id")];
    server.kill();

    // Down until the hold's second and its second of grace are over.
    until_lapsed(&held, 1).await;
    let server = BinaryServer::start_with_short_holds(&db, port).await;
    let offers = eventually("both waiting customers are offered seats", async || {
        let offers = offered(&api, &show).await;
        if offers.len() >= 2 {
            Ok(offers)
        } else {
            Err(format!("{offers:?}"))
        }
    })
    .await;
    assert_eq!(offers, queue);
    let stream = api.show_stream(&api.auditor(), &show).await;
    let expired = stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "HoldExpired" && e["data"]["hold_id"] == held.body["hold_id"]);
    assert!(expired, "alice's hold was not expired");
    server.terminate();
}
