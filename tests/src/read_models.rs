//! The read models against the log they are folded from: waiting until the projectors have
//! caught up, rebuilding them from the log, and comparing the live tables with a rebuild.
//!
//! A read model that differs from a rebuild of the same log has lost, doubled or misfolded
//! an event; these are the checks that say so, table by table and row by row.

use crate::wait::eventually;
use crate::TestDatabase;

/// Rebuilds every read model from the log in this process, as `boxoffice projections
/// rebuild` does; how many events each projector folded.
pub async fn rebuild(db: &TestDatabase) -> Vec<(&'static str, u64)> {
    let pool = boxoffice_eventstore::postgres::pool(&db.config(), 4);
    let log = boxoffice_eventstore::postgres::PgEventLog::new(pool.clone(), &db.config());
    boxoffice_projections::rebuild(&log, &pool, &boxoffice_projections::all())
        .await
        .expect("rebuild the read models")
}

/// The read-model tables, each as its rows in JSON, sorted.
pub async fn read_models(db: &TestDatabase) -> Vec<(String, Vec<String>)> {
    let client = db.client().await;
    let mut tables = Vec::new();
    let projectors = boxoffice_projections::all();
    let names = projectors.iter().flat_map(|p| p.tables().iter());
    for table in names {
        let rows = client
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY 1"),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        tables.push((table.to_string(), rows.iter().map(|r| r.get(0)).collect()));
    }
    tables
}

/// Waits until every projector's checkpoint has reached the newest event the log holds
/// (committed, whether or not its place is final yet: the test decides when the writing has
/// stopped).
pub async fn wait_for_projections(db: &TestDatabase) {
    let client = db.client().await;
    let newest = client
        .query_opt(
            "SELECT xid, position FROM events ORDER BY xid DESC, position DESC LIMIT 1",
            &[],
        )
        .await
        .expect("read the log")
        .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)));
    let Some(newest) = newest else { return };
    let what = format!("the projections reach the newest event {newest:?}");
    eventually(&what, async || {
        let behind: Vec<(String, i64, i64)> = client
            .query(
                "SELECT name, commit_position, prepare_position FROM projection_checkpoints
                 WHERE (commit_position, prepare_position) < ($1, $2)",
                &[&newest.0, &newest.1],
            )
            .await
            .expect("read the checkpoints")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if behind.is_empty() {
            Ok(())
        } else {
            Err(format!("behind: {behind:?}"))
        }
    })
    .await;
}

/// Asserts that the read models as the live projectors left them equal a fresh rebuild from
/// the log. Call it once the projectors have caught up ([`wait_for_projections`]) and the
/// server has stopped.
pub async fn assert_read_models_equal_a_rebuild(db: &TestDatabase) {
    let live = read_models(db).await;
    let status = std::process::Command::new(crate::server::BinaryServer::binary())
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", &db.url)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run boxoffice projections rebuild");
    assert!(status.success(), "projections rebuild failed");
    let rebuilt = read_models(db).await;
    for ((table, live_rows), (_, rebuilt_rows)) in live.iter().zip(&rebuilt) {
        let only_live: Vec<&String> = live_rows
            .iter()
            .filter(|r| !rebuilt_rows.contains(r))
            .collect();
        let only_rebuilt: Vec<&String> = rebuilt_rows
            .iter()
            .filter(|r| !live_rows.contains(r))
            .collect();
        assert_eq!(
            live_rows.len(),
            rebuilt_rows.len(),
            "{table}: live and rebuilt row counts differ; only live: {only_live:#?}; only rebuilt: {only_rebuilt:#?}"
        );
        assert_eq!(
            live_rows, rebuilt_rows,
            "{table}: live differs from rebuilt"
        );
    }
}
