use super::*;
use crate::{Aggregate, StoredEvent, Timestamp};
use crate::{CinemaId, CityId, Currency, DomainError, HallId, Money, MovieId, SeatKind, ShowId};
use chrono::{Duration, TimeZone, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2030, 1, 1, 8, 0, 0).unwrap()
}

fn layout(rows: &[(&str, &str)]) -> HallLayout {
    HallLayout {
        rows: rows
            .iter()
            .map(|(label, cells)| LayoutRow {
                label: (*label).into(),
                cells: (*cells).into(),
            })
            .collect(),
    }
}

fn fields(error: DomainError) -> Vec<String> {
    match error {
        DomainError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn cny(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("CNY").unwrap())
}

#[test]
fn a_layout_numbers_seats_left_to_right_skipping_gaps_and_keeps_their_columns() {
    let seats = layout(&[("A", "RR_RR"), ("B", "WC_PP"), ("排3", "_R")])
        .seats("layout")
        .unwrap();
    let ids: Vec<&str> = seats.iter().map(|s| s.seat_id.as_str()).collect();
    assert_eq!(
        ids,
        ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "排31"]
    );
    assert_eq!(seats[2].column, Some(4), "A3 sits after the aisle");
    assert_eq!(seats[4].kind, Some(SeatKind::Wheelchair));
    assert_eq!(seats[5].kind, Some(SeatKind::Companion));
    assert_eq!(seats[5].category, "accessible");
    assert_eq!(seats[6].category, "premium");
    assert_eq!(seats[8].column, Some(2));
}

#[test]
fn bad_layouts_name_every_bad_field() {
    assert_eq!(
        fields(layout(&[]).seats("layout").unwrap_err()),
        ["layout.rows"]
    );
    let errors = fields(
        layout(&[
            ("A", "RRX"),
            ("A", "RR"),
            ("B", "___"),
            ("C", "RC_R"),
            (" D", "R"),
        ])
        .seats("layout")
        .unwrap_err(),
    );
    assert_eq!(
        errors,
        [
            "layout.rows[0].cells",
            "layout.rows[1].label",
            "layout.rows[2].cells",
            "layout.rows[3].cells",
            "layout.rows[4].label"
        ]
    );
    // Row "1" seat 12 and row "11" seat 2 would both be "112".
    let long = "R".repeat(12);
    assert_eq!(
        fields(
            layout(&[("1", &long), ("11", "RR")])
                .seats("layout")
                .unwrap_err()
        ),
        ["layout.rows[1].label"]
    );
}

fn open_cinema() -> Cinema {
    let mut cinema = Cinema::default();
    let commands = [
        CinemaCommand::OpenCinema {
            cinema_id: CinemaId(Uuid::from_u128(1)),
            city_id: CityId(Uuid::from_u128(2)),
            cinema: CinemaDetails {
                name: "影城".into(),
                address: "路 1 号".into(),
                latitude: 31.2,
                longitude: 121.5,
                postal_code: "200000".into(),
                refund_policy: None,
            },
        },
        CinemaCommand::AddHall {
            hall_id: HallId(Uuid::from_u128(3)),
            hall: HallDetails {
                name: "1号厅".into(),
                layout: layout(&[("A", "RRRR"), ("B", "PPPP")]),
                prices: BTreeMap::from([
                    ("regular".into(), cny(4500)),
                    ("premium".into(), cny(6000)),
                ]),
            },
        },
    ];
    for command in commands {
        for event in cinema.decide(&command, now()).unwrap() {
            cinema.evolve(&event);
        }
    }
    cinema
}

fn book(
    cinema: &Cinema,
    show: u128,
    start_minute: i64,
    minutes: i64,
) -> Result<Vec<CinemaEvent>, DomainError> {
    let starts_at = now() + Duration::minutes(start_minute);
    cinema.decide(
        &CinemaCommand::BookShow {
            show_id: ShowId(Uuid::from_u128(show)),
            hall_id: HallId(Uuid::from_u128(3)),
            movie_id: MovieId(Uuid::from_u128(9)),
            starts_at,
            ends_at: starts_at + Duration::minutes(minutes),
            cleaning_minutes: 15,
        },
        now(),
    )
}

#[test]
fn shows_in_one_hall_may_not_overlap_counting_the_cleaning_gap() {
    let mut cinema = open_cinema();
    for event in book(&cinema, 10, 120, 120).unwrap() {
        cinema.evolve(&event);
    }
    // 10:00-12:00 plus 15 minutes of cleaning: 12:10 is too early, 12:15 fits.
    let too_early = cinema.decide(
        &CinemaCommand::BookShow {
            show_id: ShowId(Uuid::from_u128(11)),
            hall_id: HallId(Uuid::from_u128(3)),
            movie_id: MovieId(Uuid::from_u128(9)),
            starts_at: now() + Duration::minutes(4 * 60 + 10),
            ends_at: now() + Duration::minutes(6 * 60),
            cleaning_minutes: 15,
        },
        now(),
    );
    assert!(
        matches!(too_early, Err(DomainError::ShowOverlaps { show_id, .. }) if show_id == Uuid::from_u128(10))
    );
    // Ending (plus cleaning) just as the other starts is fine too.
    assert_eq!(book(&cinema, 12, 30, 75).unwrap().len(), 1);
    assert!(matches!(
        book(&cinema, 13, 30, 76),
        Err(DomainError::ShowOverlaps { .. })
    ));
    let fits = cinema.decide(
        &CinemaCommand::BookShow {
            show_id: ShowId(Uuid::from_u128(11)),
            hall_id: HallId(Uuid::from_u128(3)),
            movie_id: MovieId(Uuid::from_u128(9)),
            starts_at: now() + Duration::minutes(4 * 60 + 15),
            ends_at: now() + Duration::minutes(6 * 60),
            cleaning_minutes: 15,
        },
        now(),
    );
    assert_eq!(fits.unwrap().len(), 1);
    // Booking the same show again is a retry: nothing new. Releasing it frees the time.
    assert!(book(&cinema, 10, 120, 120).unwrap().is_empty());
    assert!(matches!(
        book(&cinema, 10, 180, 120),
        Err(DomainError::DuplicateId(_))
    ));
    let release = CinemaCommand::ReleaseShow {
        show_id: ShowId(Uuid::from_u128(10)),
    };
    for event in cinema.decide(&release, now()).unwrap() {
        cinema.evolve(&event);
    }
    assert!(cinema.decide(&release, now()).unwrap().is_empty());
    assert_eq!(book(&cinema, 14, 120, 60).unwrap().len(), 1);
}

#[test]
fn a_hall_needs_a_price_for_each_category_it_uses_and_no_other() {
    let cinema = open_cinema();
    let hall = |prices: BTreeMap<String, Money>| CinemaCommand::AddHall {
        hall_id: HallId(Uuid::from_u128(4)),
        hall: HallDetails {
            name: "2号厅".into(),
            layout: layout(&[("A", "WCRR")]),
            prices,
        },
    };
    let errors = fields(
        cinema
            .decide(
                &hall(BTreeMap::from([
                    ("regular".into(), cny(4500)),
                    ("premium".into(), cny(1)),
                ])),
                now(),
            )
            .unwrap_err(),
    );
    assert_eq!(errors, ["prices.accessible", "prices.premium"]);
    let ok = hall(BTreeMap::from([
        ("regular".into(), cny(4500)),
        ("accessible".into(), cny(2000)),
    ]));
    assert_eq!(cinema.decide(&ok, now()).unwrap().len(), 1);
}

#[test]
fn city_names_are_unique_and_time_zones_real() {
    let mut cities = Cities::default();
    let add = |id: u128, name: &str, tz: &str| CitiesCommand::AddCity {
        city_id: CityId(Uuid::from_u128(id)),
        city: CityDetails {
            name: name.into(),
            time_zone: tz.into(),
        },
    };
    for event in cities
        .decide(&add(1, "上海", "Asia/Shanghai"), now())
        .unwrap()
    {
        cities.evolve(&event);
    }
    assert_eq!(
        fields(
            cities
                .decide(&add(2, "上海", "Asia/Shanghai"), now())
                .unwrap_err()
        ),
        ["name"]
    );
    assert_eq!(
        fields(
            cities
                .decide(&add(2, "北京", "Mars/Olympus"), now())
                .unwrap_err()
        ),
        ["time_zone"]
    );
    assert!(cities
        .decide(&add(1, "上海", "Asia/Shanghai"), now())
        .unwrap()
        .is_empty());
}

#[test]
fn catalogue_events_read_back_as_stored() {
    let cinema = open_cinema();
    let events = book(&cinema, 10, 120, 120).unwrap();
    for event in events {
        let stored = event.to_json();
        let back = CinemaEvent::from_stored(event.event_type(), 1, &stored).unwrap();
        assert_eq!(back, event);
    }
    assert!(CinemaEvent::from_stored("MovieAdded", 1, &serde_json::json!({})).is_err());
}
