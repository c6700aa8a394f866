//! The EventStoreDB/KurrentDB adapter against a live server. No server can be installed
//! where Boxoffice is built, so these run only when `EVENTSTORE_URL` names one
//! (`scripts/test` then runs them with `--include-ignored`); otherwise the test harness
//! lists them as ignored, with the reason. See docs/eventstoredb.md.

use boxoffice_api::auth::Role;
use boxoffice_eventstore::contract;
use boxoffice_eventstore::esdb::EsdbEventLog;
use boxoffice_tests::server::TestServer;
use reqwest::StatusCode;
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
    let staff = api.token("box-office-1", &[Role::Staff]);
    let alice = api.token("alice", &[Role::Customer]);
    let show = api
        .post("/v1/shows", &staff, &boxoffice_tests::fixtures::show(2, 4))
        .await;
    assert_eq!(show.status, StatusCode::CREATED, "{show:?}");
    let show = show.body["show_id"].as_str().unwrap().to_owned();
    let held = api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &alice,
            &json!({"seats": ["B1", "B2"]}),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let hold = held.body["hold_id"].as_str().unwrap();
    let paid = api
        .post(
            &format!("/v1/shows/{show}/holds/{hold}/confirm"),
            &staff,
            &json!({"payment_reference": "p-1", "amount": held.body["total"]}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
    let at = paid.body["position"].as_str().unwrap();
    let map = api
        .get(&format!("/v1/shows/{show}/seats?min_position={at}"), None)
        .await;
    assert_eq!(map.status, StatusCode::OK, "{map:?}");
    assert_eq!(map.body["counts"]["sold"], 2);
    let orders = api
        .get(&format!("/v1/me/orders?min_position={at}"), Some(&alice))
        .await;
    assert_eq!(orders.body["orders"][0]["seats"], json!(["B1", "B2"]));
}
