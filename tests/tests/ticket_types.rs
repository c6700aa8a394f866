//! Ticket types and matinee prices end to end: a cinema's rules price a morning show and an
//! evening show; each seat of a hold is priced as its type (chosen seats or the best
//! available); the provider is paid exactly that; a child seat refunded gives back the child
//! price; an exchanged child seat stays a child ticket and the difference charged is the
//! child prices'; the box office adds up to the same minor units; and bad ticket types are
//! refused with nothing written.

use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models::{assert_read_models_equal_a_rebuild, wait_for_projections};
use boxoffice_tests::server::{Api, TestServer};
use boxoffice_tests::wait::eventually;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

/// A Shanghai cinema selling child tickets at half price and student tickets at 70%,
/// matinee prices (80%) before noon, with one `fixtures::hall` (regular 45.00, premium
/// 68.00, accessible 30.00) and a movie: (hall, movie).
async fn cinema_with_rules(api: &Api) -> (String, String) {
    let staff = api.staff();
    let city = api
        .create_city(&staff, "上海", "Asia/Shanghai")
        .await
        .created("id");
    let cinema = api
        .create_cinema(
            &staff,
            &json!({"city_id": city, "name": "影城", "address": "淮海中路1号",
                "latitude": 31.2, "longitude": 121.5, "postal_code": "200000",
                "ticket_types": [{"name": "child", "percent": 50},
                                 {"name": "student", "percent": 70}],
                "matinee": {"before": "12:00", "percent": 80}}),
        )
        .await
        .created("id");
    let hall = api
        .create_hall(&staff, &cinema, &fixtures::hall("1号厅"))
        .await
        .created("id");
    let movie = api
        .create_movie(
            &staff,
            &fixtures::movie("哪吒", None, "", &["animation"], "zh"),
        )
        .await
        .created("id");
    (hall, movie)
}

/// A show's price list from its page: category -> (adult, {type: price}).
async fn price_list(api: &Api, show: &str, position: &str) -> Value {
    let page = api.show_page(show).min_position(position).await;
    let page = page.expect_ok();
    let mut list = json!({});
    for category in page["categories"].as_array().unwrap() {
        let mut prices = json!({"adult": category["price"]["amount_minor"]});
        for (ticket_type, price) in category["ticket_prices"].as_object().unwrap() {
            prices[ticket_type] = price["amount_minor"].clone();
        }
        list[category["category"].as_str().unwrap()] = prices;
    }
    list
}

#[tokio::test]
async fn ticket_types_and_matinee_prices_flow_through_holds_payments_refunds_exchanges_and_reports()
{
    let server = TestServer::start().await;
    let api = &server.api;
    let (hall, movie) = cinema_with_rules(api).await;
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    let morning = api
        .schedule_show(
            &api.staff(),
            &fixtures::show_in_hall(&movie, &hall, &format!("{tomorrow}T10:00:00+08:00")),
        )
        .await;
    let morning_at = morning.position().to_owned();
    let morning = morning.created("show_id");
    let evening = api
        .schedule_show(
            &api.staff(),
            &fixtures::show_in_hall(&movie, &hall, &format!("{tomorrow}T20:00:00+08:00")),
        )
        .await;
    let evening_at = evening.position().to_owned();
    let evening = evening.created("show_id");

    // 80% before noon, then each type its share of that, rounded down.
    assert_eq!(
        price_list(api, &morning, &morning_at).await,
        json!({
            "regular": {"adult": 3600, "child": 1800, "student": 2520},
            "premium": {"adult": 5440, "child": 2720, "student": 3808},
            "accessible": {"adult": 2400, "child": 1200, "student": 1680}
        })
    );
    assert_eq!(
        price_list(api, &evening, &evening_at).await,
        json!({
            "regular": {"adult": 4500, "child": 2250, "student": 3150},
            "premium": {"adult": 6800, "child": 3400, "student": 4760},
            "accessible": {"adult": 3000, "child": 1500, "student": 2100}
        })
    );

    // Alice: an adult, a child and a child on a premium seat, paid through the provider.
    let alice = api.customer("alice");
    let held = api
        .hold(
            &alice,
            &evening,
            &json!({"seats": ["A1", "A2", "B5"], "ticket_types": {"A2": "child", "B5": "child"}}),
        )
        .await;
    let held = held.expect_created().clone();
    assert_eq!(held["total"], cny(4500 + 2250 + 3400));
    assert_eq!(held["ticket_types"], json!({"A2": "child", "B5": "child"}));
    let hold_id = held["hold_id"].as_str().unwrap();
    let payment = api.start_payment(&alice, &evening, hold_id, "alipay").await;
    assert_eq!(payment.expect_created()["amount"], cny(10150));
    let paid = api
        .press_in_sandbox(payment.text("pay_url"), "succeed")
        .await;
    assert!(paid.status.is_success(), "{}", paid.html);
    let orders = eventually("alice's order is paid", async || {
        let orders = api.my_orders(&alice).await;
        let order = orders.expect_ok()["orders"][0].clone();
        if order["status"] == "paid" {
            Ok(order)
        } else {
            Err(order.to_string())
        }
    })
    .await;
    let order_id = orders["order_id"].as_str().unwrap().to_owned();

    // The child seat refunded: the child price back, exactly.
    let refund = api.refund_seats(&alice, &evening, &order_id, &["A2"]).await;
    assert_eq!(refund.expect_created()["amount"], cny(2250));
    // The premium child seat moved to a regular seat stays a child ticket: 34.00 -> 22.50.
    let exchange = api
        .exchange_seats(&alice, &evening, &order_id, &["B5"], &["A4"])
        .await;
    let exchange = exchange.expect_created().clone();
    assert_eq!(exchange["refund"], cny(3400 - 2250), "{exchange}");
    assert_eq!(exchange["charge"], cny(0));
    // Her tickets say which is which: the child ticket moved with the seat.
    let tickets = api
        .order_tickets(&alice, &order_id)
        .min_position(exchange["position"].as_str().unwrap())
        .await;
    let types: Vec<(String, String)> = tickets.expect_ok()["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap().to_owned();
            (text("seat_id"), text("ticket_type"))
        })
        .collect();
    assert_eq!(
        types,
        [("A1".into(), "adult".into()), ("A4".into(), "child".into())]
    );
    let order = api
        .my_order(&alice, &order_id)
        .min_position(exchange["position"].as_str().unwrap())
        .await;
    let order = order.expect_ok();
    assert_eq!(order["seats"], json!(["A1", "A4"]), "{order}");
    assert_eq!(order["ticket_types"], json!({"A4": "child"}), "{order}");

    // Bob: the best two regular seats of the morning show, one of them a student's.
    let bob = api.customer("bob");
    let best = api
        .hold(
            &bob,
            &morning,
            &json!({"count": 2, "category": "regular", "ticket_type_counts": {"student": 1}}),
        )
        .await;
    let best = best.expect_created().clone();
    assert_eq!(best["total"], cny(3600 + 2520));
    let student_seat = best["seats"][0].as_str().unwrap();
    assert_eq!(best["ticket_types"], json!({ student_seat: "student" }));
    let sold = api
        .confirm_hold(
            &api.staff(),
            &morning,
            best["hold_id"].as_str().unwrap(),
            "counter-1",
            &best["total"],
        )
        .await;
    let sold_at = sold.position().to_owned();
    sold.expect_created();

    // The box office: evening regular sold 45.00 + 22.50, refunded 22.50, exchanged in the
    // child seat at 22.50; premium sold 34.00 and exchanged out. Morning regular 36.00 +
    // 25.20.
    wait_for_projections(&server.db).await;
    let report = api
        .request(
            reqwest::Method::GET,
            format!("/v1/reports/box-office?group_by=show,category&from={tomorrow}&to={tomorrow}"),
        )
        .token(&api.analyst())
        .min_position(&sold_at)
        .await;
    let report = report.expect_ok();
    let cell = |show: &str, category: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["show_id"] == show && r["category"] == category)
            .cloned()
            .unwrap_or_else(|| panic!("no {category} row of {show} in {report:#}"))
    };
    let regular = cell(&evening, "regular");
    assert_eq!(regular["gross_minor"], 4500 + 2250);
    assert_eq!(regular["refunds_minor"], 2250);
    assert_eq!(regular["exchanged_in_minor"], 2250);
    assert_eq!(regular["net_revenue_minor"], 4500 + 2250);
    let premium = cell(&evening, "premium");
    assert_eq!(premium["gross_minor"], 3400);
    assert_eq!(premium["exchanged_out_minor"], 3400);
    assert_eq!(premium["net_revenue_minor"], 0);
    let morning_regular = cell(&morning, "regular");
    assert_eq!(morning_regular["gross_minor"], 3600 + 2520);
    assert_eq!(morning_regular["net_revenue_minor"], 3600 + 2520);
    assert_read_models_equal_a_rebuild(&server.db).await;
}

#[tokio::test]
async fn ticket_types_a_show_does_not_sell_are_refused_and_nothing_is_written() {
    let server = TestServer::start().await;
    let api = &server.api;
    let mut body = fixtures::show(2, 4);
    body["ticket_prices"] = json!({"child": {"regular": cny(2000)}});
    let show = api.scheduled_show(&body).await;
    let alice = api.customer("alice");
    for (hold, field) in [
        (
            json!({"seats": ["B1"], "ticket_types": {"B1": "senior"}}),
            "ticket_types.B1",
        ),
        // Child tickets are sold on regular seats only (row A is premium).
        (
            json!({"seats": ["A1"], "ticket_types": {"A1": "child"}}),
            "ticket_types.A1",
        ),
        (
            json!({"seats": ["B1"], "ticket_types": {"B2": "child"}}),
            "ticket_types.B2",
        ),
        (
            json!({"count": 2, "ticket_type_counts": {"child": 3}}),
            "ticket_types",
        ),
        (
            json!({"count": 2, "ticket_type_counts": {"senior": 1}}),
            "ticket_types.senior",
        ),
        (
            json!({"seats": ["B1"], "ticket_type_counts": {"child": 1}}),
            "ticket_type_counts",
        ),
        (
            json!({"count": 1, "ticket_types": {"B1": "child"}}),
            "ticket_types",
        ),
    ] {
        let reply = api.hold(&alice, &show, &hold).await;
        reply.expect_problem(422, "validation_failed");
        assert_eq!(reply.invalid_fields(), [field], "{hold}: {reply}");
    }
    for (prices, field) in [
        (
            json!({"child": {"balcony": cny(100)}}),
            "ticket_prices.child.balcony",
        ),
        (
            json!({"adult": {"regular": cny(100)}}),
            "ticket_prices.adult",
        ),
        (json!({"Kind": {"regular": cny(100)}}), "ticket_prices.Kind"),
    ] {
        let mut body = fixtures::show(2, 4);
        body["ticket_prices"] = prices;
        let reply = api.schedule_show(&api.staff(), &body).await;
        reply.expect_problem(422, "validation_failed");
        assert_eq!(reply.invalid_fields(), [field], "{reply}");
    }
    let stream = api.show_stream(&api.auditor(), &show).await;
    let events = stream.expect_ok()["events"].as_array().unwrap().len();
    assert_eq!(events, 1, "only the scheduling was written");
    let held = api
        .hold(
            &alice,
            &show,
            &json!({"seats": ["B1", "B2"], "ticket_types": {"B2": "child"}}),
        )
        .await;
    assert_eq!(held.expect_created()["total"], cny(4500 + 2000));
}
