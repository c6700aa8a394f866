//! The catalogue over HTTP: staff build it, ticket clients browse and search it.

use boxoffice_api::auth::Role;
use boxoffice_tests::server::{Api, Reply, TestServer};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// Tomorrow in Shanghai: every show of the fixture is on it or the day after.
fn day() -> NaiveDate {
    Utc::now().with_timezone(&shanghai()).date_naive() + Duration::days(1)
}

fn at(day: NaiveDate, hour: u32) -> DateTime<FixedOffset> {
    shanghai()
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .unwrap()
}

fn encode(time: DateTime<FixedOffset>) -> String {
    time.to_rfc3339().replace('+', "%2B")
}

fn id(reply: &Reply) -> String {
    assert!(
        reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
        "{reply:?}"
    );
    reply.body["id"]
        .as_str()
        .or(reply.body["show_id"].as_str())
        .unwrap()
        .to_owned()
}

fn hall(name: &str) -> Value {
    json!({
        "name": name,
        "layout": {"rows": [
            {"label": "A", "cells": "RRRR_RRRR"},
            {"label": "B", "cells": "WC__PPPP"}
        ]},
        "prices": {
            "regular": {"amount_minor": 4500, "currency": "CNY"},
            "premium": {"amount_minor": 6800, "currency": "CNY"},
            "accessible": {"amount_minor": 3000, "currency": "CNY"}
        }
    })
}

fn movie(
    title: &str,
    original: Option<&str>,
    description: &str,
    genres: &[&str],
    language: &str,
) -> Value {
    json!({
        "title": title,
        "original_title": original,
        "description": description,
        "duration_minutes": 120,
        "genres": genres,
        "language": language,
        "country": "CN",
        "release_date": "2026-01-01",
        "rating": "PG-13"
    })
}

/// Two cities, three cinemas, three movies, seven shows.
struct Fixture {
    api: Api,
    staff: String,
    shanghai: String,
    beijing: String,
    /// People's Square, Shanghai; Wujiaochang, Shanghai (about 10 km north-east); Beijing.
    cinemas: [String; 3],
    halls: [String; 3],
    /// 流浪地球3 (sci-fi, zh), Avatar (sci-fi, en), 你好，李焕英 (comedy, zh).
    earth: String,
    avatar: String,
    mom: String,
    shows: Vec<String>,
    position: String,
}

impl Fixture {
    async fn build(server: &TestServer) -> Self {
        let api = server.api.clone();
        let staff = api.token("staff-1", &[Role::Staff]);
        let post = |path: &'static str, body: Value| {
            let (api, staff) = (api.clone(), staff.clone());
            async move { api.post(path, &staff, &body).await }
        };
        let shanghai_id = id(&post(
            "/v1/cities",
            json!({"name": "上海", "time_zone": "Asia/Shanghai"}),
        )
        .await);
        let beijing_id = id(&post(
            "/v1/cities",
            json!({"name": "北京", "time_zone": "Asia/Shanghai"}),
        )
        .await);
        let places = [
            (&shanghai_id, "人民广场影城", 31.2304, 121.4737, "200001"),
            (&shanghai_id, "五角场影城", 31.2990, 121.5140, "200433"),
            (&beijing_id, "王府井影城", 39.9150, 116.4110, "100006"),
        ];
        let mut cinemas = Vec::new();
        let mut halls = Vec::new();
        for (city, name, latitude, longitude, postal_code) in places {
            let cinema = id(&post(
                "/v1/cinemas",
                json!({
                    "city_id": city, "name": name, "address": format!("{name} 1号"),
                    "latitude": latitude, "longitude": longitude, "postal_code": postal_code
                }),
            )
            .await);
            let reply = api
                .post(
                    &format!("/v1/cinemas/{cinema}/halls"),
                    &staff,
                    &hall("1号厅"),
                )
                .await;
            halls.push(id(&reply));
            cinemas.push(cinema);
        }
        let earth = id(&post(
            "/v1/movies",
            movie(
                "流浪地球3",
                Some("The Wandering Earth III"),
                "太阳即将毁灭，人类带着地球流浪。",
                &["sci-fi", "adventure"],
                "zh",
            ),
        )
        .await);
        let avatar = id(&post(
            "/v1/movies",
            movie(
                "Avatar: Fire and Ash",
                None,
                "Return to Pandora.",
                &["sci-fi"],
                "en",
            ),
        )
        .await);
        let mom = id(&post(
            "/v1/movies",
            movie(
                "你好，李焕英",
                Some("Hi, Mom"),
                "一部关于母亲的喜剧。",
                &["comedy", "drama"],
                "zh",
            ),
        )
        .await);
        let d = day();
        let d1 = d + Duration::days(1);
        let plan = [
            (0, &earth, at(d, 10)),
            (0, &avatar, at(d, 14)),
            (0, &mom, at(d1, 10)),
            (1, &earth, at(d, 12)),
            (1, &mom, at(d, 16)),
            (2, &avatar, at(d, 10)),
            (2, &earth, at(d1, 18)),
        ];
        let mut shows = Vec::new();
        let mut position = String::new();
        for (cinema, movie_id, starts_at) in plan {
            let reply = api
                .post(
                    "/v1/shows",
                    &staff,
                    &json!({"movie_id": movie_id, "hall_id": halls[cinema], "starts_at": starts_at.to_rfc3339()}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
            shows.push(id(&reply));
            position = reply.body["position"].as_str().unwrap().to_owned();
        }
        Fixture {
            api,
            staff,
            shanghai: shanghai_id,
            beijing: beijing_id,
            cinemas: cinemas.try_into().unwrap(),
            halls: halls.try_into().unwrap(),
            earth,
            avatar,
            mom,
            shows,
            position,
        }
    }

    /// The search's hits as movie ids, checking the answer is a 200.
    async fn search(&self, query: &str) -> (Vec<String>, Reply) {
        let reply = self
            .api
            .get(
                &format!("/v1/movies/search?min_position={}&{query}", self.position),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {reply:?}");
        let ids = reply.body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["movie"]["movie_id"].as_str().unwrap().to_owned())
            .collect();
        (ids, reply)
    }

    async fn hits(&self, query: &str) -> Vec<String> {
        self.search(query).await.0
    }

    fn set(&self, ids: &[&String]) -> BTreeSet<String> {
        ids.iter().map(|s| (*s).clone()).collect()
    }
}

fn set(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

#[tokio::test]
async fn each_search_filter_narrows_the_hits() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let (d, d1) = (day(), day() + Duration::days(1));
    let all = f.set(&[&f.earth, &f.avatar, &f.mom]);
    assert_eq!(set(f.hits("").await), all);

    // Keywords: partial words, Chinese text, original titles, descriptions, any case.
    assert_eq!(
        f.hits("keyword=%E5%9C%B0%E7%90%83").await,
        [f.earth.as_str()],
        "地球"
    );
    assert_eq!(f.hits("keyword=WANDERING").await, [f.earth.as_str()]);
    assert_eq!(f.hits("keyword=pandor").await, [f.avatar.as_str()]);
    assert_eq!(
        f.hits("keyword=%E6%AF%8D%E4%BA%B2").await,
        [f.mom.as_str()],
        "母亲 (description)"
    );
    assert_eq!(
        f.hits("keyword=the%20iii").await,
        [f.earth.as_str()],
        "every word must match"
    );
    assert!(f.hits("keyword=the%20mom").await.is_empty());
    assert!(
        f.hits("keyword=100%25").await.is_empty(),
        "% is matched literally"
    );

    assert_eq!(set(f.hits(&format!("city={}", f.shanghai)).await), all);
    assert_eq!(
        set(f.hits(&format!("city={}", f.beijing)).await),
        f.set(&[&f.earth, &f.avatar])
    );
    assert_eq!(
        set(f.hits(&format!("city={}&date={d1}", f.shanghai)).await),
        f.set(&[&f.mom])
    );
    assert_eq!(
        set(f.hits(&format!("city={}&date={d}", f.beijing)).await),
        f.set(&[&f.avatar])
    );
    // Within 3 km of People's Square: only its cinema (Wujiaochang is about 9 km away).
    let near = "latitude=31.2304&longitude=121.4737&radius_km=3";
    let (ids, reply) = f.search(near).await;
    assert_eq!(set(ids), all);
    for hit in reply.body["hits"].as_array().unwrap() {
        for show in hit["shows"].as_array().unwrap() {
            assert_eq!(show["cinema"]["cinema_id"], f.cinemas[0].as_str(), "{show}");
            assert!(show["cinema"]["distance_km"].as_f64().unwrap() < 0.01);
        }
    }
    assert_eq!(
        set(f
            .hits("latitude=31.2304&longitude=121.4737&radius_km=12")
            .await),
        all
    );
    assert_eq!(
        set(f.hits("postal_code=200433").await),
        f.set(&[&f.earth, &f.mom])
    );
    let window = format!("start={}&end={}", encode(at(d, 11)), encode(at(d, 13)));
    let (ids, reply) = f.search(&window).await;
    assert_eq!(ids, [f.earth.as_str()]);
    let shows = reply.body["hits"][0]["shows"].as_array().unwrap();
    assert_eq!(shows.len(), 1);
    assert_eq!(shows[0]["cinema"]["cinema_id"], f.cinemas[1].as_str());
    assert_eq!(reply.body["hits"][0]["shows_total"], 1);
    assert_eq!(f.hits("genre=comedy").await, [f.mom.as_str()]);
    assert_eq!(f.hits("language=en").await, [f.avatar.as_str()]);
    assert!(f.hits("genre=horror").await.is_empty());
    // Filters combine.
    assert_eq!(
        f.hits(&format!(
            "city={}&language=zh&date={d}&genre=sci-fi",
            f.shanghai
        ))
        .await,
        [f.earth.as_str()]
    );

    // A hit lists its shows with cinema, hall and each category's price and status.
    let (_, reply) = f
        .search(&format!("city={}&date={d}&genre=comedy", f.shanghai))
        .await;
    let hit = &reply.body["hits"][0];
    assert_eq!(hit["movie"]["title"], "你好，李焕英");
    assert_eq!(hit["movie"]["original_title"], "Hi, Mom");
    let show = &hit["shows"][0];
    assert_eq!(show["show_id"], f.shows[4].as_str());
    assert_eq!(show["hall"]["name"], "1号厅");
    assert_eq!(show["cinema"]["name"], "五角场影城");
    assert_eq!(
        show["starts_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        at(d, 16)
    );
    assert_eq!(
        show["ends_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        at(d, 18),
        "the end is the start plus the movie's 120 minutes"
    );
    assert_eq!(
        show["categories"],
        json!([
            {"category": "accessible", "price": {"amount_minor": 3000, "currency": "CNY"}, "status": "available"},
            {"category": "premium", "price": {"amount_minor": 6800, "currency": "CNY"}, "status": "available"},
            {"category": "regular", "price": {"amount_minor": 4500, "currency": "CNY"}, "status": "available"}
        ])
    );

    // Bad parameters are 400s naming the problem.
    for bad in [
        "radius_km=5",
        "latitude=31",
        "latitude=91&longitude=0",
        "sort=price",
        "sort=date:up",
        "sort=distance",
        "sort=name,name",
        "page_size=31",
        "page_size=0",
        "date=tomorrow",
        "city=shanghai",
        "colour=red",
        "start=2030-01-01T00:00:00Z&end=2029-01-01T00:00:00Z",
    ] {
        let reply = f.api.get(&format!("/v1/movies/search?{bad}"), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {reply:?}");
        assert_eq!(reply.code(), "invalid_query", "{bad}");
    }
}

#[tokio::test]
async fn search_sorts_by_name_date_and_distance_each_way_and_combined() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    let (earth, avatar, mom) = (f.earth.as_str(), f.avatar.as_str(), f.mom.as_str());
    // By title: "avatar…" < "你好…" < "流浪…" (lower-cased, in code point order).
    assert_eq!(f.hits("sort=name").await, [avatar, mom, earth]);
    assert_eq!(f.hits("sort=name:desc").await, [earth, mom, avatar]);
    // By earliest matching show: in Shanghai that day earth 10:00, avatar 14:00, mom 16:00.
    let shanghai_day = format!("city={}&date={d}", f.shanghai);
    assert_eq!(
        f.hits(&format!("{shanghai_day}&sort=date")).await,
        [earth, avatar, mom]
    );
    assert_eq!(
        f.hits(&format!("{shanghai_day}&sort=date:desc")).await,
        [mom, avatar, earth]
    );
    // Everywhere: earth and avatar both first show at 10:00; the name decides between them.
    assert_eq!(f.hits("sort=date,name").await, [avatar, earth, mom]);
    assert_eq!(f.hits("sort=date,name:desc").await, [earth, avatar, mom]);

    // From Wujiaochang: earth and mom play there (0 km), avatar only at People's Square
    // (about 9 km) and in Beijing.
    let from = "latitude=31.2990&longitude=121.5140";
    let (ids, reply) = f.search(&format!("{from}&sort=distance,name")).await;
    assert_eq!(ids, [mom, earth, avatar]);
    let distances: Vec<f64> = reply.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances[0] < 0.01 && distances[1] < 0.01, "{distances:?}");
    assert!((8.0..11.0).contains(&distances[2]), "{distances:?}");
    // Shows of a hit sorted by distance come nearest first.
    let shows = reply.body["hits"][1]["shows"].as_array().unwrap();
    let show_distances: Vec<f64> = shows
        .iter()
        .map(|s| s["cinema"]["distance_km"].as_f64().unwrap())
        .collect();
    assert!(
        show_distances.windows(2).all(|w| w[0] <= w[1]),
        "{show_distances:?}"
    );
    assert!(
        show_distances.last().unwrap() > &1000.0,
        "Beijing is far: {show_distances:?}"
    );
    assert_eq!(
        f.hits(&format!("{from}&sort=distance:desc,name")).await,
        [avatar, mom, earth]
    );
}

#[tokio::test]
async fn pages_follow_each_other_without_duplicates_or_gaps() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    for sort in ["name", "date:desc,name", "distance,date"] {
        let base = format!("latitude=31.2304&longitude=121.4737&sort={sort}");
        let (everything, _) = f.search(&base).await;
        assert_eq!(everything.len(), 3);
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("{base}&page_size=1&cursor={c}"),
                None => format!("{base}&page_size=1"),
            };
            let (ids, reply) = f.search(&query).await;
            assert_eq!(ids.len(), 1, "{sort}: {reply:?}");
            paged.extend(ids);
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(paged.len() <= 3, "{sort}: more pages than hits");
        }
        assert_eq!(
            paged, everything,
            "{sort}: pages in order, none twice, none missed"
        );
    }
    // Two per page: the second page has the last one and no cursor.
    let (first, reply) = f.search("sort=name&page_size=2").await;
    assert_eq!(first, [f.avatar.as_str(), f.mom.as_str()]);
    let cursor = reply.body["next_cursor"].as_str().unwrap().to_owned();
    let (second, reply) = f
        .search(&format!("sort=name&page_size=2&cursor={cursor}"))
        .await;
    assert_eq!(second, [f.earth.as_str()]);
    assert!(reply.body.get("next_cursor").is_none());
    // A cursor belongs to its search.
    for query in [
        format!("sort=name:desc&cursor={cursor}"),
        format!("sort=name&genre=comedy&cursor={cursor}"),
        "sort=name&cursor=bm90LWEtY3Vyc29y".to_owned(),
        "cursor=%%%".to_owned(),
    ] {
        let reply = f.api.get(&format!("/v1/movies/search?{query}"), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {reply:?}");
    }
}

#[tokio::test]
async fn an_unchanged_answer_is_304_and_a_change_of_availability_is_not() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let query = format!(
        "/v1/movies/search?city={}&genre=comedy&date={}&min_position={}",
        f.shanghai,
        day(),
        f.position
    );
    let first = f.api.get(&query, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let tag = first.header("etag").unwrap().to_owned();
    let again = f
        .api
        .send(Method::GET, &query, None, None, &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{again:?}");
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.body, Value::Null, "a 304 has no body");
    for path in [
        "/v1/cities".to_owned(),
        format!("/v1/cities/{}/movies", f.shanghai),
        format!("/v1/movies/{}", f.mom),
        format!("/v1/movies/{}/shows?city={}", f.mom, f.shanghai),
    ] {
        let reply = f.api.get(&path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let tag = reply.header("etag").unwrap().to_owned();
        let again = f
            .api
            .send(Method::GET, &path, None, None, &[("if-none-match", &tag)])
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    }

    // Someone holds both accessible seats of the comedy's show: its status changes.
    let show = &f.shows[4];
    let customer = f.api.token("alice", &[Role::Customer]);
    let hold = f
        .api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &customer,
            &json!({"seats": ["B1", "B2"]}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{hold:?}");
    // Seven of eight regular seats held: under 20% left.
    let bob = f.api.token("bob", &[Role::Customer]);
    let hold = f
        .api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &bob,
            &json!({"seats": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{hold:?}");
    let position = hold.body["position"].as_str().unwrap();
    let changed = f
        .api
        .send(
            Method::GET,
            &query.replace(&f.position, position),
            None,
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let statuses: Vec<(&str, &str)> = changed.body["hits"][0]["shows"][0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("accessible", "full"),
            ("premium", "available"),
            ("regular", "almost_full")
        ]
    );
    let now = f.api.get(&query, None).await;
    assert_ne!(now.header("etag"), Some(tag.as_str()));
}

#[tokio::test]
async fn cities_movies_and_shows_by_cinema_are_browsable_without_a_token() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    let _ = f.hits("").await; // caught up
    let cities = f.api.get("/v1/cities", None).await;
    let names: Vec<&str> = cities
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["上海", "北京"]
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );

    let showing = f
        .api
        .get(&format!("/v1/cities/{}/movies", f.beijing), None)
        .await;
    assert_eq!(showing.status, StatusCode::OK);
    let movies: Vec<&str> = showing
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["movie"]["movie_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        movies,
        [f.avatar.as_str(), f.earth.as_str()],
        "soonest first"
    );
    assert_eq!(
        showing.body[0]["next_shows"][0]["show_id"],
        f.shows[5].as_str()
    );
    assert_eq!(
        showing.body[0]["next_shows"][0]["cinema_name"],
        "王府井影城"
    );

    let detail = f.api.get(&format!("/v1/movies/{}", f.earth), None).await;
    assert_eq!(detail.body["title"], "流浪地球3");
    assert_eq!(detail.body["genres"], json!(["sci-fi", "adventure"]));
    assert_eq!(detail.body["duration_minutes"], 120);

    let by_cinema = f
        .api
        .get(
            &format!("/v1/movies/{}/shows?city={}&date={d}", f.earth, f.shanghai),
            None,
        )
        .await;
    assert_eq!(by_cinema.status, StatusCode::OK, "{by_cinema:?}");
    let groups = by_cinema.body.as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["cinema"]["cinema_id"], f.cinemas[0].as_str());
    assert_eq!(groups[0]["shows"][0]["show_id"], f.shows[0].as_str());
    assert_eq!(groups[1]["cinema"]["cinema_id"], f.cinemas[1].as_str());
    assert_eq!(groups[1]["shows"][0]["show_id"], f.shows[3].as_str());

    let cinema = f
        .api
        .get(&format!("/v1/cinemas/{}", f.cinemas[2]), None)
        .await;
    assert_eq!(cinema.body["name"], "王府井影城");
    assert_eq!(cinema.body["halls"][0]["hall_id"], f.halls[2].as_str());
    assert_eq!(cinema.body["halls"][0]["capacity"], 14);
    let listed = f
        .api
        .get(&format!("/v1/cinemas?city={}", f.shanghai), None)
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);

    for missing in [
        format!("/v1/movies/{}", uuid::Uuid::new_v4()),
        format!("/v1/cities/{}/movies", uuid::Uuid::new_v4()),
        format!("/v1/cinemas/{}", uuid::Uuid::new_v4()),
    ] {
        assert_eq!(
            f.api.get(&missing, None).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

async fn events_in_log(server: &TestServer) -> i64 {
    let client = server.db.client().await;
    client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn overlapping_shows_and_bad_layouts_are_refused_with_422_and_write_nothing() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    let before = events_in_log(&server).await;

    // The 10:00 show of earth runs until 12:00, plus 15 minutes of cleaning.
    for (hour, minute) in [(11, 0), (12, 0), (9, 0)] {
        let starts_at = shanghai()
            .from_local_datetime(&d.and_hms_opt(hour, minute, 0).unwrap())
            .unwrap();
        let reply = f
            .api
            .post(
                "/v1/shows",
                &f.staff,
                &json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": starts_at.to_rfc3339()}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{hour}:{minute} {reply:?}"
        );
        assert_eq!(reply.code(), "show_overlaps");
        assert_eq!(reply.body["conflicting_show_id"], f.shows[0].as_str());
        assert_eq!(reply.body["errors"][0]["field"], "starts_at");
    }
    let bad_layouts = [
        (json!({"rows": []}), "layout.rows"),
        (
            json!({"rows": [{"label": "A", "cells": "RRX"}]}),
            "layout.rows[0].cells",
        ),
        (
            json!({"rows": [{"label": "A", "cells": "RR"}, {"label": "A", "cells": "RR"}]}),
            "layout.rows[1].label",
        ),
        (
            json!({"rows": [{"label": "A", "cells": "___"}]}),
            "layout.rows[0].cells",
        ),
        (
            json!({"rows": [{"label": "A", "cells": "C_RR"}]}),
            "layout.rows[0].cells",
        ),
        (
            json!({"rows": [{"label": "", "cells": "RR"}]}),
            "layout.rows[0].label",
        ),
    ];
    for (layout, field) in bad_layouts {
        let mut body = hall("2号厅");
        body["layout"] = layout.clone();
        let reply = f
            .api
            .post(
                &format!("/v1/cinemas/{}/halls", f.cinemas[0]),
                &f.staff,
                &body,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{layout}: {reply:?}"
        );
        assert_eq!(reply.code(), "validation_failed");
        let fields: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{layout}: {fields:?}");
    }
    // Prices must cover the layout's categories; a missing field is named too.
    let mut body = hall("2号厅");
    body["prices"] = json!({"regular": {"amount_minor": 4500, "currency": "CNY"}});
    let reply = f
        .api
        .post(
            &format!("/v1/cinemas/{}/halls", f.cinemas[0]),
            &f.staff,
            &body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["prices.accessible", "prices.premium"]);
    // Other refusals: an unknown hall, the inline form's fields with a hall, a bad movie.
    for (body, field) in [
        (
            json!({"movie_id": f.mom, "hall_id": uuid::Uuid::new_v4(), "starts_at": at(d, 20).to_rfc3339()}),
            "hall_id",
        ),
        (
            json!({"movie_id": uuid::Uuid::new_v4(), "hall_id": f.halls[0], "starts_at": at(d, 20).to_rfc3339()}),
            "movie_id",
        ),
        (
            json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": at(d, 20).to_rfc3339(), "title": "x"}),
            "title",
        ),
        (
            json!({"movie_id": f.mom, "starts_at": at(d, 20).to_rfc3339()}),
            "title",
        ),
    ] {
        let reply = f.api.post("/v1/shows", &f.staff, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {reply:?}"
        );
        assert_eq!(reply.body["errors"][0]["field"], field, "{body}");
    }
    let bad_movie = movie("", None, "", &[], "chinese");
    let reply = f.api.post("/v1/movies", &f.staff, &bad_movie).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "genres", "language"]);
    let reply = f
        .api
        .post("/v1/cinemas", &f.staff, &json!({"city_id": uuid::Uuid::new_v4(), "name": "x", "address": "y", "latitude": 95.0, "longitude": 0.0, "postal_code": "1"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
    assert_eq!(events_in_log(&server).await, before, "nothing was written");

    // The same show scheduled again (another request, another key) is refused, and its hall
    // time stays booked: an overlapping show is still refused.
    let again = f
        .api
        .post(
            "/v1/shows",
            &f.staff,
            &json!({"show_id": f.shows[0], "movie_id": f.earth, "hall_id": f.halls[0], "starts_at": at(d, 10).to_rfc3339()}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    let overlapping = f
        .api
        .post(
            "/v1/shows",
            &f.staff,
            &json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": at(d, 11).to_rfc3339()}),
        )
        .await;
    assert_eq!(overlapping.code(), "show_overlaps", "{overlapping:?}");
    let far = f
        .api
        .post(
            "/v1/shows",
            &f.staff,
            &json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": "9999-12-31T23:00:00Z"}),
        )
        .await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{far:?}");

    // Right after the cleaning gap is fine.
    let reply = f
        .api
        .post(
            "/v1/shows",
            &f.staff,
            &json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": shanghai().from_local_datetime(&d.and_hms_opt(12, 15, 0).unwrap()).unwrap().to_rfc3339()}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "avatar's 14:00 show leaves 12:15-14:00: too short for 120 minutes"
    );
    assert_eq!(reply.body["conflicting_show_id"], f.shows[1].as_str());
}

#[tokio::test]
async fn a_show_keeps_its_layout_when_the_hall_changes_and_cancelling_frees_the_hall() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    // The hall is rebuilt with one row; the scheduled show keeps its 14 seats.
    let mut smaller = hall("1号厅");
    smaller["layout"] = json!({"rows": [{"label": "A", "cells": "RR"}]});
    smaller["prices"] = json!({"regular": {"amount_minor": 5000, "currency": "CNY"}});
    let reply = f
        .api
        .send(
            Method::PUT,
            &format!("/v1/cinemas/{}/halls/{}", f.cinemas[0], f.halls[0]),
            Some(&f.staff),
            Some(&smaller),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let position = reply.body["position"].as_str().unwrap();
    let map = f
        .api
        .get(
            &format!("/v1/shows/{}/seats?min_position={position}", f.shows[0]),
            None,
        )
        .await;
    let seats = map.body["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 14);
    let b1 = seats.iter().find(|s| s["seat_id"] == "B1").unwrap();
    assert_eq!(b1["kind"], "wheelchair");
    assert_eq!(b1["category"], "accessible");
    let a5 = seats.iter().find(|s| s["seat_id"] == "A5").unwrap();
    assert_eq!(a5["column"], 6, "A5 sits after the aisle");

    // Cancelled: gone from search, sales stop, and the hall's time is free again.
    let cancelled = f
        .api
        .post(
            &format!("/v1/shows/{}/cancel", f.shows[0]),
            &f.staff,
            &json!({"reason": "放映机故障"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    let position = cancelled.body["position"].as_str().unwrap().to_owned();
    let customer = f.api.token("carol", &[Role::Customer]);
    let hold = f
        .api
        .post(
            &format!("/v1/shows/{}/holds", f.shows[0]),
            &customer,
            &json!({"seats": ["A1"]}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CONFLICT);
    assert_eq!(hold.code(), "show_cancelled");
    let reply = f
        .api
        .get(
            &format!(
                "/v1/movies/search?city={}&date={d}&min_position={position}",
                f.shanghai
            ),
            None,
        )
        .await;
    let listed: Vec<&str> = reply.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["shows"].as_array().unwrap())
        .map(|s| s["show_id"].as_str().unwrap())
        .collect();
    assert!(!listed.contains(&f.shows[0].as_str()), "{listed:?}");
    let map = f
        .api
        .get(
            &format!("/v1/shows/{}/seats?min_position={position}", f.shows[0]),
            None,
        )
        .await;
    assert_eq!(map.body["cancelled"], true);
    // The new layout is what a show scheduled now gets, in the freed time.
    let rescheduled = f
        .api
        .post(
            "/v1/shows",
            &f.staff,
            &json!({"movie_id": f.mom, "hall_id": f.halls[0], "starts_at": at(d, 10).to_rfc3339()}),
        )
        .await;
    assert_eq!(rescheduled.status, StatusCode::CREATED, "{rescheduled:?}");
    let show = id(&rescheduled);
    let position = rescheduled.body["position"].as_str().unwrap();
    let map = f
        .api
        .get(
            &format!("/v1/shows/{show}/seats?min_position={position}"),
            None,
        )
        .await;
    assert_eq!(map.body["seats"].as_array().unwrap().len(), 2);
    assert_eq!(map.body["seats"][0]["price"]["amount_minor"], 5000);
    // A retry of the cancel answers as before; a second cancel is refused.
    let again = f
        .api
        .post(
            &format!("/v1/shows/{}/cancel", f.shows[0]),
            &f.staff,
            &json!({"reason": "again"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "show_cancelled");
}

#[tokio::test]
async fn catalogue_commands_need_staff_and_retries_return_the_first_answer() {
    let server = TestServer::start().await;
    let api = &server.api;
    let customer = api.token("dave", &[Role::Customer]);
    let body = json!({"name": "深圳", "time_zone": "Asia/Shanghai"});
    assert_eq!(
        api.post("/v1/cities", &customer, &body).await.status,
        StatusCode::FORBIDDEN
    );
    let staff = api.token("staff-1", &[Role::Staff]);
    let first = api
        .send(
            Method::POST,
            "/v1/cities",
            Some(&staff),
            Some(&body),
            &[("idempotency-key", "city-sz")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let retry = api
        .send(
            Method::POST,
            "/v1/cities",
            Some(&staff),
            Some(&body),
            &[("idempotency-key", "city-sz")],
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let other = json!({"name": "广州", "time_zone": "Asia/Shanghai"});
    let reused = api
        .send(
            Method::POST,
            "/v1/cities",
            Some(&staff),
            Some(&other),
            &[("idempotency-key", "city-sz")],
        )
        .await;
    assert_eq!(reused.code(), "idempotency_key_reused");
    let twin = api.post("/v1/cities", &staff, &body).await;
    assert_eq!(
        twin.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "names are unique: {twin:?}"
    );
    assert_eq!(twin.body["errors"][0]["field"], "name");
    let bad_zone = api
        .post(
            "/v1/cities",
            &staff,
            &json!({"name": "火星", "time_zone": "Mars/Base"}),
        )
        .await;
    assert_eq!(bad_zone.body["errors"][0]["field"], "time_zone");
    let unknown = api
        .send(
            Method::PUT,
            &format!("/v1/movies/{}", uuid::Uuid::new_v4()),
            Some(&staff),
            Some(&movie("x", None, "", &["drama"], "zh")),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "movie_not_found");
    let city = first.body["id"].as_str().unwrap();
    let retired = api
        .send(
            Method::DELETE,
            &format!("/v1/cities/{city}"),
            Some(&staff),
            None,
            &[],
        )
        .await;
    assert_eq!(retired.status, StatusCode::OK);
    let position = retired.body["position"].as_str().unwrap();
    let _ = api
        .get(&format!("/v1/movies/search?min_position={position}"), None)
        .await;
    let cities = api.get("/v1/cities", None).await;
    assert_eq!(cities.body, json!([]), "a retired city is not listed");
}

#[tokio::test]
async fn rebuilt_catalogue_read_models_answer_as_the_live_ones() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    // Some sales (a category goes almost full), a cancellation and a hall edit.
    let bob = f.api.token("bob", &[Role::Customer]);
    let hold = f
        .api
        .post(
            &format!("/v1/shows/{}/holds", f.shows[4]),
            &bob,
            &json!({"seats": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{hold:?}");
    let cancelled = f
        .api
        .post(
            &format!("/v1/shows/{}/cancel", f.shows[5]),
            &f.staff,
            &json!({"reason": "停电"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    let mut renamed = hall("2号厅");
    renamed["layout"] = json!({"rows": [{"label": "A", "cells": "RRRR"}]});
    renamed["prices"] = json!({"regular": {"amount_minor": 5000, "currency": "CNY"}});
    let edited = f
        .api
        .send(
            Method::PUT,
            &format!("/v1/cinemas/{}/halls/{}", f.cinemas[1], f.halls[1]),
            Some(&f.staff),
            Some(&renamed),
            &[],
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    let at = edited.body["position"].as_str().unwrap().to_owned();
    let paths = [
        format!("/v1/movies/search?min_position={at}&sort=name"),
        format!(
            "/v1/movies/search?min_position={at}&city={}&date={d}&sort=date",
            f.shanghai
        ),
        format!("/v1/movies/{}/shows?min_position={at}", f.avatar),
        "/v1/cities".to_owned(),
        format!("/v1/cities/{}/movies", f.beijing),
        format!("/v1/cinemas/{}", f.cinemas[1]),
        format!("/v1/movies/{}", f.mom),
    ];
    let mut live = Vec::new();
    for path in &paths {
        let reply = f.api.get(path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
        live.push(reply.body);
    }
    let pool = boxoffice_eventstore::postgres::pool(&server.db.config(), 4);
    let log = boxoffice_eventstore::postgres::PgEventLog::new(pool.clone(), &server.db.config());
    let report = boxoffice_projections::rebuild(&log, &pool, &boxoffice_projections::all())
        .await
        .expect("rebuild");
    assert!(
        report.iter().any(|(name, _)| *name == "catalogue"),
        "{report:?}"
    );
    for (path, body) in paths.iter().zip(live) {
        let reply = f.api.get(path, None).await;
        assert_eq!(reply.body, body, "{path}");
    }
}

#[tokio::test]
async fn a_radius_search_far_north_finds_cinemas_at_the_circles_widest_longitude() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.token("staff-1", &[Role::Staff]);
    let city = id(&api
        .post(
            "/v1/cities",
            &staff,
            &json!({"name": "北方", "time_zone": "Asia/Shanghai"}),
        )
        .await);
    // 996 km from (60 N, 30 E), 18.15 degrees of longitude east: inside a 1,000 km circle,
    // where a box of radius / (111 km x cos 60) would have stopped at 18.02 degrees.
    let cinema = id(&api
        .post(
            "/v1/cinemas",
            &staff,
            &json!({"city_id": city, "name": "极北影城", "address": "北 1号", "latitude": 61.25,
                    "longitude": 48.15, "postal_code": "999001"}),
        )
        .await);
    let hall_id = id(&api
        .post(
            &format!("/v1/cinemas/{cinema}/halls"),
            &staff,
            &hall("1号厅"),
        )
        .await);
    let movie_id = id(&api
        .post(
            "/v1/movies",
            &staff,
            &movie("极光", None, "", &["drama"], "zh"),
        )
        .await);
    let show = api
        .post(
            "/v1/shows",
            &staff,
            &json!({"movie_id": movie_id, "hall_id": hall_id, "starts_at": at(day(), 12).to_rfc3339()}),
        )
        .await;
    assert_eq!(show.status, StatusCode::CREATED, "{show:?}");
    let position = show.body["position"].as_str().unwrap();
    let found = api
        .get(
            &format!(
                "/v1/movies/search?latitude=60&longitude=30&radius_km=1000&min_position={position}"
            ),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{found:?}");
    let distance = found.body["hits"][0]["distance_km"]
        .as_f64()
        .expect("a hit");
    assert!((995.0..1000.0).contains(&distance), "{distance}");
    let outside = api
        .get(
            &format!(
                "/v1/movies/search?latitude=60&longitude=30&radius_km=990&min_position={position}"
            ),
            None,
        )
        .await;
    assert_eq!(outside.body["hits"], json!([]));
}
