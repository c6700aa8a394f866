//! The catalogue over HTTP: staff build it, ticket clients browse and search it.

use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models;
use boxoffice_tests::reply::Reply;
use boxoffice_tests::server::{Api, TestServer};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
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
    at_minute(day, hour, 0)
}

fn at_minute(day: NaiveDate, hour: u32, minute: u32) -> DateTime<FixedOffset> {
    shanghai()
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .unwrap()
}

fn encode(time: DateTime<FixedOffset>) -> String {
    time.to_rfc3339().replace('+', "%2B")
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
        let staff = api.staff();
        let shanghai_id = api
            .create_city(&staff, "上海", "Asia/Shanghai")
            .await
            .created("id");
        let beijing_id = api
            .create_city(&staff, "北京", "Asia/Shanghai")
            .await
            .created("id");
        let places = [
            (&shanghai_id, "人民广场影城", 31.2304, 121.4737, "200001"),
            (&shanghai_id, "五角场影城", 31.2990, 121.5140, "200433"),
            (&beijing_id, "王府井影城", 39.9150, 116.4110, "100006"),
        ];
        let mut cinemas = Vec::new();
        let mut halls = Vec::new();
        for (city, name, latitude, longitude, postal_code) in places {
            let cinema = api
                .create_cinema(
                    &staff,
                    &json!({
                        "city_id": city, "name": name, "address": format!("{name} 1号"),
                        "latitude": latitude, "longitude": longitude, "postal_code": postal_code
                    }),
                )
                .await
                .created("id");
            let hall = api
                .create_hall(&staff, &cinema, &fixtures::hall("1号厅"))
                .await
                .created("id");
            halls.push(hall);
            cinemas.push(cinema);
        }
        let movies = [
            fixtures::movie(
                "流浪地球3",
                Some("The Wandering Earth III"),
                "太阳即将毁灭，人类带着地球流浪。",
                &["sci-fi", "adventure"],
                "zh",
            ),
            fixtures::movie(
                "Avatar: Fire and Ash",
                None,
                "Return to Pandora.",
                &["sci-fi"],
                "en",
            ),
            fixtures::movie(
                "你好，李焕英",
                Some("Hi, Mom"),
                "一部关于母亲的喜剧。",
                &["comedy", "drama"],
                "zh",
            ),
        ];
        let mut movie_ids = Vec::new();
        for movie in &movies {
            movie_ids.push(api.create_movie(&staff, movie).await.created("id"));
        }
        let [earth, avatar, mom]: [String; 3] = movie_ids.try_into().unwrap();
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
            let show = fixtures::show_in_hall(movie_id, &halls[cinema], &starts_at.to_rfc3339());
            let reply = api.schedule_show(&staff, &show).await;
            shows.push(reply.created("show_id"));
            position = reply.position().to_owned();
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

    /// Schedules `movie_id` in `hall_id` at `starts_at`.
    async fn schedule(
        &self,
        movie_id: &str,
        hall_id: &str,
        starts_at: DateTime<FixedOffset>,
    ) -> Reply {
        let show = fixtures::show_in_hall(movie_id, hall_id, &starts_at.to_rfc3339());
        self.api.schedule_show(&self.staff, &show).await
    }

    /// The search's hits as movie ids, checking the answer is a 200.
    async fn search(&self, query: &str) -> (Vec<String>, Reply) {
        let reply = self
            .api
            .search_movies(query)
            .min_position(&self.position)
            .await;
        let ids = reply.expect_ok()["hits"]
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
            {"category": "accessible", "price": {"amount_minor": 3000, "currency": "CNY"}, "status": "available", "ticket_prices": {}},
            {"category": "premium", "price": {"amount_minor": 6800, "currency": "CNY"}, "status": "available", "ticket_prices": {}},
            {"category": "regular", "price": {"amount_minor": 4500, "currency": "CNY"}, "status": "available", "ticket_prices": {}}
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
        f.api
            .search_movies(bad)
            .await
            .expect_problem(400, "invalid_query");
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
        f.api.search_movies(&query).await.expect_status(400);
    }
}

#[tokio::test]
async fn an_unchanged_answer_is_304_and_a_change_of_availability_is_not() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let comedies = format!("city={}&genre=comedy&date={}", f.shanghai, day());
    let search = |position: &str| f.api.search_movies(&comedies).min_position(position);
    // A tag covers the current minute too (shows drop out as they start): a pair of reads
    // that straddles a minute's turn is asked again, never more than twice.
    let mut attempts = 0;
    let (tag, again) = loop {
        attempts += 1;
        let first = search(&f.position).await;
        first.expect_ok();
        let tag = first.header("etag").unwrap().to_owned();
        let again = search(&f.position).header("if-none-match", &tag).await;
        if again.status == 304 || attempts == 3 {
            break (tag, again);
        }
    };
    again.expect_status(304);
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.body, Value::Null, "a 304 has no body");
    let browsing = |n: usize| {
        [
            f.api.cities(),
            f.api.city_movies(&f.shanghai),
            f.api.movie(&f.mom),
            f.api.movie_shows(&f.mom).query("city", &f.shanghai),
        ]
        .into_iter()
        .nth(n)
        .unwrap()
    };
    for n in 0..4 {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let reply = browsing(n).await;
            reply.expect_ok();
            let tag = reply.header("etag").unwrap().to_owned();
            let again = browsing(n).header("if-none-match", &tag).await;
            if again.status == 304 || attempts == 3 {
                again.expect_status(304);
                break;
            }
        }
    }

    // A wheelchair user's party holds both accessible seats of the comedy's show: its
    // status changes.
    let show = &f.shows[4];
    let alice = f.api.customer("alice");
    f.api
        .hold_for_wheelchair(&alice, show, &["B1", "B2"])
        .await
        .expect_created();
    // Seven of eight regular seats held: under 20% left.
    let bob = f.api.customer("bob");
    let hold = f
        .api
        .hold_seats(&bob, show, &["A1", "A2", "A3", "A4", "A5", "A6", "A7"])
        .await;
    hold.expect_created();
    let statuses = |answer: &Value| -> Vec<(String, String)> {
        answer["hits"][0]["shows"][0]["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["category"].as_str().unwrap().to_owned(),
                    c["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let now_statuses = [
        ("accessible", "full"),
        ("premium", "available"),
        ("regular", "almost_full"),
    ]
    .map(|(c, s)| (c.to_owned(), s.to_owned()));
    let changed = search(hold.position()).header("if-none-match", &tag).await;
    assert_eq!(statuses(changed.expect_ok()), now_statuses);
    // The question first asked (its answer kept for other clients under the first ETag) is
    // answered afresh: the availability it showed has changed.
    let now = search(&f.position).await;
    assert_ne!(now.header("etag"), Some(tag.as_str()));
    assert_eq!(statuses(now.expect_ok()), now_statuses);
    // Asked again it is the same answer, whether kept or, with `Cache-Control: no-cache`,
    // computed afresh.
    let kept = search(&f.position).await;
    let fresh = search(&f.position)
        .header("cache-control", "no-cache")
        .await;
    assert_eq!(kept.expect_ok(), now.expect_ok());
    assert_eq!(fresh.expect_ok(), now.expect_ok());
}

#[tokio::test]
async fn cities_movies_and_shows_by_cinema_are_browsable_without_a_token() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    let _ = f.hits("").await; // caught up
    let cities = f.api.cities().await;
    let names: Vec<&str> = cities
        .expect_ok()
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

    let showing = f.api.city_movies(&f.beijing).await;
    let movies: Vec<&str> = showing
        .expect_ok()
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

    let detail = f.api.movie(&f.earth).await;
    assert_eq!(detail.body["title"], "流浪地球3");
    assert_eq!(detail.body["genres"], json!(["sci-fi", "adventure"]));
    assert_eq!(detail.body["duration_minutes"], 120);

    let by_cinema = f
        .api
        .movie_shows(&f.earth)
        .query("city", &f.shanghai)
        .query("date", d)
        .await;
    let groups = by_cinema.expect_ok().as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["cinema"]["cinema_id"], f.cinemas[0].as_str());
    assert_eq!(groups[0]["shows"][0]["show_id"], f.shows[0].as_str());
    assert_eq!(groups[1]["cinema"]["cinema_id"], f.cinemas[1].as_str());
    assert_eq!(groups[1]["shows"][0]["show_id"], f.shows[3].as_str());

    let cinema = f.api.cinema(&f.cinemas[2]).await;
    assert_eq!(cinema.body["name"], "王府井影城");
    assert_eq!(cinema.body["halls"][0]["hall_id"], f.halls[2].as_str());
    assert_eq!(cinema.body["halls"][0]["capacity"], 14);
    let listed = f.api.cinemas_in(&f.shanghai).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);

    let unknown = uuid::Uuid::new_v4().to_string();
    for (missing, code) in [
        (f.api.movie(&unknown), "movie_not_found"),
        (f.api.city_movies(&unknown), "city_not_found"),
        (f.api.cinema(&unknown), "cinema_not_found"),
    ] {
        missing.await.expect_problem(404, code);
    }
}

/// The titles of a `GET /v1/movies` answer, in its order.
fn titles(reply: &Reply) -> Vec<&str> {
    reply
        .expect_ok()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply}"))
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_movie_list_is_every_movie_not_retired_by_title_and_a_keyword_narrows_it() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let movie = |title: &str, original: Option<&str>, description: &str| {
        fixtures::movie(title, original, description, &["sci-fi"], "zh")
    };
    let earth = api
        .create_movie(
            &staff,
            &movie("流浪地球3", Some("The Wandering Earth 3"), "地球流浪。"),
        )
        .await
        .created("id");
    api.create_movie(&staff, &movie("Avatar 4", None, "Pandora, again."))
        .await
        .expect_created();
    api.create_movie(
        &staff,
        &movie("Ne Zha 3", Some("哪吒之魔童闹海3"), "三太子。"),
    )
    .await
    .expect_created();
    let cats = api
        .create_movie(&staff, &movie("Cats 2", None, "Jellicle cats."))
        .await
        .created("id");
    let retired = api.retire_movie(&staff, &cats).await;
    retired.expect_ok();
    let all = || api.movies().min_position(retired.position());

    // No token; by title; the retired movie left out (yet still readable by its id).
    let listed = all().await;
    assert_eq!(titles(&listed), ["Avatar 4", "Ne Zha 3", "流浪地球3"]);
    assert_eq!(
        listed.body[2],
        api.movie(&earth).await.expect_ok().clone(),
        "the same view as GET /v1/movies/{{movie_id}}"
    );
    assert_eq!(listed.body[1]["original_title"], "哪吒之魔童闹海3");
    assert_eq!(api.movie(&cats).await.body["retired"], true);
    assert!(listed.header("etag").is_some(), "{listed}");

    // A keyword is a part of the title or the original title, case ignored, Chinese too;
    // never of the description, and never a pattern (`%25` is `%`).
    for (keyword, expected) in [
        ("earth", vec!["流浪地球3"]),
        ("WANDERING", vec!["流浪地球3"]),
        ("地球", vec!["流浪地球3"]),
        ("哪吒", vec!["Ne Zha 3"]),
        ("3", vec!["Ne Zha 3", "流浪地球3"]),
        ("pandora", vec![]),
        ("cats", vec![]),
        ("%25", vec![]),
        ("_", vec![]),
    ] {
        let found = all().query("keyword", keyword).await;
        assert_eq!(titles(&found), expected, "keyword {keyword:?}");
    }
    for bad in ["", &"长".repeat(101)] {
        all()
            .query("keyword", bad)
            .await
            .expect_problem(400, "invalid_query");
    }
    all()
        .query("sort", "title")
        .await
        .expect_problem(400, "invalid_query");
}

#[tokio::test]
async fn one_show_and_a_cinemas_day_are_readable_without_a_token() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    let show_page = async |show: &str, position: &str| {
        let page = f.api.show_page(show).query("min_position", position).await;
        page.expect_ok().clone()
    };

    // 流浪地球3 at 人民广场影城, tomorrow at 10:00 in Shanghai.
    let earth = &f.shows[0];
    let page = show_page(earth, &f.position).await;
    assert_eq!(page["show_id"], earth.as_str());
    assert_eq!(page["title"], "流浪地球3");
    assert_eq!(page["movie"]["movie_id"], f.earth.as_str());
    assert_eq!(page["movie"]["original_title"], "The Wandering Earth III");
    assert_eq!(page["cinema"]["cinema_id"], f.cinemas[0].as_str());
    assert_eq!(page["cinema"]["name"], "人民广场影城");
    assert_eq!(page["cinema"]["address"], "人民广场影城 1号");
    assert_eq!(page["cinema"]["latitude"], 31.2304);
    assert_eq!(page["hall"]["hall_id"], f.halls[0].as_str());
    assert_eq!(page["hall"]["name"], "1号厅");
    assert_eq!(
        page["starts_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        at(d, 10)
    );
    assert_eq!(
        (page["on_sale"].clone(), page["cancelled"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(page["capacity"], 14);
    assert_eq!(
        page["counts"],
        json!({"available": 14, "held": 0, "sold": 0})
    );
    // The same categories, prices and bands as the movie's page shows for it.
    let by_cinema = f
        .api
        .movie_shows(&f.earth)
        .query("city", &f.shanghai)
        .query("date", d)
        .await;
    assert_eq!(
        page["categories"],
        by_cinema.expect_ok()[0]["shows"][0]["categories"]
    );
    let names: Vec<&str> = page["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["accessible", "premium", "regular"]);

    // A hold shows in the counts at once (read your writes).
    let alice = f.api.customer("alice");
    let held = f.api.hold_seats(&alice, earth, &["A1", "A2"]).await;
    held.expect_created();
    let page = show_page(earth, held.position()).await;
    assert_eq!(
        page["counts"],
        json!({"available": 12, "held": 2, "sold": 0})
    );
    // Alice's order row says where to go: the cinema and the hall, by id and by name.
    let mine = f
        .api
        .my_hold(&alice, held.text("hold_id"))
        .min_position(held.position())
        .await;
    let mine = mine.expect_ok();
    assert_eq!(
        [
            &mine["cinema_id"],
            &mine["cinema_name"],
            &mine["hall_id"],
            &mine["hall_name"]
        ],
        [
            &json!(f.cinemas[0]),
            &json!("人民广场影城"),
            &json!(f.halls[0]),
            &json!("1号厅")
        ]
    );

    // A cancelled show is not on sale, and its cinema's day still lists it.
    let avatar = &f.shows[1];
    let cancelled = f.api.cancel_show(&f.staff, avatar, "放映机故障").await;
    cancelled.expect_ok();
    let page = show_page(avatar, cancelled.position()).await;
    assert_eq!(
        (page["on_sale"].clone(), page["cancelled"].clone()),
        (json!(false), json!(true))
    );

    let schedule = |date: NaiveDate| {
        f.api
            .cinema_schedule(&f.cinemas[0])
            .query("date", date)
            .query("min_position", cancelled.position())
    };
    let today = schedule(d).await;
    let today = today.expect_ok();
    assert_eq!(today["cinema_id"], f.cinemas[0].as_str());
    assert_eq!(today["date"], d.to_string());
    let halls = today["halls"].as_array().unwrap();
    assert_eq!(halls.len(), 1, "{today:#}");
    assert_eq!(halls[0]["hall"]["name"], "1号厅");
    let shows: Vec<(&str, &str, bool)> = halls[0]["shows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["show_id"].as_str().unwrap(),
                s["title"].as_str().unwrap(),
                s["cancelled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shows,
        [
            (earth.as_str(), "流浪地球3", false),
            (avatar.as_str(), "Avatar: Fire and Ash", true)
        ]
    );
    let next_day = schedule(d + Duration::days(1)).await;
    assert_eq!(
        next_day.expect_ok()["halls"][0]["shows"][0]["show_id"],
        f.shows[2].as_str()
    );
    let empty = schedule(d + Duration::days(5)).await;
    assert_eq!(empty.expect_ok()["halls"], json!([]));

    // A show made without the catalogue has no movie, cinema or hall to name.
    let inline = f.api.scheduled_show(&fixtures::show(2, 10)).await;
    let page = eventually_ok(&f.api, &inline).await;
    assert_eq!(page["cinema"], Value::Null);
    assert_eq!(page["hall"], Value::Null);
    assert_eq!(page["capacity"], 20);

    let unknown = uuid::Uuid::new_v4();
    f.api
        .show_page(&unknown.to_string())
        .await
        .expect_problem(404, "show_not_found");
    f.api
        .cinema_schedule(&unknown.to_string())
        .query("date", d)
        .await
        .expect_problem(404, "cinema_not_found");
    let no_date = f.api.cinema_schedule(&f.cinemas[0]).await;
    no_date.expect_problem(400, "invalid_query");
    for date in ["tomorrow", "2026-02-30"] {
        f.api
            .cinema_schedule(&f.cinemas[0])
            .query("date", date)
            .await
            .expect_problem(400, "invalid_query");
    }
    f.api
        .show_page("not-a-show")
        .await
        .expect_problem(400, "invalid_path");
}

/// The show's page once it is 200 (the read model may not have the show yet).
async fn eventually_ok(api: &Api, show: &str) -> Value {
    boxoffice_tests::wait::eventually("the show is readable", async || {
        let reply = api.show_page(show).await;
        if reply.status == reqwest::StatusCode::OK {
            Ok(reply.body)
        } else {
            Err(reply)
        }
    })
    .await
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
        let reply = f
            .schedule(&f.mom, &f.halls[0], at_minute(d, hour, minute))
            .await;
        let problem = reply.expect_problem(422, "show_overlaps");
        assert_eq!(problem["conflicting_show_id"], f.shows[0].as_str());
        assert_eq!(problem["errors"][0]["field"], "starts_at");
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
        let mut body = fixtures::hall("2号厅");
        body["layout"] = layout.clone();
        let reply = f.api.create_hall(&f.staff, &f.cinemas[0], &body).await;
        let fields = reply.invalid_fields();
        assert!(fields.contains(&field), "{layout}: {fields:?}");
    }
    // Prices must cover the layout's categories; a missing field is named too.
    let mut body = fixtures::hall("2号厅");
    body["prices"] = json!({"regular": cny(4500)});
    let reply = f.api.create_hall(&f.staff, &f.cinemas[0], &body).await;
    assert_eq!(
        reply.invalid_fields(),
        ["prices.accessible", "prices.premium"]
    );
    // Other refusals: an unknown hall, the inline form's fields with a hall, a bad movie.
    let unknown = uuid::Uuid::new_v4().to_string();
    let evening = at(d, 20).to_rfc3339();
    let mut with_title = fixtures::show_in_hall(&f.mom, &f.halls[0], &evening);
    with_title["title"] = json!("x");
    for (body, field) in [
        (
            fixtures::show_in_hall(&f.mom, &unknown, &evening),
            "hall_id",
        ),
        (
            fixtures::show_in_hall(&unknown, &f.halls[0], &evening),
            "movie_id",
        ),
        (with_title, "title"),
        (json!({"movie_id": f.mom, "starts_at": evening}), "title"),
    ] {
        let reply = f.api.schedule_show(&f.staff, &body).await;
        assert_eq!(reply.invalid_fields()[0], field, "{body}");
    }
    let bad_movie = fixtures::movie("", None, "", &[], "chinese");
    let reply = f.api.create_movie(&f.staff, &bad_movie).await;
    assert_eq!(reply.invalid_fields(), ["title", "genres", "language"]);
    let off_the_globe = json!({"city_id": unknown, "name": "x", "address": "y",
        "latitude": 95.0, "longitude": 0.0, "postal_code": "1"});
    f.api
        .create_cinema(&f.staff, &off_the_globe)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(events_in_log(&server).await, before, "nothing was written");

    // The same show scheduled again (another request, another key) is refused, and its hall
    // time stays booked: an overlapping show is still refused.
    let mut again = fixtures::show_in_hall(&f.earth, &f.halls[0], &at(d, 10).to_rfc3339());
    again["show_id"] = json!(f.shows[0]);
    f.api
        .schedule_show(&f.staff, &again)
        .await
        .expect_status(409);
    f.schedule(&f.mom, &f.halls[0], at(d, 11))
        .await
        .expect_problem(422, "show_overlaps");
    let far = fixtures::show_in_hall(&f.mom, &f.halls[0], "9999-12-31T23:00:00Z");
    f.api.schedule_show(&f.staff, &far).await.expect_status(422);

    // Right after the cleaning gap the 10:00 show is out of the way, but avatar's 14:00
    // show leaves 12:15-14:00: too short for 120 minutes.
    let reply = f.schedule(&f.mom, &f.halls[0], at_minute(d, 12, 15)).await;
    assert_eq!(
        reply.expect_problem(422, "show_overlaps")["conflicting_show_id"],
        f.shows[1].as_str()
    );
}

#[tokio::test]
async fn a_show_keeps_its_layout_when_the_hall_changes_and_cancelling_frees_the_hall() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    // The hall is rebuilt with one row; the scheduled show keeps its 14 seats.
    let smaller = fixtures::hall_of_one_row("1号厅", "RR");
    let reply = f
        .api
        .update_hall(&f.staff, &f.cinemas[0], &f.halls[0], &smaller)
        .await;
    reply.expect_ok();
    let map = f
        .api
        .seat_map(&f.shows[0])
        .min_position(reply.position())
        .await;
    assert_eq!(map.body["seats"].as_array().unwrap().len(), 14);
    assert_eq!(map.seat("B1")["kind"], "wheelchair");
    assert_eq!(map.seat("B1")["category"], "accessible");
    assert_eq!(map.seat("A5")["column"], 6, "A5 sits after the aisle");

    // Cancelled: gone from search, sales stop, and the hall's time is free again.
    let cancel = || {
        f.api
            .cancel_show(&f.staff, &f.shows[0], "放映机故障")
            .idempotency_key("cancel-1")
    };
    let cancelled = cancel().await;
    cancelled.expect_ok();
    let position = cancelled.position();
    let carol = f.api.customer("carol");
    f.api
        .hold_seats(&carol, &f.shows[0], &["A1"])
        .await
        .expect_problem(409, "show_cancelled");
    let reply = f
        .api
        .search_movies(&format!("city={}&date={d}", f.shanghai))
        .min_position(position)
        .await;
    let listed: Vec<&str> = reply.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["shows"].as_array().unwrap())
        .map(|s| s["show_id"].as_str().unwrap())
        .collect();
    assert!(!listed.contains(&f.shows[0].as_str()), "{listed:?}");
    let map = f.api.seat_map(&f.shows[0]).min_position(position).await;
    assert_eq!(map.body["cancelled"], true);
    // The new layout is what a show scheduled now gets, in the freed time.
    let rescheduled = f.schedule(&f.mom, &f.halls[0], at(d, 10)).await;
    let show = rescheduled.created("show_id");
    let map = f
        .api
        .seat_map(&show)
        .min_position(rescheduled.position())
        .await;
    assert_eq!(map.body["seats"].as_array().unwrap().len(), 2);
    assert_eq!(map.body["seats"][0]["price"]["amount_minor"], 5000);
    // A retry of the cancel answers as before; a second cancel is refused.
    let retry = cancel().await;
    retry.expect_ok();
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, cancelled.body);
    f.api
        .cancel_show(&f.staff, &f.shows[0], "again")
        .await
        .expect_problem(409, "show_cancelled");
}

#[tokio::test]
async fn catalogue_commands_need_staff_and_retries_return_the_first_answer() {
    let server = TestServer::start().await;
    let api = &server.api;
    let customer = api.customer("dave");
    api.create_city(&customer, "深圳", "Asia/Shanghai")
        .await
        .expect_problem(403, "forbidden");
    let staff = api.staff();
    let shenzhen = || {
        api.create_city(&staff, "深圳", "Asia/Shanghai")
            .idempotency_key("city-sz")
    };
    let first = shenzhen().await;
    first.expect_created();
    let retry = shenzhen().await;
    retry.expect_created();
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    api.create_city(&staff, "广州", "Asia/Shanghai")
        .idempotency_key("city-sz")
        .await
        .expect_problem(422, "idempotency_key_reused");
    let twin = api.create_city(&staff, "深圳", "Asia/Shanghai").await;
    assert_eq!(twin.invalid_fields()[0], "name", "names are unique");
    let bad_zone = api.create_city(&staff, "火星", "Mars/Base").await;
    assert_eq!(bad_zone.invalid_fields()[0], "time_zone");
    let unknown = uuid::Uuid::new_v4().to_string();
    api.update_movie(
        &staff,
        &unknown,
        &fixtures::movie("x", None, "", &["drama"], "zh"),
    )
    .await
    .expect_problem(404, "movie_not_found");
    let retired = api.retire_city(&staff, first.text("id")).await;
    retired.expect_ok();
    api.search_movies("")
        .min_position(retired.position())
        .await
        .expect_ok();
    let cities = api.cities().await;
    assert_eq!(cities.body, json!([]), "a retired city is not listed");
}

#[tokio::test]
async fn rebuilt_catalogue_read_models_answer_as_the_live_ones() {
    let server = TestServer::start().await;
    let f = Fixture::build(&server).await;
    let d = day();
    // Some sales (a category goes almost full), a cancellation and a hall edit.
    let bob = f.api.customer("bob");
    f.api
        .hold_seats(
            &bob,
            &f.shows[4],
            &["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
        )
        .await
        .expect_created();
    f.api
        .cancel_show(&f.staff, &f.shows[5], "停电")
        .await
        .expect_ok();
    let renamed = fixtures::hall_of_one_row("2号厅", "RRRR");
    let edited = f
        .api
        .update_hall(&f.staff, &f.cinemas[1], &f.halls[1], &renamed)
        .await;
    edited.expect_ok();
    let at = edited.position();
    let reads = || {
        [
            f.api.search_movies("sort=name").min_position(at),
            f.api
                .search_movies(&format!("city={}&date={d}&sort=date", f.shanghai))
                .min_position(at),
            f.api.movie_shows(&f.avatar).min_position(at),
            f.api.cities(),
            f.api.city_movies(&f.beijing),
            f.api.cinema(&f.cinemas[1]),
            f.api.movie(&f.mom),
        ]
    };
    let mut live = Vec::new();
    for read in reads() {
        let reply = read.await;
        reply.expect_ok();
        live.push(reply);
    }
    let report = read_models::rebuild(&server.db).await;
    assert!(
        report.iter().any(|(name, _)| *name == "catalogue"),
        "{report:?}"
    );
    for (read, before) in reads().into_iter().zip(live) {
        let reply = read.await;
        assert_eq!(reply.body, before.body, "{}", before.request);
    }
}

#[tokio::test]
async fn a_radius_search_far_north_finds_cinemas_at_the_circles_widest_longitude() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    let city = api
        .create_city(&staff, "北方", "Asia/Shanghai")
        .await
        .created("id");
    // 996 km from (60 N, 30 E), 18.15 degrees of longitude east: inside a 1,000 km circle,
    // where a box of radius / (111 km x cos 60) would have stopped at 18.02 degrees.
    let cinema = api
        .create_cinema(
            &staff,
            &json!({"city_id": city, "name": "极北影城", "address": "北 1号", "latitude": 61.25,
                    "longitude": 48.15, "postal_code": "999001"}),
        )
        .await
        .created("id");
    let hall_id = api
        .create_hall(&staff, &cinema, &fixtures::hall("1号厅"))
        .await
        .created("id");
    let movie_id = api
        .create_movie(&staff, &fixtures::movie("极光", None, "", &["drama"], "zh"))
        .await
        .created("id");
    let starts_at = at(day(), 12).to_rfc3339();
    let show = api
        .schedule_show(
            &staff,
            &fixtures::show_in_hall(&movie_id, &hall_id, &starts_at),
        )
        .await;
    show.expect_created();
    let within = |radius_km: u32| {
        api.search_movies(&format!("latitude=60&longitude=30&radius_km={radius_km}"))
            .min_position(show.position())
    };
    let found = within(1000).await;
    let distance = found.expect_ok()["hits"][0]["distance_km"]
        .as_f64()
        .expect("a hit");
    assert!((995.0..1000.0).contains(&distance), "{distance}");
    let outside = within(990).await;
    assert_eq!(outside.body["hits"], json!([]));
}
