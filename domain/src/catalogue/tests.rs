//! Examples of the catalogue's rules: seat layouts as staff draw them, halls booked for
//! shows without overlapping, unique city names, movies added once; given / when / then.

use super::*;
use crate::testkit::*;
use crate::{CinemaId, CityId, DomainError, HallId, Money, MovieId, SeatKind, ShowId, StoredEvent};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use uuid::Uuid;

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

/// A cinema with hall 3: row A regular (45 CNY), row B premium (60 CNY).
fn open_cinema() -> Cinema {
    let (cinema, _) = Cinema::default()
        .when(
            CinemaCommand::OpenCinema {
                cinema_id: CinemaId(Uuid::from_u128(1)),
                city_id: CityId(Uuid::from_u128(2)),
                cinema: CinemaDetails {
                    accessible_seating: None,
                    ticket_types: Default::default(),
                    matinee: Default::default(),
                    name: "影城".into(),
                    address: "路 1 号".into(),
                    latitude: 31.2,
                    longitude: 121.5,
                    postal_code: "200000".into(),
                    refund_policy: None,
                },
            },
            t0(),
        )
        .then_accepted();
    let add_hall = CinemaCommand::AddHall {
        hall_id: HallId(Uuid::from_u128(3)),
        hall: HallDetails {
            name: "1号厅".into(),
            layout: layout(&[("A", "RRRR"), ("B", "PPPP")]),
            prices: BTreeMap::from([("regular".into(), cny(4500)), ("premium".into(), cny(6000))]),
        },
    };
    cinema.when(add_hall, t0()).then_accepted().0
}

/// Books hall 3 for show `show`, `start_minute` minutes after t0 for `minutes`, with 15
/// minutes of cleaning after.
fn book(show: u128, start_minute: i64, minutes: i64) -> CinemaCommand {
    let starts_at = t0() + Duration::minutes(start_minute);
    CinemaCommand::BookShow {
        show_id: ShowId(Uuid::from_u128(show)),
        hall_id: HallId(Uuid::from_u128(3)),
        movie_id: MovieId(Uuid::from_u128(9)),
        starts_at,
        ends_at: starts_at + Duration::minutes(minutes),
        cleaning_minutes: 15,
    }
}

#[test]
fn shows_in_one_hall_may_not_overlap_counting_the_cleaning_gap() {
    let (cinema, _) = open_cinema().when(book(10, 120, 120), t0()).then_accepted();
    // 12:00-14:00 plus 15 minutes of cleaning: 14:10 is too early, 14:15 fits.
    cinema
        .when(book(11, 4 * 60 + 10, 110), t0())
        .then_error(DomainError::ShowOverlaps {
            show_id: Uuid::from_u128(10),
            starts_at: t0() + Duration::minutes(120),
            free_at: t0() + Duration::minutes(4 * 60 + 15),
        });
    // Ending (plus cleaning) just as the other starts is fine too.
    let (_, events) = cinema.when(book(12, 30, 75), t0()).then_accepted();
    assert_eq!(events.len(), 1);
    cinema
        .when(book(13, 30, 76), t0())
        .then_code("show_overlaps");
    let (_, events) = cinema
        .when(book(11, 4 * 60 + 15, 105), t0())
        .then_accepted();
    assert_eq!(events.len(), 1);
    // Booking the same show again is a retry: nothing new. Releasing it frees the time.
    cinema.when(book(10, 120, 120), t0()).then_expect(vec![]);
    cinema
        .when(book(10, 180, 120), t0())
        .then_code("duplicate_id");
    let release = CinemaCommand::ReleaseShow {
        show_id: ShowId(Uuid::from_u128(10)),
    };
    let (cinema, _) = cinema.when(release.clone(), t0()).then_accepted();
    cinema.when(release, t0()).then_expect(vec![]);
    let (_, events) = cinema.when(book(14, 120, 60), t0()).then_accepted();
    assert_eq!(events.len(), 1);
}

#[test]
fn each_show_gets_a_number_no_show_within_a_day_of_it_has_and_keeps_it_when_released() {
    let number = |cinema: &Cinema, command| {
        let (cinema, events) = cinema.when(command, t0()).then_accepted();
        let [CinemaEvent::ShowBooked(booked)] = &events[..] else {
            panic!("{events:?}")
        };
        (cinema, booked.day_number)
    };
    let (cinema, first) = number(&open_cinema(), book(10, 120, 100));
    let (cinema, second) = number(&cinema, book(11, 240, 100));
    assert_eq!((first, second), (Some(1), Some(2)));
    // A cancelled show's codes were handed out: its number is not given again.
    let release = CinemaCommand::ReleaseShow {
        show_id: ShowId(Uuid::from_u128(10)),
    };
    let (cinema, _) = cinema.when(release, t0()).then_accepted();
    let (cinema, third) = number(&cinema, book(12, 120, 100));
    assert_eq!(third, Some(3));
    // Two days on, the numbers start again.
    let (_, later) = number(&cinema, book(13, 2 * 24 * 60, 100));
    assert_eq!(later, Some(1));
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
    cinema
        .when(
            hall(BTreeMap::from([
                ("regular".into(), cny(4500)),
                ("premium".into(), cny(1)),
            ])),
            t0(),
        )
        .then_invalid(&["prices.accessible", "prices.premium"]);
    let ok = hall(BTreeMap::from([
        ("regular".into(), cny(4500)),
        ("accessible".into(), cny(2000)),
    ]));
    let (_, events) = cinema.when(ok, t0()).then_accepted();
    assert_eq!(events.len(), 1);
}

#[test]
fn city_names_are_unique_and_time_zones_real() {
    let add = |id: u128, name: &str, tz: &str| CitiesCommand::AddCity {
        city_id: CityId(Uuid::from_u128(id)),
        city: CityDetails {
            name: name.into(),
            time_zone: tz.into(),
        },
    };
    let (cities, _) = Cities::default()
        .when(add(1, "上海", "Asia/Shanghai"), t0())
        .then_accepted();
    cities
        .when(add(2, "上海", "Asia/Shanghai"), t0())
        .then_invalid(&["name"]);
    cities
        .when(add(2, "北京", "Mars/Olympus"), t0())
        .then_invalid(&["time_zone"]);
    cities
        .when(add(1, "上海", "Asia/Shanghai"), t0())
        .then_expect(vec![]);
}

#[test]
fn a_movie_is_added_once_and_a_retired_movie_no_longer_changes() {
    let movie_id = MovieId(Uuid::from_u128(9));
    let details = MovieDetails {
        title: "流浪地球3".into(),
        original_title: None,
        description: String::new(),
        duration_minutes: 138,
        genres: vec!["sci-fi".into()],
        language: "zh".into(),
        country: "CN".into(),
        release_date: NaiveDate::from_ymd_opt(2027, 1, 29).unwrap(),
        rating: None,
    };
    let add = |movie: MovieDetails| MovieCommand::AddMovie { movie_id, movie };
    let (movie, _) = Movie::default()
        .when(add(details.clone()), t0())
        .then_accepted();
    movie.when(add(details.clone()), t0()).then_expect(vec![]);
    let retitled = MovieDetails {
        title: "流浪地球 3".into(),
        ..details.clone()
    };
    movie
        .when(add(retitled.clone()), t0())
        .then_code("duplicate_id");
    let (movie, _) = movie
        .when(MovieCommand::RetireMovie { movie_id }, t0())
        .then_accepted();
    movie
        .when(
            MovieCommand::UpdateMovie {
                movie_id,
                movie: retitled,
            },
            t0(),
        )
        .then_error(DomainError::Retired("movie"));
}

#[test]
fn catalogue_events_read_back_as_stored() {
    let (_, events) = open_cinema().when(book(10, 120, 120), t0()).then_accepted();
    for event in events {
        let stored = event.to_json();
        let back = CinemaEvent::from_stored(event.event_type(), 1, &stored).unwrap();
        assert_eq!(back, event);
    }
    assert!(CinemaEvent::from_stored("MovieAdded", 1, &serde_json::json!({})).is_err());
}

#[test]
fn a_hall_name_is_unique_in_its_cinema_until_that_hall_is_retired() {
    let hall = |id: u128, name: &str| CinemaCommand::AddHall {
        hall_id: HallId(Uuid::from_u128(id)),
        hall: HallDetails {
            name: name.into(),
            layout: layout(&[("A", "RR")]),
            prices: BTreeMap::from([("regular".into(), cny(4500))]),
        },
    };
    let cinema = open_cinema();
    cinema.when(hall(4, "1号厅"), t0()).then_invalid(&["name"]);
    let (cinema, _) = cinema
        .when(
            CinemaCommand::RetireHall {
                hall_id: HallId(Uuid::from_u128(3)),
            },
            t0(),
        )
        .then_accepted();
    cinema.when(hall(4, "1号厅"), t0()).then_accepted();
}
