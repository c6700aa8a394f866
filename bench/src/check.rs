//! The invariant check after a run: from the log, no seat was ever held or sold twice; the
//! clients' confirmed seats were each sold once; the seat map equals a replay.

use crate::client::{Http, SeatMapDoc};
use boxoffice_domain::{SeatId, SeatStatus, Show, ShowEvent, ShowId, StoredEvent};
use boxoffice_eventstore::postgres::{pool, PgEventLog};
use boxoffice_eventstore::EventLog;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Invariants {
    pub shows_checked: usize,
    pub events_checked: usize,
    pub seats_sold: usize,
    /// Seats a log event took while another hold or order had them.
    pub oversold_seats: usize,
    /// Seats two clients were each told they bought.
    pub seats_confirmed_twice: usize,
    /// Seats whose seat-map status differs from a replay of the stream.
    pub seat_map_mismatches: usize,
    pub problems: Vec<String>,
}

impl Invariants {
    pub fn hold(&self) -> bool {
        self.oversold_seats == 0
            && self.seats_confirmed_twice == 0
            && self.seat_map_mismatches == 0
            && self.problems.is_empty()
    }

    fn problem(&mut self, what: String) {
        if self.problems.len() < 10 {
            self.problems.push(what);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    Held(Uuid),
    Sold(Uuid),
}

/// Walks one stream with rules of its own (not the domain's): a seat may only be taken when
/// free, and only its holder or order gives it back. Returns the seats sold at the end.
fn walk(events: &[ShowEvent], report: &mut Invariants, show: Uuid) -> usize {
    let mut seats: HashMap<&SeatId, Taken> = HashMap::new();
    for event in events {
        match event {
            ShowEvent::SeatsHeld(held) => {
                for seat in &held.seats {
                    take(&mut seats, seat, Taken::Held(held.hold_id.0), report, show);
                }
            }
            ShowEvent::WaitlistOffered(offer) => {
                for seat in &offer.seats {
                    take(&mut seats, seat, Taken::Held(offer.hold_id.0), report, show);
                }
            }
            ShowEvent::HoldConfirmed(confirmed) => {
                for seat in &confirmed.seats {
                    if seats.get(seat) != Some(&Taken::Held(confirmed.hold_id.0)) {
                        report.oversold_seats += 1;
                        report.problem(format!("show {show}: seat {seat} sold without its hold"));
                    }
                    seats.insert(seat, Taken::Sold(confirmed.order_id.0));
                }
            }
            ShowEvent::HoldReleased(released) => {
                give_back(
                    &mut seats,
                    &released.seats,
                    Taken::Held(released.hold_id.0),
                    report,
                    show,
                );
            }
            ShowEvent::HoldExpired(expired) => {
                give_back(
                    &mut seats,
                    &expired.seats,
                    Taken::Held(expired.hold_id.0),
                    report,
                    show,
                );
            }
            ShowEvent::OrderRefunded(refunded) => {
                give_back(
                    &mut seats,
                    &refunded.seats,
                    Taken::Sold(refunded.order_id.0),
                    report,
                    show,
                );
            }
            _ => {}
        }
    }
    seats
        .values()
        .filter(|t| matches!(t, Taken::Sold(_)))
        .count()
}

fn take<'a>(
    seats: &mut HashMap<&'a SeatId, Taken>,
    seat: &'a SeatId,
    by: Taken,
    report: &mut Invariants,
    show: Uuid,
) {
    if seats.insert(seat, by).is_some() {
        report.oversold_seats += 1;
        report.problem(format!(
            "show {show}: seat {seat} taken while already taken"
        ));
    }
}

fn give_back<'a>(
    seats: &mut HashMap<&'a SeatId, Taken>,
    given: &'a [SeatId],
    owner: Taken,
    report: &mut Invariants,
    show: Uuid,
) {
    for seat in given {
        if seats.get(seat) == Some(&owner) {
            seats.remove(seat);
        } else {
            report.problem(format!(
                "show {show}: seat {seat} given back by someone not holding it"
            ));
        }
    }
}

/// Checks every show in `shows`: the log walk, the clients' view (`sold`), and the seat map
/// served by `http` against `Show::replay` (after waiting for the projection to catch up).
pub async fn check(
    http: &Http,
    database: &tokio_postgres::Config,
    shows: &[Uuid],
    sold: &[(Uuid, String)],
) -> anyhow::Result<Invariants> {
    let mut report = Invariants::default();
    let mut seen = HashSet::new();
    for seat in sold {
        if !seen.insert(seat) {
            report.seats_confirmed_twice += 1;
            report.problem(format!(
                "show {}: seat {} confirmed to two clients",
                seat.0, seat.1
            ));
        }
    }
    let log = PgEventLog::new(pool(database, 2), database);
    for show in shows {
        let stream = ShowId(*show).stream();
        let head = log.read_stream(&stream, 0, u32::MAX as usize).await?;
        let version = head.last().map_or(0, |e| e.version as i64);
        let map = seat_map_at(http, *show, version).await?;
        // The server keeps working (holds expire): compare the map with a replay of exactly
        // the events it reflects, read again now that it has them all.
        let stored = log.read_stream(&stream, 0, u32::MAX as usize).await?;
        let events: Vec<ShowEvent> = stored
            .iter()
            .map(|e| ShowEvent::from_stored(&e.event_type, e.schema_version, &e.data))
            .collect::<Result<_, _>>()?;
        report.shows_checked += 1;
        report.events_checked += events.len();
        report.seats_sold += walk(&events, &mut report, *show);
        let reflected = stored
            .iter()
            .take_while(|e| e.version as i64 <= map.version)
            .count();
        let replayed = Show::replay(&events[..reflected]);
        for seat in map.seats {
            let expected = match replayed.seat_status(&SeatId::new(seat.seat_id.as_str())) {
                Some(SeatStatus::Available) => "available",
                Some(SeatStatus::Held(_)) => "held",
                Some(SeatStatus::Sold(_)) => "sold",
                None => "not in the replay",
            };
            if seat.status != expected {
                report.seat_map_mismatches += 1;
                report.problem(format!(
                    "show {show}: seat {} is {} in the seat map, {expected} in a replay",
                    seat.seat_id, seat.status
                ));
            }
        }
    }
    Ok(report)
}

/// The seat map once it reflects `version` events of the show's stream.
async fn seat_map_at(http: &Http, show: Uuid, version: i64) -> anyhow::Result<SeatMapDoc> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = http
            .send(Method::GET, &format!("/v1/shows/{show}/seats"), None, None)
            .await?;
        if reply.status == StatusCode::OK {
            let doc: SeatMapDoc = serde_json::from_slice(&reply.body)?;
            if doc.version >= version {
                return Ok(doc);
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the seat map of {show} did not reach version {version} in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
