//! Box-office reports end to end: a known week built through the HTTP API — two cities in
//! time zones eight and seven hours from UTC, three cinemas, two movies, two currencies, a
//! show at half past midnight local time, sales at the counter and through the payment
//! sandbox (one paid after its hold expired), a release, a partial refund with a fee, an
//! exchange to a dearer seat, a transfer to another show, a cancelled show, a promo code —
//! and every report checked against figures worked out by hand below (docs/reports.md
//! gives the definitions), in JSON and CSV, then again after a rebuild from the log.

use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models::{assert_read_models_equal_a_rebuild, rebuild};
use boxoffice_tests::server::{Api, TestServer};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

fn usd(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "USD" })
}

/// The catalogue and the shows of the week.
struct Week {
    d: NaiveDate,
    shanghai: String,
    phoenix: String,
    s1: String,
    s2: String,
    p1: String,
    earth: String,
    nezha: String,
    /// Earth at 00:30 on `d` in Shanghai (16:30 UTC the day before), cinema S1.
    x: String,
    /// Earth at 20:00 on `d` in Shanghai, cinema S1.
    y: String,
    /// Nezha at 19:00 on `d` in Shanghai, cinema S2; cancelled.
    z: String,
    /// Earth at 23:30 on `d` in Phoenix (06:30 UTC the day after), in dollars.
    w: String,
}

async fn catalogue(api: &Api, d: NaiveDate) -> Week {
    let staff = api.staff();
    let shanghai = api
        .create_city(&staff, "上海", "Asia/Shanghai")
        .await
        .created("id");
    let phoenix = api
        .create_city(&staff, "Phoenix", "America/Phoenix")
        .await
        .created("id");
    let cinema = |city: &str, name: &str, policy: Option<Value>| {
        let mut body = json!({"city_id": city, "name": name, "address": format!("{name} 1号"),
            "latitude": 31.2, "longitude": 121.5, "postal_code": "200000"});
        if let Some(policy) = policy {
            body["refund_policy"] = policy;
        }
        body
    };
    // S1 keeps 10% of a refund from 30 days before a show on: every refund here.
    let policy = json!({"full_refund_until_minutes": 43200, "fee_percent": 10});
    let s1 = api
        .create_cinema(&staff, &cinema(&shanghai, "影城一", Some(policy)))
        .await
        .created("id");
    let s2 = api
        .create_cinema(&staff, &cinema(&shanghai, "影城二", None))
        .await
        .created("id");
    let p1 = api
        .create_cinema(&staff, &cinema(&phoenix, "Desert Cinema", None))
        .await
        .created("id");
    let hall = async |cinema: &str, body: Value| {
        api.create_hall(&api.staff(), cinema, &body)
            .await
            .created("id")
    };
    let s1_hall = hall(&s1, fixtures::hall("1号厅")).await;
    let s2_hall = hall(&s2, fixtures::hall("1号厅")).await;
    let mut dollars = fixtures::hall("Hall 1");
    dollars["prices"] = json!({"regular": usd(1200), "premium": usd(2000), "accessible": usd(800)});
    let p1_hall = hall(&p1, dollars).await;
    let staff = api.staff();
    let earth = api
        .create_movie(
            &staff,
            &fixtures::movie("流浪地球, \"2\"", None, "", &["sci-fi"], "zh"),
        )
        .await
        .created("id");
    let nezha = api
        .create_movie(
            &staff,
            &fixtures::movie("哪吒", None, "", &["animation"], "zh"),
        )
        .await
        .created("id");
    let show = |movie: &str, hall: &str, at: String| {
        let body = fixtures::show_in_hall(movie, hall, &at);
        async move { api.scheduled_show(&body).await }
    };
    let x = show(&earth, &s1_hall, format!("{d}T00:30:00+08:00")).await;
    let y = show(&earth, &s1_hall, format!("{d}T20:00:00+08:00")).await;
    let z = show(&nezha, &s2_hall, format!("{d}T19:00:00+08:00")).await;
    let w = show(&earth, &p1_hall, format!("{d}T23:30:00-07:00")).await;
    Week {
        d,
        shanghai,
        phoenix,
        s1,
        s2,
        p1,
        earth,
        nezha,
        x,
        y,
        z,
        w,
    }
}

/// Holds `seats` for `customer` and sells them at the counter; the order's id and the
/// position of the sale.
async fn buy(api: &Api, customer: &str, show: &str, seats: &[&str]) -> (String, String) {
    let token = api.customer(customer);
    let hold = api.hold_seats(&token, show, seats).await;
    let sold = api
        .confirm_hold(
            &api.staff(),
            show,
            &hold.created("hold_id"),
            &format!("counter-{customer}"),
            &hold.body["total"],
        )
        .await;
    (sold.created("order_id"), sold.position().to_owned())
}

/// A report, read at least as far as `position`.
async fn report(api: &Api, path: &str, position: &str) -> Value {
    let reply = api
        .request(reqwest::Method::GET, path)
        .token(&api.analyst())
        .min_position(position)
        .await;
    reply.expect_ok().clone()
}

/// The one row of `rows` whose fields equal `key`'s.
#[track_caller]
fn row<'a>(report: &'a Value, key: &Value) -> &'a Value {
    let rows = report["rows"].as_array().expect("rows");
    let matching: Vec<&Value> = rows
        .iter()
        .filter(|r| key.as_object().unwrap().iter().all(|(k, v)| &r[k] == v))
        .collect();
    assert_eq!(matching.len(), 1, "one row of {key} in {report:#}");
    matching[0]
}

/// Asserts every box-office measure of a row, in the order docs/reports.md lists them:
/// shows, capacity, sold, refunded, exchanged in, exchanged out, gross, discounts, refunds,
/// fees, exchanged in (money), exchanged out (money), net tickets, net revenue, occupancy,
/// average price.
#[track_caller]
fn assert_measures(row: &Value, expected: [i64; 14], occupancy: &str, average: Option<i64>) {
    let names = [
        "shows",
        "capacity",
        "tickets_sold",
        "tickets_refunded",
        "tickets_exchanged_in",
        "tickets_exchanged_out",
        "gross_minor",
        "discounts_minor",
        "refunds_minor",
        "fees_minor",
        "exchanged_in_minor",
        "exchanged_out_minor",
        "tickets_net",
        "net_revenue_minor",
    ];
    for (name, value) in names.iter().zip(expected) {
        assert_eq!(row[*name], json!(value), "{name} of {row:#}");
    }
    assert_eq!(row["occupancy"], json!(occupancy), "occupancy of {row:#}");
    assert_eq!(
        row["average_price_minor"],
        json!(average),
        "average of {row:#}"
    );
}

#[tokio::test]
async fn every_report_adds_up_to_figures_worked_out_by_hand() {
    // Sales happen in two known hours of a manual clock: at three minutes to the hour (H0), and
    // six minutes later (H1, the next hour: holds have lapsed, payments are still open).
    let now = SystemClock.now();
    let h0 = now
        .with_minute(57)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    let clock = Arc::new(ManualClock::new(h0));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let d = (h0 + Duration::days(10)).date_naive();
    let week = catalogue(api, d).await;
    let staff = api.staff();
    let (x, y, z, w) = (&week.x, &week.y, &week.z, &week.w);
    api.create_promo(
        &staff,
        &json!({"code": "fifth-off", "discount": {"percent": 20},
            "valid_from": h0 - Duration::hours(1), "valid_until": h0 + Duration::days(1),
            "usage_limit": 10, "per_customer_limit": 1}),
    )
    .await
    .expect_created();

    // H0. c1: A1, A2 (regular 45.00 each) = 90.00.
    buy(api, "c1", x, &["A1", "A2"]).await;
    // c2: B3, B4 (premium 68.00 each = 136.00) less 20% (27.20) = 108.80, 54.40 a seat.
    let c2 = api.customer("c2");
    let hold = api
        .hold_seats_with_code(&c2, x, &["B3", "B4"], "fifth-off")
        .await;
    assert_eq!(hold.body["total"], cny(10880));
    api.confirm_hold(
        &staff,
        x,
        &hold.created("hold_id"),
        "counter-c2",
        &cny(10880),
    )
    .await
    .expect_created();
    // c3 holds A5 and lets it go.
    let c3 = api.customer("c3");
    let hold = api.hold_seats(&c3, x, &["A5"]).await;
    api.release_hold(&c3, x, &hold.created("hold_id"))
        .await
        .expect_ok();
    // c8 holds A3 and starts paying through the sandbox, but not before the hold lapses.
    let c8 = api.customer("c8");
    let hold = api.hold_seats(&c8, x, &["A3"]).await;
    let paying = api
        .start_payment(&c8, x, &hold.created("hold_id"), "alipay")
        .await;
    paying.expect_created();
    // Z: c6 buys A1 (45.00) at S2; W: c7 buys A1, A2 (12.00 USD each).
    buy(api, "c6", z, &["A1"]).await;
    let (_, before_h1) = buy(api, "c7", w, &["A1", "A2"]).await;

    // H1.
    clock.advance(Duration::minutes(6));
    // c8's hold expires; the late payment still gets A3 (45.00).
    let x_funnel = format!(
        "/v1/reports/funnel?group_by=show&from={d}&to={d}&cinema_id={}",
        week.s1
    );
    boxoffice_tests::wait::eventually("c8's hold expires", async || {
        let funnel = report(api, &x_funnel, &before_h1).await;
        let expired = row(&funnel, &json!({"show_id": x}))["holds_expired"].clone();
        if expired == json!(1) {
            Ok(())
        } else {
            Err(format!("expired: {expired}"))
        }
    })
    .await;
    let page = api
        .press_in_sandbox(paying.text("pay_url"), "succeed")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    // c4: A6, A7 (90.00); refunds A6 (45.00 less the 10% fee: 40.50 back, 4.50 kept), then
    // exchanges A7 for B5: paid 45.00 + (68.00 - 45.00) = 68.00, 23.00 charged.
    let c4 = api.customer("c4");
    let (c4_order, _) = buy(api, "c4", x, &["A6", "A7"]).await;
    let refund = api.refund_seats(&c4, x, &c4_order, &["A6"]).await;
    refund.expect_created();
    api.exchange_seats(&c4, x, &c4_order, &["A7"], &["B5"])
        .await
        .expect_created();
    // c5: A8 (45.00), moved to Y's A1 (45.00): nothing to pay.
    let c5 = api.customer("c5");
    let (c5_order, _) = buy(api, "c5", x, &["A8"]).await;
    api.transfer_seats(&c5, x, &c5_order, &["A8"], y, &["A1"])
        .await
        .expect_created();
    // Z is cancelled: c6 gets 45.00 back in full.
    let cancelled = api.cancel_show(&staff, z, "projector broke").await;
    let at = cancelled.position().to_owned();
    // Wait for the late payment too (it is decided after the sandbox answers).
    boxoffice_tests::wait::eventually("the late payment is sold", async || {
        let funnel = report(
            api,
            &format!(
                "/v1/reports/funnel?group_by=show&from={d}&to={d}&cinema_id={}",
                week.s1
            ),
            &at,
        )
        .await;
        let paid = row(&funnel, &json!({"show_id": x}))["paid_after_expiry"].clone();
        if paid == json!(1) {
            Ok(funnel)
        } else {
            Err(format!("paid after expiry: {paid}"))
        }
    })
    .await;

    let position = newest_position(&server).await;
    let answers = check_every_report(api, &week, &position).await;

    // The read models equal a rebuild from the log, and the reports answer the same after
    // one.
    boxoffice_tests::read_models::wait_for_projections(&server.db).await;
    assert_read_models_equal_a_rebuild(&server.db).await;
    rebuild(&server.db).await;
    let again = check_every_report(api, &week, &position).await;
    assert_eq!(answers, again, "the reports changed with a rebuild");
}

/// The log's newest position, as the API writes positions.
async fn newest_position(server: &TestServer) -> String {
    let row = server
        .db
        .client()
        .await
        .query_one(
            "SELECT xid, position FROM events ORDER BY xid DESC, position DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    format!("{}-{}", row.get::<_, i64>(0), row.get::<_, i64>(1))
}

/// Every report checked; their answers without positions, to compare after a rebuild.
async fn check_every_report(api: &Api, week: &Week, at: &str) -> Vec<Value> {
    let d = week.d;
    let (x, y, z, w) = (&week.x, &week.y, &week.z, &week.w);
    let range = format!("from={d}&to={d}");
    let mut answers = Vec::new();

    // Per show and category.
    let by_show = report(
        api,
        &format!("/v1/reports/box-office?group_by=show,category&{range}"),
        at,
    )
    .await;
    let cell =
        |show: &str, category: &str| row(&by_show, &json!({"show_id": show, "category": category}));
    // X regular: sold A1 A2 (c1), A3 (c8, late), A6 A7 (c4), A8 (c5) = 6 x 45.00 = 270.00;
    // refunded A6: 40.50 back, 4.50 fee; exchanged out A7 (45.00) and A8 (45.00); net
    // tickets 6 - 1 - 2 = 3 (A1 A2 A3), net revenue 270.00 - 90.00 - 40.50 = 139.50,
    // occupancy 3/8, average 139.50 / 3 = 46.50.
    assert_measures(
        cell(x, "regular"),
        [1, 8, 6, 1, 0, 2, 27000, 0, 4050, 450, 0, 9000, 3, 13950],
        "0.3750",
        Some(4650),
    );
    // X premium: B3 B4 sold at 136.00 less 27.20; B5 exchanged in at 68.00; net 3 tickets,
    // 136.00 - 27.20 + 68.00 = 176.80; occupancy 3/4; average 58.933 -> 58.93.
    assert_measures(
        cell(x, "premium"),
        [1, 4, 2, 0, 1, 0, 13600, 2720, 0, 0, 6800, 0, 3, 17680],
        "0.7500",
        Some(5893),
    );
    assert_measures(
        cell(x, "accessible"),
        [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "0.0000",
        None,
    );
    // Y regular: A1 paid by A8's credit, 45.00.
    assert_measures(
        cell(y, "regular"),
        [1, 8, 0, 0, 1, 0, 0, 0, 0, 0, 4500, 0, 1, 4500],
        "0.1250",
        Some(4500),
    );
    // Z regular: sold and refunded by the cancellation.
    let z_regular = cell(z, "regular");
    assert_measures(
        z_regular,
        [1, 8, 1, 1, 0, 0, 4500, 0, 4500, 0, 0, 0, 0, 0],
        "0.0000",
        None,
    );
    assert_eq!(z_regular["cancelled"], json!(true));
    assert_eq!(cell(x, "regular")["cancelled"], json!(false));
    // X starts at 00:30 on d in Shanghai: 16:30 UTC the day before.
    let starts = cell(x, "regular")["starts_at"].as_str().unwrap().to_owned();
    assert_eq!(starts, format!("{}T16:30:00Z", d.pred_opt().unwrap()));
    // W regular, in dollars: 2 x 12.00.
    let w_regular = cell(w, "regular");
    assert_eq!(w_regular["currency"], "USD");
    assert_measures(
        w_regular,
        [1, 8, 2, 0, 0, 0, 2400, 0, 0, 0, 0, 0, 2, 2400],
        "0.2500",
        Some(1200),
    );
    // Totals per currency. CNY: X, Y, Z: capacity 3 x 14; sold 6 + 2 + 1; refunded A6 and
    // Z's A1; gross 270.00 + 136.00 + 45.00; net tickets 9 + 2 - 2 - 2 = 7; net revenue
    // 139.50 + 176.80 + 45.00 + 0 = 361.30; occupancy 7/42 = 0.16667; average 51.614.
    let cny_total = row(
        &json!({"rows": by_show["totals"]}),
        &json!({"currency": "CNY"}),
    )
    .clone();
    let cny_figures = [
        3, 42, 9, 2, 2, 2, 45100, 2720, 8550, 450, 11300, 9000, 7, 36130,
    ];
    assert_measures(&cny_total, cny_figures, "0.1667", Some(5161));
    let usd_total = row(
        &json!({"rows": by_show["totals"]}),
        &json!({"currency": "USD"}),
    )
    .clone();
    let usd_figures = [1, 14, 2, 0, 0, 0, 2400, 0, 0, 0, 0, 0, 2, 2400];
    assert_measures(&usd_total, usd_figures, "0.1429", Some(1200));
    assert_eq!(by_show["next_cursor"], Value::Null);
    answers.push(without_position(by_show.clone()));

    // By city and day (the day rollups): everything in Shanghai and Phoenix is on d.
    let by_city = report(
        api,
        &format!("/v1/reports/box-office?group_by=city,day&{range}"),
        at,
    )
    .await;
    let shanghai = row(
        &by_city,
        &json!({"city_id": week.shanghai, "day": d.to_string()}),
    );
    assert_eq!(shanghai["city_name"], "上海");
    assert_measures(shanghai, cny_figures, "0.1667", Some(5161));
    let phoenix = row(
        &by_city,
        &json!({"city_id": week.phoenix, "day": d.to_string()}),
    );
    assert_measures(phoenix, usd_figures, "0.1429", Some(1200));
    assert_eq!(by_city["rows"].as_array().unwrap().len(), 2);
    assert_eq!(
        by_city["totals"], by_show["totals"],
        "the totals do not depend on the grouping"
    );
    answers.push(without_position(by_city));

    // By weekday (the rollup) and by cinema and hour (the facts).
    let weekday = d.weekday().number_from_monday();
    let by_weekday = report(
        api,
        &format!("/v1/reports/box-office?group_by=weekday&{range}&currency=CNY"),
        at,
    )
    .await;
    assert_measures(
        row(&by_weekday, &json!({"weekday": weekday})),
        cny_figures,
        "0.1667",
        Some(5161),
    );
    answers.push(without_position(by_weekday));
    let by_cinema = report(
        api,
        &format!("/v1/reports/box-office?group_by=cinema,hour&{range}"),
        at,
    )
    .await;
    // S1 at hour 0 is X: 6 + 2 sold, 1 refunded, 1 in, 2 out; 270.00 + 136.00 gross; net
    // 8 + 1 - 2 - 1 = 6 tickets, 139.50 + 176.80 = 316.30; occupancy 6/14; average 52.717.
    assert_measures(
        row(&by_cinema, &json!({"cinema_id": week.s1, "hour": 0})),
        [
            1, 14, 8, 1, 1, 2, 40600, 2720, 4050, 450, 6800, 9000, 6, 31630,
        ],
        "0.4286",
        Some(5272),
    );
    assert_measures(
        row(&by_cinema, &json!({"cinema_id": week.s1, "hour": 20})),
        [1, 14, 0, 0, 1, 0, 0, 0, 0, 0, 4500, 0, 1, 4500],
        "0.0714",
        Some(4500),
    );
    assert_eq!(
        row(&by_cinema, &json!({"cinema_id": week.p1, "hour": 23}))["cinema_name"],
        "Desert Cinema"
    );
    assert_eq!(
        row(&by_cinema, &json!({"cinema_id": week.s2, "hour": 19}))["tickets_net"],
        0
    );
    answers.push(without_position(by_cinema));

    // By movie (the rollup): Earth in two currencies, Nezha in one.
    let by_movie = report(
        api,
        &format!("/v1/reports/box-office?group_by=movie&{range}"),
        at,
    )
    .await;
    let earth_cny = row(
        &by_movie,
        &json!({"movie_id": week.earth, "currency": "CNY"}),
    );
    assert_eq!(earth_cny["movie_title"], "流浪地球, \"2\"");
    // X and Y: 2 shows, 28 seats, 7 tickets, 316.30 + 45.00.
    assert_measures(
        earth_cny,
        [
            2, 28, 8, 1, 2, 2, 40600, 2720, 4050, 450, 11300, 9000, 7, 36130,
        ],
        "0.2500",
        Some(5161),
    );
    assert_measures(
        row(
            &by_movie,
            &json!({"movie_id": week.earth, "currency": "USD"}),
        ),
        usd_figures,
        "0.1429",
        Some(1200),
    );
    assert_eq!(
        row(&by_movie, &json!({"movie_id": week.nezha}))["refunds_minor"],
        4500
    );
    answers.push(without_position(by_movie.clone()));

    // Pages: one row at a time, sorted by net revenue, highest first; the totals on every
    // page are over every row.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!(
            "/v1/reports/box-office?group_by=show&{range}&sort=-net_revenue_minor&page_size=1"
        );
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = report(api, &path, at).await;
        assert_eq!(page["totals"], by_show["totals"]);
        let rows = page["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{page:#}");
        seen.push((
            rows[0]["show_id"].as_str().unwrap().to_owned(),
            rows[0]["net_revenue_minor"].clone(),
        ));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // X 316.30, Y 45.00, Z 0 (CNY), then W 24.00 (USD): revenue is compared within the sort,
    // not converted; the currency only breaks ties.
    let order: Vec<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        order,
        [x.as_str(), y.as_str(), w.as_str(), z.as_str()],
        "{seen:?}"
    );

    // Pages led by a cinema or a city walk those in the order of their names, up or down:
    // any page size gives the rows of one big page, in order, with the same totals.
    for (report_path, names) in [
        ("box-office?group_by=cinema,hour", "cinema_name"),
        ("box-office?group_by=city,day,category", "city_name"),
        ("box-office?group_by=day,cinema&sort=cinema", "cinema_name"),
        ("box-office?group_by=city,movie&sort=-city", "city_name"),
        ("funnel?group_by=cinema,day&sort=-cinema", "cinema_name"),
        ("funnel?group_by=city", "city_name"),
    ] {
        let whole = report(
            api,
            &format!("/v1/reports/{report_path}&{range}&page_size=1000"),
            at,
        )
        .await;
        let all = whole["rows"].as_array().unwrap().clone();
        assert!(all.len() >= 2, "{report_path}: {whole:#}");
        let mut in_order: Vec<&str> = all.iter().map(|r| r[names].as_str().unwrap()).collect();
        let found = in_order.clone();
        in_order.sort_unstable();
        if report_path.contains("sort=-") {
            in_order.reverse();
        }
        assert_eq!(found, in_order, "{report_path}");
        for page_size in [1, 2] {
            let mut rows = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut path = format!("/v1/reports/{report_path}&{range}&page_size={page_size}");
                if let Some(cursor) = &cursor {
                    path.push_str(&format!("&cursor={cursor}"));
                }
                let page = report(api, &path, at).await;
                assert_eq!(page["totals"], whole["totals"], "{path}");
                rows.extend(page["rows"].as_array().unwrap().iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
            assert_eq!(rows, all, "{report_path}, {page_size} a page");
        }
    }

    // The funnel per show and per city.
    let funnel = report(
        api,
        &format!("/v1/reports/funnel?group_by=show&{range}"),
        at,
    )
    .await;
    // X: held by c1, c2, c3, c8, c4, c5; c3 released; c8 expired, then paid late; paid:
    // c1, c2, c8, c4, c5; one payment started (c8's); one promo hold, one discounted order.
    let fx = row(&funnel, &json!({"show_id": x}));
    let expect_funnel = |r: &Value, figures: [i64; 15], conversion: Value| {
        let names = [
            "shows",
            "holds_made",
            "holds_released",
            "holds_expired",
            "holds_paid",
            "paid_after_expiry",
            "payments_started",
            "payments_failed",
            "payments_refused",
            "waitlist_joined",
            "waitlist_offers",
            "offers_taken",
            "offers_lapsed",
            "promo_holds",
            "promo_orders",
        ];
        for (name, value) in names.iter().zip(figures) {
            assert_eq!(r[*name], json!(value), "{name} of {r:#}");
        }
        assert_eq!(r["conversion"], conversion, "{r:#}");
    };
    expect_funnel(
        fx,
        [1, 6, 1, 1, 5, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1],
        json!("0.8333"),
    );
    // Y: the transfer's hold, paid by the credit.
    expect_funnel(
        row(&funnel, &json!({"show_id": y})),
        [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        json!("1.0000"),
    );
    let by_city = report(
        api,
        &format!("/v1/reports/funnel?group_by=city&{range}"),
        at,
    )
    .await;
    expect_funnel(
        row(&by_city, &json!({"city_id": week.shanghai})),
        [3, 8, 1, 1, 7, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1],
        json!("0.8750"),
    );
    expect_funnel(
        row(&by_city, &json!({"city_id": week.phoenix})),
        [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        json!("1.0000"),
    );
    assert_eq!(by_city["totals"]["holds_made"], 9);
    answers.push(without_position(funnel));

    // X's on-sale curve: H0 c1 (2, 90.00) and c2 (2, 108.80); H1 c8 (1, 45.00), c4 (2,
    // 90.00), the refund (-1, -40.50), the exchange (0, +23.00), c5 (1, 45.00), the
    // transfer (-1, -45.00).
    let timeline = report(api, &format!("/v1/reports/sales-timeline?show_id={x}"), at).await;
    let rows = timeline["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{timeline:#}");
    let h0 = rows[0]["bucket"]
        .as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap();
    assert_eq!(h0.minute(), 0);
    assert_eq!(
        rows[1]["bucket"],
        json!((h0 + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    let curve = |r: &Value| {
        [
            "tickets_sold",
            "tickets_refunded",
            "tickets_net",
            "net_revenue_minor",
            "cumulative_tickets_net",
            "cumulative_net_revenue_minor",
        ]
        .map(|name| r[name].as_i64().unwrap())
    };
    assert_eq!(curve(&rows[0]), [4, 0, 4, 19880, 4, 19880]);
    assert_eq!(curve(&rows[1]), [4, 1, 2, 11750, 6, 31630]);
    // Earth's curve in yuan: X, and Y's transfer in H1 (1, 45.00); in dollars, W in H0.
    let movie = report(
        api,
        &format!("/v1/reports/sales-timeline?movie_id={}", week.earth),
        at,
    )
    .await;
    let in_yuan: Vec<[i64; 6]> = movie["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["currency"] == "CNY")
        .map(curve)
        .collect();
    assert_eq!(
        in_yuan,
        [[4, 0, 4, 19880, 4, 19880], [4, 1, 3, 16250, 7, 36130]]
    );
    let in_dollars: Vec<[i64; 6]> = movie["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["currency"] == "USD")
        .map(curve)
        .collect();
    assert_eq!(in_dollars, [[2, 0, 2, 2400, 2, 2400]]);
    // By day in Shanghai's time: one or two days, the last one cumulative 7 and 361.30.
    let daily = report(
        api,
        &format!(
            "/v1/reports/sales-timeline?city_id={}&bucket=day&tz=Asia/Shanghai",
            week.shanghai
        ),
        at,
    )
    .await;
    let last = daily["rows"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(curve(&last)[4..], [7, 36130]);
    answers.push(without_position(timeline));
    answers.push(without_position(movie));

    // CSV: the same figures, money with two decimals, the title quoted.
    let csv = csv_of(
        api,
        &format!("/v1/reports/box-office?group_by=movie&{range}&format=csv"),
    )
    .await;
    let header = &csv[0];
    assert_eq!(header[..3], ["movie_id", "movie_title", "currency"]);
    let earth_line = csv
        .iter()
        .find(|r| r[0] == week.earth && r[2] == "CNY")
        .expect("Earth in yuan");
    let field = |name: &str| &earth_line[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(field("movie_title"), "流浪地球, \"2\"");
    assert_eq!(field("gross"), "406.00");
    assert_eq!(field("discounts"), "27.20");
    assert_eq!(field("net_revenue"), "361.30");
    assert_eq!(field("occupancy"), "0.2500");
    assert_eq!(field("average_price"), "51.61");
    assert_eq!(field("tickets_net"), "7");
    let csv_accept =
        csv_with_accept(api, &format!("/v1/reports/funnel?group_by=city&{range}")).await;
    assert!(
        csv_accept.starts_with("city_id,city_name,shows,holds_made"),
        "{csv_accept}"
    );
    assert!(csv_accept.contains(",0.8750\r\n"), "{csv_accept}");
    answers
}

fn without_position(mut answer: Value) -> Value {
    answer.as_object_mut().unwrap().remove("position");
    answer
}

/// A CSV report's records (RFC 4180: quoted fields, doubled quotes).
async fn csv_of(api: &Api, path: &str) -> Vec<Vec<String>> {
    let reply = api
        .http()
        .get(format!("{}{path}", api.base()))
        .bearer_auth(api.analyst())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["content-type"], "text/csv; charset=utf-8");
    parse_csv(&reply.text().await.unwrap())
}

async fn csv_with_accept(api: &Api, path: &str) -> String {
    let reply = api
        .http()
        .get(format!("{}{path}", api.base()))
        .bearer_auth(api.analyst())
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.text().await.unwrap()
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[tokio::test]
async fn bad_report_parameters_are_4xx_problems_and_customers_are_refused() {
    let server = TestServer::start().await;
    let api = &server.api;
    let analyst = api.analyst();
    let ask = |path: &str| {
        api.request(reqwest::Method::GET, path.to_owned())
            .token(&analyst)
    };
    let refused = [
        ("/v1/reports/box-office?group_by=planet&from=2026-12-01&to=2026-12-02", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-03&to=2026-12-02", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2025-01-01&to=2026-12-02", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=0001-01-01&to=0001-01-02", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02&sort=movie", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02&page_size=0", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02&cursor=bm9wZQ", 400, "invalid_cursor"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02&currency=yuan", 400, "invalid_query"),
        ("/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02&city_id=6a1f1f5e-0000-4000-8000-000000000000", 422, "unknown_id"),
        ("/v1/reports/funnel?group_by=category&from=2026-12-01&to=2026-12-02", 400, "invalid_query"),
        ("/v1/reports/funnel?group_by=city&from=2026-12-01&to=2026-12-02&currency=CNY", 400, "invalid_query"),
        ("/v1/reports/sales-timeline", 400, "invalid_query"),
        ("/v1/reports/sales-timeline?show_id=6a1f1f5e-0000-4000-8000-000000000000&movie_id=6a1f1f5e-0000-4000-8000-000000000000", 400, "invalid_query"),
        ("/v1/reports/sales-timeline?show_id=6a1f1f5e-0000-4000-8000-000000000000", 422, "unknown_id"),
        ("/v1/reports/sales-timeline?city_id=6a1f1f5e-0000-4000-8000-000000000000&tz=Mars/Olympus", 400, "invalid_query"),
        ("/v1/reports/sales?page_size=0", 400, "invalid_query"),
    ];
    for (path, status, code) in refused {
        ask(path).await.expect_problem(status, code);
    }
    // A customer may not read the box office; an analyst and staff may.
    let path = "/v1/reports/box-office?group_by=city&from=2026-12-01&to=2026-12-02";
    api.request(reqwest::Method::GET, path)
        .token(&api.customer("c1"))
        .await
        .expect_problem(403, "forbidden");
    ask(path).await.expect_ok();
    let staffs = api
        .request(reqwest::Method::GET, path)
        .token(&api.staff())
        .await;
    staffs.expect_ok();
    // An unchanged report is 304 to a client holding its ETag.
    let tag = staffs.header("etag").unwrap().to_owned();
    let again = api
        .request(reqwest::Method::GET, path)
        .token(&api.staff())
        .header("if-none-match", &tag)
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}
