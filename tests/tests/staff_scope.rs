//! Staff limited to some cinemas (`staff:{cinema_id}`, `door:{cinema_id}`), end to end: the
//! authorisation matrix. Staff of cinema A, acting on cinema B's cinema, halls, shows, holds
//! and orders, or on what belongs to the whole chain, is refused on every staff route and
//! writes nothing; on A's own shows the same routes work. The matrix is held against the
//! OpenAPI document, so a new authenticated route must be placed in it or the test fails.

use boxoffice_commands::SystemClock;
use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::server::{Api, BinaryServer, TestServer, JWT_SECRET};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Routes that are the caller's own (`/v1/me...`) or another role's (admin, auditor): not
/// staff routes, so not in the matrix.
const NOT_STAFF: &[&str] = &[
    "PUT /v1/accounts/{account_id}/roles",
    "GET /v1/api-keys",
    "POST /v1/api-keys",
    "DELETE /v1/api-keys/{key_id}",
    "GET /v1/webhooks",
    "POST /v1/webhooks",
    "GET /v1/webhooks/{webhook_id}",
    "DELETE /v1/webhooks/{webhook_id}",
    "GET /v1/webhooks/{webhook_id}/deliveries",
    "GET /v1/audit/actions",
    "GET /v1/audit/events",
    "GET /v1/audit/export",
    "GET /v1/audit/seals",
    "GET /v1/audit/shows/{show_id}/state",
    "GET /v1/audit/streams/{stream}",
    "GET /v1/audit/streams/{stream}/state",
    "POST /v1/audit/verifications",
    "GET /v1/audit/verifications/{verification_id}",
    "GET /v1/me",
    "PUT /v1/me",
    "GET /v1/me/favorites",
    "PUT /v1/me/favorites/{movie_id}",
    "DELETE /v1/me/favorites/{movie_id}",
    "GET /v1/me/holds/{hold_id}",
    "GET /v1/me/orders",
    "GET /v1/me/orders/{order_id}",
    "GET /v1/me/payments/{payment_id}",
    // An on-sale's line is the customers'; anyone signed in may read an on-sale.
    "GET /v1/onsales/{onsale_id}",
    "POST /v1/onsales/{onsale_id}/queue",
    "GET /v1/onsales/{onsale_id}/queue/{ticket}",
];

/// Cinema A (the limited staff's) and cinema B, each with a hall and a show of one movie;
/// alice holds seats on B's show and has paid for others there.
struct Chain {
    city: String,
    movie: String,
    cinema_a: String,
    cinema_b: String,
    hall_b: String,
    show_a: String,
    show_b: String,
    show_b2: String,
    hold_b: String,
    order_b: String,
    pickup_b: String,
}

async fn chain(api: &Api) -> Chain {
    let staff = api.staff();
    let city = api
        .create_city(&staff, "上海", "Asia/Shanghai")
        .await
        .created("id");
    let cinema = |name: &str| {
        json!({"city_id": city, "name": name, "address": format!("{name} 1号"),
            "latitude": 31.23, "longitude": 121.47, "postal_code": "200001"})
    };
    let cinema_a = api
        .create_cinema(&staff, &cinema("甲影城"))
        .await
        .created("id");
    let cinema_b = api
        .create_cinema(&staff, &cinema("乙影城"))
        .await
        .created("id");
    let hall_a = api
        .create_hall(&staff, &cinema_a, &fixtures::hall("1号厅"))
        .await
        .created("id");
    let hall_b = api
        .create_hall(&staff, &cinema_b, &fixtures::hall("1号厅"))
        .await
        .created("id");
    let movie = api
        .create_movie(
            &staff,
            &fixtures::movie("流浪地球3", None, "地球流浪。", &["sci-fi"], "zh"),
        )
        .await
        .created("id");
    let at = |hours: i64| (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339();
    let schedule = |hall: &str, hours: i64| fixtures::show_in_hall(&movie, hall, &at(hours));
    let show_a = api
        .schedule_show(&staff, &schedule(&hall_a, 2))
        .await
        .created("show_id");
    let show_b = api
        .schedule_show(&staff, &schedule(&hall_b, 2))
        .await
        .created("show_id");
    let show_b2 = api
        .schedule_show(&staff, &schedule(&hall_b, 6))
        .await
        .created("show_id");
    let alice = api.customer("alice");
    let paid = api
        .hold_seats(&alice, &show_b, &["A1", "A2"])
        .await
        .created("hold_id");
    let sold = api
        .confirm_hold(&staff, &show_b, &paid, "counter-1", &cny(9_000))
        .await;
    let order_b = sold.created("order_id");
    let tickets = api
        .order_tickets(&alice, &order_b)
        .min_position(sold.position())
        .await;
    let pickup_b = tickets.expect_ok()["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let hold_b = api
        .hold_seats(&alice, &show_b2, &["A3"])
        .await
        .created("hold_id");
    Chain {
        city,
        movie,
        cinema_a,
        cinema_b,
        hall_b,
        show_a,
        show_b,
        show_b2,
        hold_b,
        order_b,
        pickup_b,
    }
}

/// Every staff route, as staff of cinema A would call it on cinema B or on the chain.
fn matrix(c: &Chain) -> Vec<(&'static str, Method, String, Option<Value>)> {
    let cinema_body = json!({"city_id": c.city, "name": "乙影城", "address": "乙影城 2号",
        "latitude": 31.23, "longitude": 121.47, "postal_code": "200001"});
    let movie_body = fixtures::movie("流浪地球3", None, "地球流浪。", &["sci-fi"], "zh");
    let now = chrono::Utc::now();
    let (b, b2) = (&c.show_b, &c.show_b2);
    vec![
        (
            "POST /v1/cinemas",
            Method::POST,
            "/v1/cinemas".into(),
            Some(cinema_body.clone()),
        ),
        (
            "PUT /v1/cinemas/{cinema_id}",
            Method::PUT,
            format!("/v1/cinemas/{}", c.cinema_b),
            Some(json!({
            "name": "乙影城", "address": "乙影城 2号", "latitude": 31.23, "longitude": 121.47,
            "postal_code": "200001"})),
        ),
        (
            "DELETE /v1/cinemas/{cinema_id}",
            Method::DELETE,
            format!("/v1/cinemas/{}", c.cinema_b),
            None,
        ),
        (
            "POST /v1/cinemas/{cinema_id}/halls",
            Method::POST,
            format!("/v1/cinemas/{}/halls", c.cinema_b),
            Some(fixtures::hall("2号厅")),
        ),
        (
            "PUT /v1/cinemas/{cinema_id}/halls/{hall_id}",
            Method::PUT,
            format!("/v1/cinemas/{}/halls/{}", c.cinema_b, c.hall_b),
            Some(fixtures::hall("1号厅")),
        ),
        (
            "DELETE /v1/cinemas/{cinema_id}/halls/{hall_id}",
            Method::DELETE,
            format!("/v1/cinemas/{}/halls/{}", c.cinema_b, c.hall_b),
            None,
        ),
        (
            "POST /v1/cities",
            Method::POST,
            "/v1/cities".into(),
            Some(json!({"name": "杭州", "time_zone": "Asia/Shanghai"})),
        ),
        (
            "PUT /v1/cities/{city_id}",
            Method::PUT,
            format!("/v1/cities/{}", c.city),
            Some(json!({"name": "沪", "time_zone": "Asia/Shanghai"})),
        ),
        (
            "DELETE /v1/cities/{city_id}",
            Method::DELETE,
            format!("/v1/cities/{}", c.city),
            None,
        ),
        (
            "POST /v1/movies",
            Method::POST,
            "/v1/movies".into(),
            Some(movie_body.clone()),
        ),
        (
            "PUT /v1/movies/{movie_id}",
            Method::PUT,
            format!("/v1/movies/{}", c.movie),
            Some(movie_body),
        ),
        (
            "DELETE /v1/movies/{movie_id}",
            Method::DELETE,
            format!("/v1/movies/{}", c.movie),
            None,
        ),
        (
            "POST /v1/promos",
            Method::POST,
            "/v1/promos".into(),
            Some(json!({"code": "scope-test",
            "discount": {"percent": 20}, "valid_from": now, "valid_until": now + chrono::Duration::hours(1),
            "usage_limit": 10, "per_customer_limit": 1})),
        ),
        (
            "GET /v1/promos/{code}",
            Method::GET,
            "/v1/promos/scope-test".into(),
            None,
        ),
        (
            "GET /v1/reports/box-office",
            Method::GET,
            "/v1/reports/box-office".into(),
            None,
        ),
        (
            "GET /v1/reports/funnel",
            Method::GET,
            "/v1/reports/funnel".into(),
            None,
        ),
        (
            "GET /v1/reports/sales",
            Method::GET,
            "/v1/reports/sales".into(),
            None,
        ),
        (
            "GET /v1/reports/sales-timeline",
            Method::GET,
            format!("/v1/reports/sales-timeline?show_id={b}"),
            None,
        ),
        (
            "GET /v1/projections",
            Method::GET,
            "/v1/projections".into(),
            None,
        ),
        (
            "POST /v1/onsales",
            Method::POST,
            "/v1/onsales".into(),
            Some(
                json!({"title": "乙的首映", "show_ids": [b], "opens_at": now.to_rfc3339(),
                "admitted_per_minute": 60}),
            ),
        ),
        ("GET /v1/onsales", Method::GET, "/v1/onsales".into(), None),
        (
            "POST /v1/onsales/{onsale_id}/end",
            Method::POST,
            format!("/v1/onsales/{}/end", uuid::Uuid::new_v4()),
            None,
        ),
        (
            "POST /v1/shows",
            Method::POST,
            "/v1/shows".into(),
            Some(fixtures::show_in_hall(
                &c.movie,
                &c.hall_b,
                &(now + chrono::Duration::hours(12)).to_rfc3339(),
            )),
        ),
        (
            "POST /v1/shows/{show_id}/cancel",
            Method::POST,
            format!("/v1/shows/{b}/cancel"),
            Some(json!({"reason": "no"})),
        ),
        (
            "POST /v1/shows/{show_id}/accessible-seats/release",
            Method::POST,
            format!("/v1/shows/{b}/accessible-seats/release"),
            None,
        ),
        (
            "GET /v1/shows/{show_id}/check-ins",
            Method::GET,
            format!("/v1/shows/{b}/check-ins"),
            None,
        ),
        (
            "POST /v1/shows/{show_id}/check-ins",
            Method::POST,
            format!("/v1/shows/{b}/check-ins"),
            Some(json!({"pickup_code": c.pickup_b, "door": "north"})),
        ),
        (
            "POST /v1/shows/{show_id}/holds",
            Method::POST,
            format!("/v1/shows/{b}/holds"),
            Some(json!({"seats": ["B5"]})),
        ),
        (
            "DELETE /v1/shows/{show_id}/holds/{hold_id}",
            Method::DELETE,
            format!("/v1/shows/{b2}/holds/{}", c.hold_b),
            None,
        ),
        (
            "POST /v1/shows/{show_id}/holds/{hold_id}/confirm",
            Method::POST,
            format!("/v1/shows/{b2}/holds/{}/confirm", c.hold_b),
            Some(json!({"payment_reference": "counter-2", "amount": cny(4_500)})),
        ),
        (
            "POST /v1/shows/{show_id}/holds/{hold_id}/payments",
            Method::POST,
            format!("/v1/shows/{b2}/holds/{}/payments", c.hold_b),
            Some(json!({"method": "alipay"})),
        ),
        (
            "POST /v1/shows/{show_id}/orders/{order_id}/exchanges",
            Method::POST,
            format!("/v1/shows/{b}/orders/{}/exchanges", c.order_b),
            Some(json!({"give_back": ["A1"], "take": ["A4"]})),
        ),
        (
            "POST /v1/shows/{show_id}/orders/{order_id}/refunds",
            Method::POST,
            format!("/v1/shows/{b}/orders/{}/refunds", c.order_b),
            None,
        ),
        (
            "GET /v1/shows/{show_id}/orders/{order_id}/refunds/quote",
            Method::GET,
            format!("/v1/shows/{b}/orders/{}/refunds/quote", c.order_b),
            None,
        ),
        (
            "POST /v1/shows/{show_id}/orders/{order_id}/transfers",
            Method::POST,
            format!("/v1/shows/{b}/orders/{}/transfers", c.order_b),
            Some(json!({"give_back": ["A1"], "to_show_id": c.show_a, "take": ["A5"]})),
        ),
        (
            "POST /v1/shows/{show_id}/waitlist",
            Method::POST,
            format!("/v1/shows/{b}/waitlist"),
            Some(json!({"count": 1})),
        ),
        (
            "GET /v1/shows/{show_id}/waitlist/{entry_id}",
            Method::GET,
            format!("/v1/shows/{b}/waitlist/{}", uuid::Uuid::new_v4()),
            None,
        ),
        (
            "DELETE /v1/shows/{show_id}/waitlist/{entry_id}",
            Method::DELETE,
            format!("/v1/shows/{b}/waitlist/{}", uuid::Uuid::new_v4()),
            None,
        ),
        (
            "GET /v1/me/orders/{order_id}/tickets",
            Method::GET,
            format!("/v1/me/orders/{}/tickets", c.order_b),
            None,
        ),
        (
            "GET /v1/me/orders/{order_id}/tickets.pdf",
            Method::GET,
            format!("/v1/me/orders/{}/tickets.pdf", c.order_b),
            None,
        ),
        (
            "GET /v1/orders",
            Method::GET,
            format!("/v1/orders?show_id={b}"),
            None,
        ),
    ]
}

async fn events(server: &TestServer) -> i64 {
    let client = server.db.client().await;
    client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn staff_of_one_cinema_is_refused_on_every_staff_route_elsewhere_and_writes_nothing() {
    // Doors open three hours before (the shows start in two): A's door lets people in.
    let server = TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.tickets.doors_open_minutes = 180;
    })
    .await;
    let api = &server.api;
    let c = chain(api).await;
    let scoped = api.token_named(
        "staff-of-a",
        &[
            format!("staff:{}", c.cinema_a),
            format!("door:{}", c.cinema_a),
        ],
    );

    // Every authenticated route of the document is in the matrix or is not a staff route.
    let document = api.request(Method::GET, "/openapi.json").await;
    let mut authenticated = BTreeSet::new();
    for (path, operations) in document.expect_ok()["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation.get("security").is_some() {
                authenticated.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let matrix = matrix(&c);
    let placed: BTreeSet<String> = matrix
        .iter()
        .map(|(route, ..)| (*route).to_owned())
        .chain(NOT_STAFF.iter().map(|r| (*r).to_owned()))
        .collect();
    let unplaced: Vec<&String> = authenticated.difference(&placed).collect();
    assert!(
        unplaced.is_empty(),
        "routes the matrix does not place: {unplaced:?}"
    );

    for (route, method, path, body) in matrix {
        let before = events(&server).await;
        let mut request = api.request(method, path).token(&scoped);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let answer = request.await;
        if route == "GET /v1/orders" {
            // The desk finds nothing of B's.
            assert_eq!(answer.expect_ok()["orders"], json!([]), "{route}");
        } else {
            assert!(
                answer.status == StatusCode::FORBIDDEN || answer.status == StatusCode::NOT_FOUND,
                "{route}: {answer}"
            );
        }
        assert_eq!(events(&server).await, before, "{route} wrote events");
    }

    // At A, the same staff works: holds, sells, finds, lets in.
    let alice = api.customer("alice");
    let held = api.hold_seats(&scoped, &c.show_a, &["B5"]).await;
    let hold = held.created("hold_id");
    let sold = api
        .confirm_hold(&scoped, &c.show_a, &hold, "counter-3", &cny(6_800))
        .await;
    let order = sold.created("order_id");
    let found = api
        .request(Method::GET, format!("/v1/orders?show_id={}", c.show_a))
        .token(&scoped)
        .min_position(sold.position())
        .await;
    assert_eq!(found.expect_ok()["orders"][0]["order_id"], order.as_str());
    let tickets = api
        .order_tickets(&scoped, &order)
        .min_position(sold.position())
        .await;
    let code = tickets.expect_ok()["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned();
    api.check_in_code(&scoped, &c.show_a, &code, "north")
        .await
        .expect_created();
    api.attendance(&scoped, &c.show_a).await.expect_ok();
    // `boxoffice token` mints a limited role too (for a door's scanner, say).
    let minted = std::process::Command::new(BinaryServer::binary())
        .args(["token", "--sub", "scanner-1", "--role"])
        .arg(format!("door:{}", c.cinema_a))
        .env("BOXOFFICE_JWT_SECRET", JWT_SECRET)
        .output()
        .expect("boxoffice token runs");
    assert!(minted.status.success(), "{minted:?}");
    let scanner = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    api.attendance(&scanner, &c.show_a).await.expect_ok();
    api.attendance(&scanner, &c.show_b)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
    // B is still B's: unlimited staff and the customer are unaffected.
    api.refund_order(&alice, &c.show_b, &c.order_b)
        .await
        .expect_created();
}

#[tokio::test]
async fn scoped_roles_are_granted_by_name_and_bad_ones_refused() {
    let server = TestServer::start().await;
    let api = &server.api;
    let admin = api.admin();
    let password = "correct horse 电池 staple";
    let registered = api.register("usher@example.cn", password, "检票员").await;
    let account = registered.expect_created()["account"]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cinema = uuid::Uuid::new_v4();
    let granted = api
        .grant_roles(&admin, &account, &[&format!("door:{cinema}"), "customer"])
        .await;
    assert_eq!(
        granted.expect_ok()["roles"],
        json!([format!("door:{cinema}"), "customer"])
    );
    for bad in ["door:not-a-uuid", &format!("analyst:{cinema}"), "usher"] {
        api.grant_roles(&admin, &account, &[bad])
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    // An administrator who is also staff of one cinema still administers roles.
    let manager = api.token_named("manager", &["admin".into(), format!("staff:{cinema}")]);
    api.grant_roles(&manager, &account, &[&format!("door:{cinema}")])
        .await
        .expect_ok();
    // Logged in, the account is door staff of that cinema only.
    let login = api.login("usher@example.cn", password).await;
    let token = login.expect_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = uuid::Uuid::new_v4();
    api.attendance(&token, &elsewhere.to_string())
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
}
