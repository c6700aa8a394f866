//! Two server processes on one database, as behind a load balancer without show routing:
//! each answers against the stream as it is, not as it last saw it, and no seat is sold twice.

use boxoffice_api::auth::Role;
use boxoffice_tests::server::{free_port, BinaryServer};
use boxoffice_tests::{fixtures, TestDatabase};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_serve_one_show_consistently() {
    let db = TestDatabase::create().await;
    let a = BinaryServer::start(&db, free_port()).await;
    let b = BinaryServer::start(&db, free_port()).await;
    let staff = a.api.token("box-office-1", &[Role::Staff]);
    let alice = a.api.token("alice", &[Role::Customer]);
    let scheduled = a
        .api
        .post("/v1/shows", &staff, &fixtures::show(4, 10))
        .await;
    let show = scheduled.body["show_id"].as_str().unwrap().to_owned();
    let holds = format!("/v1/shows/{show}/holds");

    // B loads the show (a refused hold), then A takes a hold B has not seen.
    let refused = b
        .api
        .post(&holds, &alice, &json!({ "seats": ["Z99"] }))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    let key = [("idempotency-key", "alice-hold-1")];
    let held = a
        .api
        .send(
            reqwest::Method::POST,
            &holds,
            Some(&alice),
            Some(&json!({ "seats": ["B1", "B2"] })),
            &key,
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let hold_id = held.body["hold_id"].as_str().unwrap();

    // B takes the payment for the hold it has not seen, refuses the same seats, and
    // replays A's answer to a retry.
    let paid = b
        .api
        .post(
            &format!("/v1/shows/{show}/holds/{hold_id}/confirm"),
            &staff,
            &json!({ "payment_reference": "p-1", "amount": held.body["total"] }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");

    let taken = b
        .api
        .post(&holds, &alice, &json!({ "seats": ["B2"] }))
        .await;
    assert_eq!(taken.code(), "seats_unavailable", "{taken:?}");
    let retried = b
        .api
        .send(
            reqwest::Method::POST,
            &holds,
            Some(&alice),
            Some(&json!({ "seats": ["B1", "B2"] })),
            &key,
        )
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{retried:?}");
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
        let token = api.token(&format!("racer-{n}"), &[Role::Customer]);
        let path = holds.clone();
        let seats: Vec<String> = (0..3).map(|i| format!("C{}", 1 + (n + i) % 10)).collect();
        tasks.push(tokio::spawn(async move {
            let reply = api.post(&path, &token, &json!({ "seats": seats })).await;
            (reply.status, seats)
        }));
    }
    let mut taken_seats = BTreeSet::new();
    let mut won = 0;
    for task in tasks {
        let (status, seats) = task.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
        if status == StatusCode::CREATED {
            won += 1;
            for seat in seats {
                assert!(taken_seats.insert(seat.clone()), "{seat} held twice");
            }
        }
    }
    assert!(won >= 3, "only {won} holds won");
    a.terminate();
    b.terminate();
}
