//! The EventStoreDB/KurrentDB adapter against a live server. No server can be installed
//! where Boxoffice is built, so these run only when `EVENTSTORE_URL` names one
//! (`scripts/test` then runs them with `--include-ignored`); otherwise the test harness
//! lists them as ignored, with the reason. See docs/eventstoredb.md.

use boxoffice_eventstore::contract;
use boxoffice_eventstore::esdb::EsdbEventLog;
use boxoffice_tests::server::TestServer;
use serde_json::json;
use std::sync::Arc;

fn url() -> String {
    std::env::var("EVENTSTORE_URL")
        .expect("EVENTSTORE_URL names the EventStoreDB/KurrentDB to test against")
}

#[tokio::test]
#[ignore = "needs a running EventStoreDB/KurrentDB: set EVENTSTORE_URL (docs/eventstoredb.md)"]
async fn eventstoredb_log_passes_the_contract() {
    // The contract writes `contract-...` streams: make them part of the log.
    let log = EsdbEventLog::connect(&url(), &["contract-"]).expect("a client");
    let checks = contract::run_all(&log).await;
    eprintln!(
        "event-log contract on EventStoreDB: {} checks passed",
        checks.len()
    );
}

#[tokio::test]
#[ignore = "needs a running EventStoreDB/KurrentDB: set EVENTSTORE_URL (docs/eventstoredb.md)"]
async fn the_api_sells_seats_with_the_log_in_eventstoredb() {
    let server =
        TestServer::start_configured(Arc::new(boxoffice_commands::SystemClock), |config| {
            config.event_store = Some(url())
        })
        .await;
    let api = &server.api;
    let staff = api.staff();
    let alice = api.customer("alice");
    let show = api
        .scheduled_show(&boxoffice_tests::fixtures::show(2, 4))
        .await;
    let held = api.hold_seats(&alice, &show, &["B1", "B2"]).await;
    let hold_id = held.created("hold_id");
    let paid = api
        .confirm_hold(&staff, &show, &hold_id, "p-1", &held.body["total"])
        .await;
    paid.expect_created();
    let map = api.seat_map(&show).min_position(paid.position()).await;
    assert_eq!(map.expect_ok()["counts"]["sold"], 2);
    let orders = api.my_orders(&alice).min_position(paid.position()).await;
    assert_eq!(orders.body["orders"][0]["seats"], json!(["B1", "B2"]));
}
