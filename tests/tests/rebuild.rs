//! `boxoffice projections rebuild` while a server serves a steady load of commands and
//! queries: the rebuilt read models are swapped in without a moment in which a query sees an
//! empty or half-built one, and afterwards every read model equals a fresh rebuild; held off
//! by a long reader, the swap waits for it and then misses nothing.

use boxoffice_tests::load::{check_log, Load};
use boxoffice_tests::read_models::{
    assert_read_models_equal_a_rebuild, keeping_in_use, projections, wait_for_projections,
    RunningRebuild,
};
use boxoffice_tests::server::{free_port, Api, BinaryServer};
use boxoffice_tests::{fixtures, TestDatabase};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

const ROWS: u8 = 10;
const PER_ROW: u32 = 20;
/// Seats sold before the rebuild and never given back.
const SOLD: [&str; 4] = ["A1", "A2", "A3", "A4"];
/// Rebuilds during which both commands and queries were answered.
const OVERLAPPING: usize = 3;

/// What was true before the rebuild and must stay true in every answer: a read model that
/// is missing, empty or half-built fails at least one of these.
#[derive(Clone)]
struct Before {
    api: Api,
    /// The show whose seats were sold; the show under load.
    sold_show: String,
    busy_show: String,
    buyer: String,
    order: String,
    staff: String,
    auditor: String,
}

impl Before {
    /// Every way in which an answer could show a read model missing what it had.
    async fn missing(&self) -> Vec<String> {
        let api = &self.api;
        let mut missing = Vec::new();
        let mut check = |what: &str, ok: bool, body: &Value| {
            if !ok {
                missing.push(format!("{what}: {body}"));
            }
        };
        let seats = api.seat_map(&self.sold_show).await;
        let sold =
            seats.status.is_success() && SOLD.iter().all(|s| seats.seat(s)["status"] == "sold");
        check("seat map (seat_map)", sold, &seats.body);
        for show in [&self.sold_show, &self.busy_show] {
            let page = api.show_page(show).await;
            check(
                "show page (catalogue)",
                page.status.is_success(),
                &page.body,
            );
        }
        let orders = api.my_orders(&self.buyer).await;
        let listed = orders.body["orders"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["order_id"] == self.order.as_str()));
        check("my orders (order_history)", listed, &orders.body);
        let tickets = api.order_tickets(&self.buyer, &self.order).await;
        let issued = tickets.body["tickets"]
            .as_array()
            .is_some_and(|t| t.len() == SOLD.len());
        check("tickets (tickets)", issued, &tickets.body);
        let sales = api
            .sales_report(&self.staff)
            .query("show_id", &self.sold_show)
            .await;
        let counted = sales.body["shows"][0]["tickets_sold"].as_u64() >= Some(SOLD.len() as u64);
        check("sales report (sales)", counted, &sales.body);
        let actions = api.audit_actions(&self.auditor).await;
        let recorded = actions.body["actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        check("audit actions (actions)", recorded, &actions.body);
        missing
    }
}

/// Readers asking again and again, recording any answer that misses what was there.
struct Readers {
    stop: Arc<AtomicBool>,
    asked: Arc<AtomicUsize>,
    missing: Arc<Mutex<Vec<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Readers {
    fn start(before: &Before, count: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(AtomicUsize::new(0));
        let missing = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..count)
            .map(|_| {
                let (before, stop) = (before.clone(), stop.clone());
                let (asked, missing) = (asked.clone(), missing.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let found = before.missing().await;
                        asked.fetch_add(1, Ordering::Relaxed);
                        missing.lock().unwrap().extend(found);
                    }
                })
            })
            .collect();
        Self {
            stop,
            asked,
            missing,
            tasks,
        }
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::Relaxed)
    }

    async fn stop(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("a reader");
        }
        let missing = self.missing.lock().unwrap().clone();
        (self.asked.load(Ordering::Relaxed), missing)
    }
}

/// Eight customers holding and letting go on `show`, and the box office selling their holds.
fn load_on(api: &Api, show: &str) -> Load {
    Load::customers_of(api, 8, show, ROWS, PER_ROW)
}

/// The live table's identity: a swap replaces it with another.
async fn table_oid(db: &TestDatabase, table: &str) -> u32 {
    db.client()
        .await
        .query_one("SELECT to_regclass($1)::oid", &[&table])
        .await
        .expect("look the table up")
        .get(0)
}

async fn projections_rebuild(db: &TestDatabase) -> std::process::Output {
    projections(db, "rebuild")
        .output()
        .await
        .expect("boxoffice projections rebuild runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_under_load_swaps_in_read_models_no_query_sees_missing() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = &server.api;
    let sold_show = api
        .scheduled_show(&fixtures::show(ROWS.into(), PER_ROW))
        .await;
    let busy_show = api
        .scheduled_show(&fixtures::show(ROWS.into(), PER_ROW))
        .await;
    let (buyer, staff) = (api.customer("regular"), api.staff());
    let held = api.hold_seats(&buyer, &sold_show, &SOLD).await;
    let hold = held.expect_created()["hold_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sold = api
        .confirm_hold(&staff, &sold_show, &hold, "till-1", &held.body["total"])
        .await;
    let order = sold.expect_created()["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_projections(&db).await;
    let before = Before {
        api: api.clone(),
        sold_show,
        busy_show: busy_show.clone(),
        buyer,
        order,
        staff: staff.clone(),
        auditor: api.auditor(),
    };
    let missing = before.missing().await;
    assert!(missing.is_empty(), "before any rebuild: {missing:#?}");

    let load = load_on(api, &busy_show);
    let readers = Readers::start(&before, 4);
    load.until_more_settled(20).await;

    // Rebuilt again and again, until commands and queries were both answered during three
    // rebuilds (on a slow machine a quick rebuild may fall between two answers).
    let (mut rebuilds, mut overlapped) = (0, 0);
    while overlapped < OVERLAPPING {
        let (asked, settled) = (readers.asked(), load.settled());
        let seats_table = table_oid(&db, "seat_map_seats").await;
        let rebuilt = projections_rebuild(&db).await;
        rebuilds += 1;
        assert_eq!(rebuilt.status.code(), Some(0), "{rebuilt:?}");
        let swapped = String::from_utf8_lossy(&rebuilt.stdout)
            .lines()
            .filter(|line| line.ends_with("and swapped in"))
            .count();
        assert_eq!(swapped, boxoffice_projections::all().len(), "{rebuilt:?}");
        assert_ne!(
            table_oid(&db, "seat_map_seats").await,
            seats_table,
            "the seat map's table was not swapped"
        );
        if readers.asked() > asked && load.settled() > settled {
            overlapped += 1;
        }
        assert!(
            rebuilds < 10 * OVERLAPPING,
            "commands and queries were answered during only {overlapped} of {rebuilds} rebuilds"
        );
    }
    load.until_more_settled(20).await;
    let attempts = load.stop().await;
    let (asked, missing) = readers.stop().await;
    assert!(
        missing.is_empty(),
        "{} of {asked} answers missed what the read models had: {:#?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let (successes, _) = check_log(&db, &attempts).await;
    wait_for_projections(&db).await;
    assert_read_models_equal_a_rebuild(&db).await;
    let left: Option<String> = db
        .client()
        .await
        .query_one("SELECT to_regnamespace('boxoffice_rebuild')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, None, "the rebuild's schema is left behind");
    println!(
        "{rebuilds} rebuilds ({overlapped} while commands and queries were answered): \
         {asked} rounds of queries saw nothing missing; {successes} commands succeeded"
    );
}

/// A reader keeps the live seat-map table in use while customers keep buying: the rebuild
/// tries to swap again and again (letting go each time, and catching up with the log between
/// tries), a second rebuild started meanwhile is refused, and once the reader ends the first
/// swaps in a model that misses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_held_off_by_a_long_reader_swaps_in_everything_once_it_ends() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = &server.api;
    let show = api
        .scheduled_show(&fixtures::show(ROWS.into(), PER_ROW))
        .await;
    let load = load_on(api, &show);
    load.until_more_settled(20).await;

    let mut reader = db.client().await;
    let reading = keeping_in_use(&mut reader, "seat_map_shows").await;
    let mut rebuild = RunningRebuild::start(&db);
    // Three tries given up, with commands answered (and applied live) between them.
    for _ in 0..3 {
        rebuild.gave_up_swapping("seat_map").await;
        load.until_more_settled(10).await;
    }
    // Meanwhile a second rebuild is refused: one at a time.
    let second = projections(&db, "rebuild").output().await.unwrap();
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another rebuild"),
        "{second:?}"
    );
    reading.commit().await.unwrap();
    let rebuilt = rebuild.child.wait_with_output().await.unwrap();
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let swapped = String::from_utf8_lossy(&rebuilt.stdout)
        .lines()
        .filter(|line| line.ends_with("and swapped in"))
        .count();
    assert_eq!(swapped, boxoffice_projections::all().len(), "{rebuilt:?}");
    load.until_more_settled(20).await;
    let attempts = load.stop().await;
    check_log(&db, &attempts).await;
    wait_for_projections(&db).await;
    assert_read_models_equal_a_rebuild(&db).await;
}

/// Shows whose seats together outnumber what the seat map writes in one statement (it
/// writes a batch's new seats a few thousand rows at a time) are projected whole, as the
/// live projector takes them and as a rebuild does, all in one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shows_with_more_seats_than_one_statement_writes_are_projected_whole() {
    let db = TestDatabase::create().await;
    let server = BinaryServer::start(&db, free_port()).await;
    let api = &server.api;
    let mut shows = Vec::new();
    for _ in 0..3 {
        shows.push(api.scheduled_show(&fixtures::show(20, 100)).await);
    }
    wait_for_projections(&db).await;
    let whole = async || {
        for show in &shows {
            let map = api.seat_map(show).await;
            assert_eq!(map.expect_ok()["counts"]["available"], 2000, "show {show}");
            assert_eq!(map.seat("T100")["status"], "available");
            assert_eq!(map.seat("A1")["category"], "premium");
        }
    };
    whole().await;
    let rebuilt = projections_rebuild(&db).await;
    assert_eq!(rebuilt.status.code(), Some(0), "{rebuilt:?}");
    whole().await;
    assert_read_models_equal_a_rebuild(&db).await;
}
