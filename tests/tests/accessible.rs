//! Accessible seating end to end: a cinema's wheelchair spaces and companion seats are kept
//! for wheelchair users' parties, booked with companions, released at the release point (a
//! manual clock brings it; the server's scheduler releases them), then sold to anyone; and
//! released early by staff, or by selling the rest of the hall.

use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures::cny;
use boxoffice_tests::server::{Api, TestServer};
use boxoffice_tests::wait::eventually;
use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

/// Row A: four regular seats; row B: a companion seat, a wheelchair space, a companion seat,
/// an aisle, two regular seats (B1-B3, B4-B5). 45.00 regular, 30.00 accessible.
fn hall() -> Value {
    json!({
        "name": "无障碍厅",
        "layout": {"rows": [
            {"label": "A", "cells": "RRRR"},
            {"label": "B", "cells": "CWC_RR"}
        ]},
        "prices": {"regular": cny(4500), "accessible": cny(3000)}
    })
}

/// A cinema keeping its accessible seats as `rule` says (absent: the default rule), with the
/// hall above; its hall's id.
async fn cinema_with_hall(api: &Api, staff: &str, rule: Option<Value>) -> String {
    let city = api
        .create_city(staff, "深圳", "Asia/Shanghai")
        .await
        .created("id");
    let mut cinema = json!({
        "city_id": city, "name": "南山影城", "address": "南山区 1号",
        "latitude": 22.53, "longitude": 113.93, "postal_code": "518000"
    });
    if let Some(rule) = rule {
        cinema["accessible_seating"] = rule;
    }
    let cinema = api.create_cinema(staff, &cinema).await.created("id");
    api.create_hall(staff, &cinema, &hall()).await.created("id")
}

async fn movie(api: &Api, staff: &str) -> String {
    api.create_movie(
        staff,
        &boxoffice_tests::fixtures::movie("奇迹·笨小孩", None, "深圳的故事。", &["drama"], "zh"),
    )
    .await
    .created("id")
}

/// A show of `movie` in `hall` at `at`: its id, and the position its seat map is at once
/// the show is on it.
async fn show_at(
    api: &Api,
    staff: &str,
    movie: &str,
    hall: &str,
    at: DateTime<Utc>,
) -> (String, String) {
    let starts_at = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let scheduled = api
        .schedule_show(
            staff,
            &boxoffice_tests::fixtures::show_in_hall(movie, hall, &starts_at),
        )
        .await;
    (
        scheduled.created("show_id"),
        scheduled.position().to_owned(),
    )
}

/// The seat map once it reflects `position`.
async fn seat_map(api: &Api, show: &str, position: &str) -> Value {
    api.seat_map(show).min_position(position).await.body.clone()
}

fn seat<'a>(map: &'a Value, id: &str) -> &'a Value {
    map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seat_id"] == id)
        .unwrap_or_else(|| panic!("no seat {id} in {map}"))
}

#[tokio::test]
async fn accessible_seats_are_kept_booked_with_companions_and_released_at_the_release_time() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let staff = api.staff();
    let rule = json!({
        "release_hours_before": 2, "release_when_rest_sold": true,
        "companions_per_wheelchair": 1
    });
    let hall = cinema_with_hall(api, &staff, Some(rule.clone())).await;
    let movie = movie(api, &staff).await;
    let starts_at = (clock.now() + Duration::hours(4)).trunc_subsecs(0);
    let (show, scheduled) = show_at(api, &staff, &movie, &hall, starts_at).await;
    let (alice, bob, carol) = (
        api.customer("alice"),
        api.customer("bob"),
        api.customer("carol"),
    );

    // The seat map says what is kept, for whom, and until when.
    let map = seat_map(api, &show, &scheduled).await;
    let kept = &map["accessible_seats"];
    assert_eq!(kept["kept"], true, "{map}");
    assert_eq!(kept["rule"], rule);
    let release_at = starts_at - Duration::hours(2);
    let said: DateTime<Utc> = kept["release_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(said, release_at);
    for id in ["B1", "B2", "B3"] {
        assert_eq!(seat(&map, id)["reserved_for"], "wheelchair", "{id}");
    }
    assert_eq!(seat(&map, "B2")["kind"], "wheelchair");
    assert!(seat(&map, "B4").get("reserved_for").is_none());

    // Not for anyone who does not say they need them...
    let refused = api.hold_seats(&carol, &show, &["B1", "B4"]).await;
    let problem = refused.expect_problem(409, "seats_reserved");
    assert_eq!(problem["reserved_seats"], json!(["B1"]));
    // ... nor by best available unasked: four seats in a row exist only in row A.
    let best = api.hold_best_available(&bob, &show, 2, None).await;
    let seats = best.expect_created()["seats"].clone();
    assert!(
        seats
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !["B1", "B2", "B3"].contains(&s.as_str().unwrap())),
        "{seats}"
    );
    api.release_hold(&bob, &show, best.text("hold_id"))
        .await
        .expect_ok();
    // A wheelchair user's party: one companion per space, beside it.
    api.hold_for_wheelchair(&alice, &show, &["B1", "B2", "B3"])
        .await
        .expect_problem(422, "validation_failed");
    api.hold_for_wheelchair(&alice, &show, &["B1"])
        .await
        .expect_problem(422, "validation_failed");
    let held = api.hold_for_wheelchair(&alice, &show, &["B2", "B3"]).await;
    assert_eq!(held.expect_created()["total"], cny(6000));
    let paid = api
        .confirm_hold(&staff, &show, held.text("hold_id"), "pos-1", &cny(6000))
        .await;
    paid.expect_created();
    let map = seat_map(api, &show, paid.position()).await;
    assert_eq!(seat(&map, "B2")["status"], "sold");
    assert_eq!(map["accessible_seats"]["kept"], true);

    // A minute before the release time nothing changes; at it, the scheduler releases them.
    clock.advance(release_at - clock.now() - Duration::minutes(1));
    api.hold_seats(&carol, &show, &["B1"])
        .await
        .expect_problem(409, "seats_reserved");
    clock.advance(Duration::minutes(1));
    let map = eventually("the scheduler releases the kept seats", async || {
        let map = api.seat_map(&show).await.body.clone();
        match map["accessible_seats"]["kept"] == false {
            true => Ok(map),
            false => Err(map["accessible_seats"].to_string()),
        }
    })
    .await;
    assert_eq!(map["accessible_seats"]["released_because"], "release_time");
    assert!(seat(&map, "B1").get("reserved_for").is_none());
    // Sold to anyone now, companion seat or not.
    let held = api.hold_seats(&carol, &show, &["B1"]).await;
    held.expect_created();

    // The log says what was released, why, and who: the scheduler.
    let auditor = api.auditor();
    let stream = api.show_stream(&auditor, &show).await;
    let releases: Vec<&Value> = stream.expect_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "AccessibleSeatsReleased")
        .collect();
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert_eq!(releases[0]["data"]["reason"], "release_time");
    assert_eq!(releases[0]["metadata"]["actor"], "system:expiry");
}

#[tokio::test]
async fn staff_release_early_and_selling_the_rest_of_the_hall_releases_them() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    // Kept until the rest is sold, with no release time.
    let rule = json!({"release_when_rest_sold": true, "companions_per_wheelchair": 1});
    let hall = cinema_with_hall(api, &staff, Some(rule)).await;
    let movie = movie(api, &staff).await;
    let tomorrow = (Utc::now() + Duration::days(1)).trunc_subsecs(0);
    let (first, scheduled) = show_at(api, &staff, &movie, &hall, tomorrow).await;
    let (second, _) = show_at(api, &staff, &movie, &hall, tomorrow + Duration::hours(4)).await;
    let map = seat_map(api, &first, &scheduled).await;
    assert!(map["accessible_seats"].get("release_at").is_none(), "{map}");

    // Selling every ordinary seat releases them in the same decision as the last sale.
    let buyer = api.customer("dave");
    let rest = ["A1", "A2", "A3", "A4", "B4", "B5"];
    let held = api.hold_seats(&buyer, &first, &rest).await;
    held.expect_created();
    let map = seat_map(api, &first, held.position()).await;
    assert_eq!(map["accessible_seats"]["kept"], true, "held is not sold");
    let paid = api
        .confirm_hold(&staff, &first, held.text("hold_id"), "pos-2", &cny(27000))
        .await;
    paid.expect_created();
    let map = seat_map(api, &first, paid.position()).await;
    assert_eq!(map["accessible_seats"]["kept"], false);
    assert_eq!(map["accessible_seats"]["released_because"], "rest_sold");
    api.hold_seats(&api.customer("erin"), &first, &["B1", "B2"])
        .await
        .expect_created();

    // Staff release the other show's seats early; asking again changes nothing.
    api.release_accessible_seats(&api.customer("erin"), &second)
        .await
        .expect_status(403);
    let released = api.release_accessible_seats(&staff, &second).await;
    assert_eq!(released.expect_ok()["released"], true);
    assert_eq!(released.body["reason"], "staff");
    let again = api.release_accessible_seats(&staff, &second).await;
    assert_eq!(again.expect_ok()["released"], false);
    let map = seat_map(api, &second, released.position()).await;
    assert_eq!(map["accessible_seats"]["released_because"], "staff");
    api.hold_seats(&api.customer("fay"), &second, &["B3"])
        .await
        .expect_created();
    let unknown = uuid::Uuid::new_v4().to_string();
    api.release_accessible_seats(&staff, &unknown)
        .await
        .expect_problem(404, "show_not_found");
}

#[tokio::test]
async fn a_bad_rule_is_refused_and_writes_nothing() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let city = api
        .create_city(&staff, "深圳", "Asia/Shanghai")
        .await
        .created("id");
    let cinema = json!({
        "city_id": city, "name": "南山影城", "address": "南山区 1号",
        "latitude": 22.53, "longitude": 113.93, "postal_code": "518000",
        "accessible_seating": {
            "release_hours_before": 721, "release_when_rest_sold": true,
            "companions_per_wheelchair": 5
        }
    });
    let refused = api.create_cinema(&staff, &cinema).await;
    refused.expect_problem(422, "validation_failed");
    assert_eq!(
        refused.invalid_fields(),
        [
            "accessible_seating.release_hours_before",
            "accessible_seating.companions_per_wheelchair"
        ]
    );
    let mut unknown_field = cinema.clone();
    unknown_field["accessible_seating"] =
        json!({"release_when_rest_sold": true, "companions_per_wheelchair": 1, "hours": 2});
    api.create_cinema(&staff, &unknown_field)
        .await
        .expect_status(422);
    // With `count`, the category says it; `accessible` goes with chosen seats only.
    let show = api
        .scheduled_show(&boxoffice_tests::fixtures::show(1, 4))
        .await;
    api.hold(
        &api.customer("gus"),
        &show,
        &json!({"count": 2, "accessible": true}),
    )
    .await
    .expect_problem(422, "validation_failed");
}
