//! Many customers racing for the same seats: nobody's seat is ever held or sold twice, every
//! success is in the seat map, and the seat map equals a fresh replay of the show's stream.

use boxoffice_domain::{SeatId, SeatStatus, Show, ShowEvent, StoredEvent};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use boxoffice_eventstore::EventLog;
use boxoffice_tests::fixtures;
use boxoffice_tests::server::TestServer;
use reqwest::StatusCode;
use std::collections::{BTreeMap, BTreeSet};

const CLIENTS: usize = 200;
const ATTEMPTS_PER_CLIENT: usize = 3;

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }
}

#[derive(Debug, Clone)]
struct Success {
    hold_id: String,
    seats: Vec<String>,
    paid: bool,
    position: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_racing_for_seats_never_double_book() {
    let server = TestServer::start().await;
    let api = server.api.clone();
    let staff = api.staff();
    let show = api.scheduled_show(&fixtures::show(10, 20)).await;

    // Everyone wants rows B to D, the best seats: 60 seats for up to 600 holds.
    let clients = (0..CLIENTS).map(|client| {
        let api = api.clone();
        let show = show.clone();
        let staff = staff.clone();
        tokio::spawn(async move {
            let token = api.customer(&format!("customer-{client}"));
            let mut rng = Lcg(client as u64 + 1);
            let mut outcomes = Vec::new();
            for _ in 0..ATTEMPTS_PER_CLIENT {
                let row = ["B", "C", "D"][rng.next(3)];
                let first = 1 + rng.next(18);
                let count = 1 + rng.next(4);
                let seats: BTreeSet<String> = (0..count)
                    .map(|i| format!("{row}{}", (first + i).min(20)))
                    .collect();
                let seats: Vec<String> = seats.into_iter().collect();
                let held = api.hold_seats(&token, &show, &seats).await;
                match held.status {
                    StatusCode::CREATED => {
                        let mut success = Success {
                            hold_id: held.text("hold_id").to_owned(),
                            seats: seats.clone(),
                            paid: false,
                            position: held.position().to_owned(),
                        };
                        if rng.next(2) == 0 {
                            let reference = format!("pay-{client}");
                            let paid = api
                                .confirm_hold(&staff, &show, &success.hold_id, &reference, &held.body["total"])
                                .await;
                            paid.expect_created();
                            success.paid = true;
                            success.position = paid.position().to_owned();
                        }
                        outcomes.push(Ok(success));
                    }
                    StatusCode::CONFLICT if held.code() == "hold_exists" => {
                        // One active hold per customer: only when this client's earlier hold
                        // is still unpaid, and the answer names it.
                        let unpaid = outcomes.iter().any(|o| {
                            matches!(o, Ok(Success { hold_id, paid: false, .. }) if held.body["hold_id"] == hold_id.as_str())
                        });
                        assert!(unpaid, "hold_exists without an unpaid hold: {held}");
                        outcomes.push(Err(()));
                    }
                    StatusCode::CONFLICT => {
                        held.expect_problem(409, "seats_unavailable");
                        outcomes.push(Err(()));
                    }
                    other => panic!("unexpected {other}: {held}"),
                }
            }
            outcomes
        })
    });
    let mut successes = Vec::new();
    let mut refused = 0;
    for client in futures_util::future::join_all(clients).await {
        for outcome in client.expect("client task") {
            match outcome {
                Ok(success) => successes.push(success),
                Err(()) => refused += 1,
            }
        }
    }
    assert!(
        successes.len() > 10 && refused > 10,
        "the race must be contested: {} won, {refused} refused",
        successes.len()
    );

    // No seat in two successful holds (nothing was released, so every success still stands).
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for success in &successes {
        for seat in &success.seats {
            if let Some(other) = owner.insert(seat, &success.hold_id) {
                panic!(
                    "seat {seat} went to hold {other} and hold {}",
                    success.hold_id
                );
            }
        }
    }

    // Every 201 is in the seat map once the projection has reached the latest answer.
    let latest = successes
        .iter()
        .map(|s| {
            s.position
                .parse::<boxoffice_eventstore::Position>()
                .unwrap()
        })
        .max()
        .unwrap();
    let map = api.seat_map(&show).min_position(&latest.to_string()).await;
    let statuses: BTreeMap<String, String> = map.expect_ok()["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seat_id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for success in &successes {
        for seat in &success.seats {
            let expected = if success.paid { "sold" } else { "held" };
            assert_eq!(
                statuses[seat], expected,
                "seat {seat} of hold {}",
                success.hold_id
            );
        }
    }
    let taken: usize = successes.iter().map(|s| s.seats.len()).sum();
    let counts = &map.body["counts"];
    assert_eq!(
        counts["held"].as_u64().unwrap() + counts["sold"].as_u64().unwrap(),
        taken as u64
    );
    assert_eq!(counts["available"].as_u64().unwrap(), 200 - taken as u64);

    // The seat map equals a fresh replay of the stream through the domain.
    let log = PgEventLog::new(pool(&server.db.config(), 2), &server.db.config());
    let stored = log
        .read_stream(&format!("show-{show}"), 0, 100_000)
        .await
        .unwrap();
    let events: Vec<ShowEvent> = stored
        .iter()
        .map(|e| ShowEvent::from_stored(&e.event_type, e.schema_version, &e.data).unwrap())
        .collect();
    let replayed = Show::replay(&events);
    for (seat, status) in &statuses {
        let expected = match replayed.seat_status(&SeatId::new(seat.as_str())) {
            Some(SeatStatus::Available) => "available",
            Some(SeatStatus::Held(_)) => "held",
            Some(SeatStatus::Sold(_)) => "sold",
            None => panic!("seat {seat} is not in the replayed show"),
        };
        assert_eq!(status, expected, "seat {seat}: seat map vs replay");
    }
    let counts_replayed = replayed.counts();
    assert_eq!(counts_replayed.held + counts_replayed.sold, taken);
    eprintln!(
        "{} holds won, {refused} refused, {taken} seats taken, {} events",
        successes.len(),
        stored.len()
    );
}
