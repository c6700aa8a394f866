//! Tickets at the door, end to end over HTTP: a paid order's tickets (QR codes a scanner
//! checks with the public key alone, drawn as PNG and SVG, and a pickup code), letting them
//! in exactly once however many doors scan at the same instant, and refusing what a door
//! must refuse: void tickets (refunded or exchanged seats), forged codes, other shows'
//! tickets, too early and too late.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use boxoffice_api::auth::Role;
use boxoffice_audit::seal::PublicKey;
use boxoffice_commands::{Clock, ManualClock, SystemClock};
use boxoffice_tests::fixtures::{self, cny};
use boxoffice_tests::read_models::{assert_read_models_equal_a_rebuild, wait_for_projections};
use boxoffice_tests::server::{Api, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A server whose doors open three hours before a show (the fixtures' shows start in two).
async fn doors_open_server() -> TestServer {
    TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.tickets.doors_open_minutes = 180;
    })
    .await
}

/// `who` holds `seats` and the box office sells them for `amount_minor`: the order id and
/// the position of the sale.
async fn sold(
    api: &Api,
    who: &str,
    show: &str,
    seats: &[&str],
    amount_minor: i64,
) -> (String, String) {
    let hold = api.hold_seats(who, show, seats).await.created("hold_id");
    let paid = api
        .confirm_hold(&api.staff(), show, &hold, "counter-1", &cny(amount_minor))
        .await;
    (paid.created("order_id"), paid.position().to_owned())
}

/// An order's tickets once the read model has its sale (or the change at `position`).
async fn tickets(api: &Api, who: &str, order: &str, position: &str) -> Value {
    let tickets = api.order_tickets(who, order).min_position(position).await;
    tickets.expect_ok().clone()
}

/// Each seat's QR code text.
fn qr_by_seat(tickets: &Value) -> BTreeMap<String, String> {
    tickets["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["seat_id"].as_str().unwrap().to_owned(),
                t["qr"]["payload"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What a scanner reads from a QR code, checked with the public key and nothing else.
fn verified(public_key: &PublicKey, payload: &str) -> Option<Value> {
    let (body, signature) = payload.strip_prefix("BOXT1.")?.split_once('.')?;
    let body = URL_SAFE_NO_PAD.decode(body).ok()?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
    public_key
        .verifies(&body, &signature)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten()
}

/// The text a camera reads off the PNG image.
fn read_png(png_base64: &str) -> String {
    let bytes = STANDARD.decode(png_base64).expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a readable QR code").1
}

/// The font the server prints Chinese with when it is installed (`fonts-wqy-microhei`).
const CHINESE_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// The text of each page of an order's printable tickets, as a PDF reader shows it.
async fn printed_pages(api: &Api, who: &str, order: &str, position: &str) -> Vec<String> {
    let response = api
        .http()
        .get(api.order_tickets_pdf_url(order))
        .query(&[("min_position", position)])
        .bearer_auth(who)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let bytes = response.bytes().await.unwrap();
    let pdf = lopdf::Document::load_mem(&bytes).expect("a PDF that opens");
    let to_unicode = to_unicode(&pdf);
    pdf.get_pages()
        .values()
        .map(|page| {
            let content = pdf.get_page_content(*page).expect("page content");
            let content = lopdf::content::Content::decode(&content).expect("page operations");
            let mut text = String::new();
            for operation in content.operations {
                if operation.operator == "Tj" {
                    if let Some(lopdf::Object::String(bytes, _)) = operation.operands.first() {
                        text.push_str(&decoded(bytes, &to_unicode));
                        text.push('\n');
                    }
                }
            }
            text
        })
        .collect()
}

/// The embedded font's map from glyph codes to characters (none for a built-in font).
fn to_unicode(pdf: &lopdf::Document) -> BTreeMap<u16, char> {
    let mut map = BTreeMap::new();
    for object in pdf.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        let Ok(reference) = dict.get(b"ToUnicode").and_then(lopdf::Object::as_reference) else {
            continue;
        };
        let stream = pdf.get_object(reference).unwrap().as_stream().unwrap();
        let cmap = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        for line in String::from_utf8_lossy(&cmap).lines() {
            let hex: Vec<&str> = line
                .split(['<', '>', ' '])
                .filter(|p| !p.is_empty())
                .collect();
            if let [code, unicode] = hex[..] {
                if let (Ok(code), Ok(unicode)) = (
                    u16::from_str_radix(code, 16),
                    u32::from_str_radix(unicode, 16),
                ) {
                    map.extend(char::from_u32(unicode).map(|c| (code, c)));
                }
            }
        }
    }
    map
}

/// A shown string: two-byte glyph codes through the font's map, or Latin-1 bytes.
fn decoded(bytes: &[u8], to_unicode: &BTreeMap<u16, char>) -> String {
    if to_unicode.is_empty() {
        return bytes.iter().map(|b| char::from(*b)).collect();
    }
    bytes
        .chunks(2)
        .filter_map(|pair| {
            let code = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            to_unicode.get(&code).copied()
        })
        .collect()
}

#[tokio::test]
async fn a_paid_order_s_tickets_verify_offline_and_each_is_let_in_exactly_once() {
    let server = doors_open_server().await;
    let api = &server.api;
    let staff = api.staff();
    let door = api.token("door-1", &[Role::Door]);
    let (alice, bob) = (api.customer("alice"), api.customer("bob"));
    let show = api
        .schedule_show(&staff, &fixtures::show(2, 5))
        .await
        .created("show_id");
    let (order, position) = sold(api, &alice, &show, &["A1", "A2", "A3"], 24_000).await;

    let issued = tickets(api, &alice, &order, &position).await;
    assert_eq!(issued["show_id"], show.as_str());
    let code = issued["pickup_code"].as_str().unwrap().to_owned();
    assert!(
        code.len() == 10 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    let all = issued["tickets"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    let key = api.ticket_public_key().await;
    let public_key = PublicKey::from_hex(key.expect_ok()["public_key"].as_str().unwrap()).unwrap();
    for ticket in all {
        assert_eq!(ticket["status"], "valid");
        assert_eq!(ticket["version"], 1);
        let payload = ticket["qr"]["payload"].as_str().unwrap();
        // What the scanner reads off the image is the payload, and the key alone vouches
        // for show, seat, ticket and version.
        assert_eq!(
            read_png(ticket["qr"]["png_base64"].as_str().unwrap()),
            payload
        );
        assert!(ticket["qr"]["svg"].as_str().unwrap().contains("<svg"));
        let said = verified(&public_key, payload).expect("the signature holds");
        assert_eq!(said["show_id"], show.as_str());
        assert_eq!(said["seat_id"], ticket["seat_id"]);
        assert_eq!(said["ticket_id"], ticket["ticket_id"]);
        assert_eq!(said["version"], 1);
    }
    // Printable: a page per seat, each with the show, its seat and the pickup code.
    let pages = printed_pages(api, &alice, &order, &position).await;
    assert_eq!(pages.len(), 3, "{pages:?}");
    for (page, seat) in pages.iter().zip(["A1", "A2", "A3"]) {
        assert!(page.contains("The Wandering Earth II"), "{page}");
        if std::path::Path::new(CHINESE_FONT).exists() {
            assert!(page.contains("流浪地球"), "{page}");
            assert!(page.contains("取票码"), "{page}");
        }
        assert!(
            page.contains(&format!("Row A Seat {}", &seat[1..])),
            "{page}"
        );
        assert!(page.contains(&format!("({seat})")), "{page}");
        assert!(page.contains("80.00 CNY"), "{page}");
        assert!(page.contains(&code), "{page}");
    }

    // Someone else's order has no tickets for them; a customer cannot let people in.
    api.order_tickets(&bob, &order)
        .await
        .expect_problem(StatusCode::NOT_FOUND, "order_not_found");
    let qr = qr_by_seat(&issued);
    api.check_in_qr(&alice, &show, &qr["A1"], "north")
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");

    // A1 is let in once; the second scan says when and where.
    let first = api.check_in_qr(&door, &show, &qr["A1"], "north").await;
    let admitted = first.expect_created();
    assert_eq!(admitted["admitted"][0]["seat_id"], "A1");
    assert_eq!(admitted["method"], "qr");
    let again = api.check_in_qr(&door, &show, &qr["A1"], "south").await;
    let problem = again.expect_problem(StatusCode::CONFLICT, "already_checked_in");
    assert_eq!(problem["door"], "north");
    assert_eq!(problem["checked_in_at"], admitted["checked_in_at"]);

    // Twenty doors scan A2 at the same instant: one lets it in.
    let scans = (0..20).map(|n| {
        let (door, show, qr) = (door.clone(), show.clone(), qr["A2"].clone());
        async move {
            api.check_in_qr(&door, &show, &qr, &format!("gate-{n}"))
                .await
        }
    });
    let answers = futures_util::future::join_all(scans).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        answer.expect_problem(StatusCode::CONFLICT, "already_checked_in");
    }

    // The pickup code lets in the rest of the order, then nothing more.
    let by_code_reply = api.check_in_code(&door, &show, &code, "box office").await;
    let by_code = by_code_reply.expect_created();
    assert_eq!(by_code["method"], "pickup_code");
    let seats: Vec<&str> = by_code["admitted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["seat_id"].as_str().unwrap())
        .collect();
    assert_eq!(seats, ["A3"]);
    api.check_in_code(&door, &show, &code, "box office")
        .await
        .expect_problem(StatusCode::CONFLICT, "already_checked_in");
    api.check_in_code(&door, &show, "0000000000", "box office")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "ticket_not_found");

    // Seats let in stay sold: the customer cannot refund them.
    api.refund_seats(&alice, &show, &order, &["A1"])
        .await
        .expect_problem(StatusCode::CONFLICT, "seats_checked_in");
    let seen = tickets(api, &alice, &order, by_code_reply.position()).await;
    assert!(seen["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "checked_in"));

    // Analysts see the attendance in the box office: three sold, three let in.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(1), today + chrono::Days::new(1));
    let report = api
        .request(
            reqwest::Method::GET,
            format!("/v1/reports/box-office?group_by=show&from={from}&to={to}"),
        )
        .token(&api.analyst())
        .min_position(by_code_reply.position())
        .await;
    let row = report.expect_ok()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["show_id"] == show.as_str())
        .cloned()
        .expect("the show's row");
    assert_eq!(
        (
            row["tickets_sold"].clone(),
            row["tickets_checked_in"].clone()
        ),
        (3.into(), 3.into())
    );

    // The seat map shows who is in; a seat staff refund after it was let in is free again,
    // and no longer counted in.
    let map = api
        .seat_map(&show)
        .min_position(by_code_reply.position())
        .await;
    let map = map.expect_ok();
    assert_eq!(map["counts"]["checked_in"], 3);
    assert_eq!(map["seats"][0]["seat_id"], "A1");
    assert_eq!(map["seats"][0]["checked_in"], true);
    let refunded = api.refund_seats(&api.staff(), &show, &order, &["A1"]).await;
    refunded.expect_created();
    let map = api.seat_map(&show).min_position(refunded.position()).await;
    let map = map.expect_ok();
    assert_eq!(map["counts"]["checked_in"], 2);
    assert_eq!(map["seats"][0]["status"], "available");
    assert_eq!(map["seats"][0]["checked_in"], false);
    let statuses = api
        .seat_statuses(&show)
        .min_position(refunded.position())
        .await;
    assert_eq!(statuses.expect_ok()["counts"]["checked_in"], 2);
}

#[tokio::test]
async fn refunded_exchanged_forged_and_other_shows_tickets_are_refused_at_the_door() {
    let server = doors_open_server().await;
    let api = &server.api;
    let staff = api.staff();
    let door = api.token("door-1", &[Role::Door]);
    let (alice, bob) = (api.customer("alice"), api.customer("bob"));
    let show = api
        .schedule_show(&staff, &fixtures::show(2, 5))
        .await
        .created("show_id");
    let other_show = api
        .schedule_show(&staff, &fixtures::show(2, 5))
        .await
        .created("show_id");
    let (order, position) = sold(api, &alice, &show, &["B1", "B2"], 9_000).await;
    let old = qr_by_seat(&tickets(api, &alice, &order, &position).await);

    // B1 refunded: its ticket is void, at the door and in the customer's list.
    let refunded = api.refund_seats(&alice, &show, &order, &["B1"]).await;
    refunded.expect_created();
    api.check_in_qr(&door, &show, &old["B1"], "north")
        .await
        .expect_problem(StatusCode::CONFLICT, "ticket_void");
    // B2 exchanged for B3: the old ticket is void, the new one (a new seat) admits.
    let exchanged = api
        .exchange_seats(&alice, &show, &order, &["B2"], &["B3"])
        .await;
    exchanged.expect_created();
    let now = tickets(api, &alice, &order, exchanged.position()).await;
    let new = qr_by_seat(&now);
    assert_eq!(new.keys().collect::<Vec<_>>(), ["B3"]);
    api.check_in_qr(&door, &show, &old["B2"], "north")
        .await
        .expect_problem(StatusCode::CONFLICT, "ticket_void");
    api.check_in_qr(&door, &show, &new["B3"], "north")
        .await
        .expect_created();

    // B1 sold again, to bob: his ticket is the seat's second; alice's old one stays void.
    let (bobs, position) = sold(api, &bob, &show, &["B1"], 4_500).await;
    let his = tickets(api, &bob, &bobs, &position).await;
    assert_eq!(his["tickets"][0]["version"], 2);
    api.check_in_qr(&door, &show, &old["B1"], "north")
        .await
        .expect_problem(StatusCode::CONFLICT, "ticket_void");

    // A code with one changed letter, or signed by another key, is forged; a good code at
    // the wrong show's door is another show's.
    let genuine = his["tickets"][0]["qr"]["payload"].as_str().unwrap();
    let (head, signature) = genuine.rsplit_once('.').unwrap();
    let mut changed = signature.to_owned().into_bytes();
    changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
    let forged = format!("{head}.{}", String::from_utf8(changed).unwrap());
    api.check_in_qr(&door, &show, &forged, "north")
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "ticket_forged");
    api.check_in_qr(&door, &show, "not a ticket", "north")
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "ticket_forged");
    let elsewhere = api.check_in_qr(&door, &other_show, genuine, "north").await;
    let problem = elsewhere.expect_problem(StatusCode::CONFLICT, "ticket_for_another_show");
    assert_eq!(problem["ticket_show_id"], show.as_str());
    // Neither both nor none; a door must be named.
    for body in [
        serde_json::json!({"door": "north"}),
        serde_json::json!({"qr": genuine, "pickup_code": "1", "door": "north"}),
        serde_json::json!({"qr": genuine, "door": " "}),
    ] {
        api.request(reqwest::Method::POST, format!("/v1/shows/{show}/check-ins"))
            .token(&door)
            .json(&body)
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }

    // The door manager sees who is in and who is expected, with pickup codes.
    let in_now = api.check_in_qr(&door, &show, genuine, "north").await;
    in_now.expect_created();
    let attendance = api
        .attendance(&door, &show)
        .min_position(in_now.position())
        .await;
    let attendance = attendance.expect_ok();
    assert_eq!(attendance["sold"], 2);
    assert_eq!(attendance["checked_in"], 2);
    assert_eq!(attendance["not_checked_in"], 0);
    let sold_more = sold(api, &bob, &show, &["A5"], 8_000).await;
    let attendance = api
        .attendance(&door, &show)
        .min_position(&sold_more.1)
        .await;
    let attendance = attendance.expect_ok();
    assert_eq!(attendance["not_checked_in"], 1);
    assert_eq!(attendance["expected"][0]["seat_id"], "A5");
    assert_eq!(attendance["expected"][0]["order_id"], sold_more.0.as_str());
    assert_eq!(
        attendance["expected"][0]["pickup_code"]
            .as_str()
            .map(str::len),
        Some(10)
    );
    api.attendance(&bob, &show)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
    api.attendance(&door, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(StatusCode::NOT_FOUND, "show_not_found");

    // Seats sold, voided, sold again and let in, folded batch by batch, are what a rebuild
    // from the log makes of them.
    wait_for_projections(&server.db).await;
    assert_read_models_equal_a_rebuild(&server.db).await;
}

#[tokio::test]
async fn the_doors_open_before_the_start_and_close_at_the_end() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let server = TestServer::start_configured(clock.clone(), |config| {
        config.settings.tickets.doors_open_minutes = 30;
    })
    .await;
    let api = &server.api;
    let staff = api.staff();
    let door = api.token("door-1", &[Role::Door]);
    let alice = api.customer("alice");
    // The fixture's show starts two hours after the clock's now and runs 173 minutes.
    let mut show_body = fixtures::show(2, 5);
    let starts_at = clock.now() + chrono::Duration::hours(2);
    show_body["starts_at"] = starts_at.to_rfc3339().into();
    show_body["ends_at"] = (starts_at + chrono::Duration::minutes(173))
        .to_rfc3339()
        .into();
    let show = api
        .schedule_show(&staff, &show_body)
        .await
        .created("show_id");
    let (order, position) = sold(api, &alice, &show, &["B1"], 4_500).await;
    let qr = qr_by_seat(&tickets(api, &alice, &order, &position).await);

    let early = api.check_in_qr(&door, &show, &qr["B1"], "north").await;
    let problem = early.expect_problem(StatusCode::CONFLICT, "check_in_not_open");
    let opens_at: chrono::DateTime<chrono::Utc> =
        problem["opens_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(opens_at, starts_at - chrono::Duration::minutes(30));

    clock.advance(chrono::Duration::minutes(173 + 120));
    api.check_in_qr(&door, &show, &qr["B1"], "north")
        .await
        .expect_problem(StatusCode::CONFLICT, "show_ended");
}

#[tokio::test]
async fn the_staff_desk_finds_an_order_by_pickup_code_customer_show_or_payment_and_acts_on_it() {
    let server = doors_open_server().await;
    let api = &server.api;
    let staff = api.staff();
    let (alice, bob) = (api.customer("alice"), api.customer("bob"));
    let show = api
        .schedule_show(&staff, &fixtures::show(2, 5))
        .await
        .created("show_id");
    let (order, position) = sold(api, &alice, &show, &["B1", "B2"], 9_000).await;
    let (bobs, last) = sold(api, &bob, &show, &["B3"], 4_500).await;
    let code = tickets(api, &alice, &order, &position).await["pickup_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let order_ids = |reply: &boxoffice_tests::reply::Reply| -> Vec<String> {
        reply.expect_ok()["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_code = api
        .find_orders(&staff, "pickup_code", &code)
        .min_position(&last)
        .await;
    assert_eq!(order_ids(&by_code), [order.as_str()]);
    assert_eq!(
        by_code.body["orders"][0]["seats"],
        serde_json::json!(["B1", "B2"])
    );
    let by_customer = api
        .find_orders(&staff, "customer", "bob")
        .min_position(&last)
        .await;
    assert_eq!(order_ids(&by_customer), [bobs.as_str()]);
    let by_show = api
        .find_orders(&staff, "show_id", &show)
        .min_position(&last)
        .await;
    assert_eq!(order_ids(&by_show), [bobs.as_str(), order.as_str()]);
    let one_page = api
        .find_orders(&staff, "show_id", &show)
        .query("limit", 1)
        .min_position(&last)
        .await;
    assert_eq!(order_ids(&one_page), [bobs.as_str()]);
    let rest = api
        .find_orders(&staff, "show_id", &show)
        .query("cursor", one_page.text("next_cursor"))
        .await;
    assert_eq!(order_ids(&rest), [order.as_str()]);
    assert!(rest.body["next_cursor"].is_null());
    api.find_orders(&staff, "pickup_code", "0000000000")
        .await
        .expect_ok();
    // Not for customers; a filter is needed.
    api.find_orders(&alice, "customer", "alice")
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
    api.request(reqwest::Method::GET, "/v1/orders")
        .token(&staff)
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // What was found is acted on with the customer's routes and a staff token: the staff
    // refund is recorded as the staff's.
    let refunded = api.refund_seats(&staff, &show, &order, &["B2"]).await;
    refunded.expect_created();
    let actions = api
        .audit_actions(&api.auditor())
        .query("actor", "box-office-1")
        .query("command", "RefundOrder")
        .min_position(refunded.position())
        .await;
    assert_eq!(actions.expect_ok()["actions"].as_array().unwrap().len(), 1);
    let found = api
        .find_orders(&staff, "customer", "alice")
        .min_position(refunded.position())
        .await;
    assert_eq!(found.body["orders"][0]["status"], "partially_refunded");
}
