//! Two server processes on one database, as behind a load balancer without show routing:
//! each answers against the stream as it is, not as it last saw it, and no seat is sold twice.
//! Writers do not read the stream before every batch (the append's expected version proves
//! what they knew), so the second test asks what that could break: an answer from one process
//! right after the other changed the show, while both are busy with other customers.

use boxoffice_tests::server::{free_port, BinaryServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_database_never_hold_a_seat_twice_and_replay_each_others_answers() {
    let db = TestDatabase::create().await;
    let a = BinaryServer::start(&db, free_port()).await;
    let b = BinaryServer::start(&db, free_port()).await;
    let staff = a.api.staff();
    let alice = a.api.customer("alice");
    let show = a.api.scheduled_show(&fixtures::show(4, 10)).await;

    // B loads the show (a refused hold), then A takes a hold B has not seen.
    b.api
        .hold_seats(&alice, &show, &["Z99"])
        .await
        .expect_problem(422, "validation_failed");
    let key = "alice-hold-1";
    let held = a
        .api
        .hold_seats(&alice, &show, &["B1", "B2"])
        .idempotency_key(key)
        .await;
    let hold_id = held.created("hold_id");

    // B takes the payment for the hold it has not seen, refuses the same seats, and
    // replays A's answer to a retry.
    b.api
        .confirm_hold(&staff, &show, &hold_id, "p-1", &held.body["total"])
        .await
        .expect_created();
    b.api
        .hold_seats(&alice, &show, &["B2"])
        .await
        .expect_problem(409, "seats_unavailable");
    let retried = b
        .api
        .hold_seats(&alice, &show, &["B1", "B2"])
        .idempotency_key(key)
        .await;
    retried.expect_created();
    assert_eq!(retried.body["hold_id"], held.body["hold_id"]);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    // Customers racing through both processes for overlapping seats.
    let mut tasks = Vec::new();
    for n in 0..40 {
        let api = if n % 2 == 0 {
            a.api.clone()
        } else {
            b.api.clone()
        };
        let token = api.customer(&format!("racer-{n}"));
        let show = show.clone();
        let seats: Vec<String> = (0..3).map(|i| format!("C{}", 1 + (n + i) % 10)).collect();
        tasks.push(tokio::spawn(async move {
            let reply = api.hold_seats(&token, &show, &seats).await;
            (reply, seats)
        }));
    }
    let mut taken_seats = BTreeSet::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (reply, seats) = task.await.unwrap();
        if reply.status == StatusCode::CREATED {
            for seat in seats {
                assert!(taken_seats.insert(seat.clone()), "{seat} held twice");
            }
        } else {
            reply.expect_problem(409, "seats_unavailable");
            refused.push(seats);
        }
    }
    // Nothing was released: a refused hold wanted a seat that a winner still holds. (Which
    // windows win depends on who comes first; at least two of the ten always fit.)
    for seats in &refused {
        assert!(
            seats.iter().any(|seat| taken_seats.contains(seat)),
            "{seats:?} was refused, but all of them are free: {taken_seats:?}"
        );
    }
    assert!(taken_seats.len() >= 6, "only {taken_seats:?} held");
    a.terminate();
    b.terminate();
}

/// One customer alternates between the processes with a hold, its release and the hold
/// again, each sent as soon as the other process answered, while 24 others keep both
/// processes' writers busy on other seats of the same show. A process deciding on what it
/// last saw would refuse the second hold (the seat still held) or the release (a hold it
/// never saw); every answer must rest on the other process's last answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_sent_right_after_the_other_process_answered_sees_its_events_under_load() {
    let db = TestDatabase::create().await;
    let a = BinaryServer::start(&db, free_port()).await;
    let b = BinaryServer::start(&db, free_port()).await;
    let show = a.api.scheduled_show(&fixtures::show(6, 10)).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for n in 0..24 {
        let api = if n % 2 == 0 {
            a.api.clone()
        } else {
            b.api.clone()
        };
        let (show, stop) = (show.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let token = api.customer(&format!("busy-{n}"));
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Rows B to F; row A is the test's own.
                let seat = format!(
                    "{}{}",
                    ["B", "C", "D", "E", "F"][n % 5],
                    1 + (answered % 10)
                );
                let reply = api.hold_seats(&token, &show, &[seat]).await;
                if reply.status == StatusCode::CREATED {
                    api.release_hold(&token, &show, &reply.created("hold_id"))
                        .await
                        .expect_ok();
                } else {
                    reply.expect_problem(409, "seats_unavailable");
                }
                answered += 1;
            }
            answered
        }));
    }
    let carol = a.api.customer("carol");
    let dave = a.api.customer("dave");
    for round in 0..30 {
        let (first, second) = if round % 2 == 0 {
            (&a.api, &b.api)
        } else {
            (&b.api, &a.api)
        };
        let seat = [format!("A{}", 1 + round % 10)];
        let held = first.hold_seats(&carol, &show, &seat).await;
        held.expect_created();
        second
            .release_hold(&carol, &show, &held.created("hold_id"))
            .await
            .expect_ok();
        let again = first.hold_seats(&carol, &show, &seat).await;
        again.expect_created();
        second
            .hold_seats(&dave, &show, &seat)
            .await
            .expect_problem(409, "seats_unavailable");
        second
            .release_hold(&carol, &show, &again.created("hold_id"))
            .await
            .expect_ok();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut busy = 0;
    for task in load {
        busy += task.await.unwrap();
    }
    assert!(busy > 0, "the other customers sent nothing");
    a.terminate();
    b.terminate();
}
