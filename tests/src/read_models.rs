//! The read models against the log they are folded from: waiting until the projectors have
//! caught up, rebuilding them from the log, and comparing the live tables with a rebuild.
//!
//! A read model that differs from a rebuild of the same log has lost, doubled or misfolded
//! an event; `boxoffice projections verify` says so, table by table and row by row.

use crate::wait::{eventually, PATIENCE};
use crate::TestDatabase;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

/// Rebuilds every read model from the log in this process, as `boxoffice projections
/// rebuild` does; how many events each projector folded.
pub async fn rebuild(db: &TestDatabase) -> Vec<(&'static str, u64)> {
    let pool = boxoffice_eventstore::postgres::pool(&db.config(), 4);
    let log = boxoffice_eventstore::postgres::PgEventLog::new(pool.clone(), &db.config());
    boxoffice_projections::rebuild(&log, &pool, &boxoffice_projections::all(), |_| {})
        .await
        .expect("rebuild the read models")
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

/// `boxoffice projections {action}` on `db`, ready to run without blocking the test's
/// runtime (an in-process server may share it).
pub fn projections(db: &TestDatabase, action: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(crate::server::BinaryServer::binary());
    command
        .args(["projections", action])
        .env("DATABASE_URL", &db.url)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn");
    command
}

/// `boxoffice projections verify` with `extra` arguments on `db`: every read model rebuilt
/// from the log at its live checkpoint and compared row by row.
pub async fn projections_verify(db: &TestDatabase, extra: &[&str]) -> std::process::Output {
    projections(db, "verify")
        .args(extra)
        .output()
        .await
        .expect("boxoffice projections verify runs")
}

/// Asserts that the read models as the live projectors left them equal a rebuild from the
/// log, row by row ([`projections_verify`] exits 0). Call it once the projectors have caught
/// up ([`wait_for_projections`]); the live models are left as they are.
pub async fn assert_read_models_equal_a_rebuild(db: &TestDatabase) {
    let verified = projections_verify(db, &[]).await;
    assert_eq!(
        verified.status.code(),
        Some(0),
        "the read models differ from a rebuild:\n{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
}

/// `boxoffice projections rebuild` running beside the test, its progress read as it comes.
pub struct RunningRebuild {
    /// The process (standard output piped, killed when dropped).
    pub child: Child,
    lines: Lines<BufReader<ChildStderr>>,
}

impl RunningRebuild {
    pub fn start(db: &TestDatabase) -> Self {
        let mut child = projections(db, "rebuild")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("boxoffice projections rebuild starts");
        let lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        Self { child, lines }
    }

    /// Waits until the rebuild says it gave up a try to swap `projector`'s read model in
    /// (its live tables were in use); fails if it ends first or says nothing of the kind
    /// within [`PATIENCE`].
    pub async fn gave_up_swapping(&mut self, projector: &str) {
        let prefix = format!("{projector}:");
        let lines = &mut self.lines;
        let waited = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.expect("the rebuild's output") {
                if line.starts_with(&prefix) && line.ends_with("trying again") {
                    return;
                }
            }
            panic!("the rebuild ended without waiting to swap {projector} in");
        });
        waited.await.expect("the rebuild waits to swap in");
    }
}

/// A transaction on `client` that keeps the read-model table `table` in use (as a long query
/// would) until it ends: a rebuild cannot swap that table in meanwhile.
pub async fn keeping_in_use<'a>(
    client: &'a mut tokio_postgres::Client,
    table: &str,
) -> tokio_postgres::Transaction<'a> {
    let reading = client.transaction().await.expect("begin");
    reading
        .batch_execute(&format!("LOCK TABLE {table} IN ACCESS SHARE MODE"))
        .await
        .expect("lock the table");
    reading
}
