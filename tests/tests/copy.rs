//! `boxoffice events copy`: a whole log into another, event ids, order and stream versions
//! kept, resumable after an interruption. PostgreSQL to PostgreSQL here (the EventStoreDB
//! adapter is the same port).

use boxoffice_eventstore::copy::{copy_log, CopyError, CopyReport};
use boxoffice_eventstore::postgres::{self, PgEventLog, MIGRATIONS};
use boxoffice_eventstore::{
    migrations, EventLog, ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent,
};
use boxoffice_tests::server::BinaryServer;
use boxoffice_tests::wait::eventually;
use boxoffice_tests::TestDatabase;
use uuid::Uuid;

async fn log(db: &TestDatabase) -> PgEventLog {
    let mut client = db.client().await;
    migrations::apply(&mut client, "eventstore", MIGRATIONS)
        .await
        .expect("migrate");
    PgEventLog::new(postgres::pool(&db.config(), 8), &db.config())
}

fn event(stream: usize, n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: if n.is_multiple_of(2) {
            "SeatsHeld"
        } else {
            "HoldReleased"
        }
        .into(),
        schema_version: 1 + (n % 2) as i32,
        data: serde_json::json!({ "stream": stream, "n": n, "seat": "贵宾F7" }),
        metadata: Metadata {
            correlation_id: Some(format!("req-{stream}-{n}")),
            actor: Some("alice".into()),
            idempotency_key: Some(format!("k-{n}")),
            ..Metadata::default()
        },
        recorded_at: None,
    }
}

/// 2,500 events (or a few more) over 7 streams, interleaved in runs of 1 to 4 events;
/// returns how many.
async fn fill(log: &PgEventLog) -> usize {
    let mut versions = [None::<u64>; 7];
    let mut written = 0;
    let mut turn = 0;
    while written < 2_500 {
        let s = (turn * 3) % 7;
        let run = 1 + turn % 4;
        let events = (0..run).map(|i| event(s, written + i)).collect();
        let stream = format!("show-{}", Uuid::from_u128(s as u128 + 1));
        let appended = log
            .append(&stream, ExpectedVersion::after(versions[s]), events)
            .await
            .expect("append");
        versions[s] = Some(appended.last_version);
        written += run;
        turn += 1;
    }
    written
}

async fn read_everything(log: &dyn EventLog) -> Vec<RecordedEvent> {
    let (mut all, mut after) = (Vec::new(), Position::START);
    loop {
        let page = log.read_all(after, 1000).await.expect("read");
        let Some(last) = page.last() else {
            return all;
        };
        after = last.position;
        all.extend(page);
    }
}

/// The whole log once its `n` events show in reads (on PostgreSQL an event is read only
/// when every older transaction in the cluster has ended, and other tests run beside this).
async fn everything(log: &dyn EventLog, n: usize) -> Vec<RecordedEvent> {
    let what = format!("{n} events can be read");
    eventually(&what, async || {
        let all = read_everything(log).await;
        if all.len() >= n {
            Ok(all)
        } else {
            Err(format!("{} events", all.len()))
        }
    })
    .await
}

/// What a copy must keep of each event: all but its position, which is the target's own.
/// Keeping the recorded time keeps the hash chain: the copy's hashes are the original's.
type Kept = (
    String,
    u64,
    Uuid,
    String,
    i32,
    serde_json::Value,
    Metadata,
    chrono::DateTime<chrono::Utc>,
    Option<boxoffice_eventstore::EventHash>,
);

fn kept(events: &[RecordedEvent]) -> Vec<Kept> {
    events
        .iter()
        .map(|e| {
            (
                e.stream.clone(),
                e.version,
                e.event_id,
                e.event_type.clone(),
                e.schema_version,
                e.data.clone(),
                e.metadata.clone(),
                e.recorded_at,
                e.hash,
            )
        })
        .collect()
}

/// Same events, same order, same versions (a short message when not).
fn same(copied: &[RecordedEvent], original: &[RecordedEvent]) {
    assert_eq!(copied.len(), original.len(), "as many events");
    let (a, b) = (kept(copied), kept(original));
    if let Some(at) = (0..a.len()).find(|&i| a[i] != b[i]) {
        panic!("event {at} differs: {:?} vs {:?}", a[at], b[at]);
    }
}

#[tokio::test]
async fn a_copy_keeps_ids_order_and_versions_and_resumes_where_it_stopped() {
    let (source_db, target_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let (source, target) = (log(&source_db).await, log(&target_db).await);
    let n = fill(&source).await;
    let original = everything(&source, n).await;
    assert_eq!(original.len(), n);

    // Interrupted after 1,234 events (mid-page, mid-run of a stream)...
    let first = copy_log(&source, &target, Some(1_234), |_| {})
        .await
        .expect("copy");
    assert_eq!(
        first,
        CopyReport {
            already_there: 0,
            copied: 1_234
        }
    );
    same(&everything(&target, 1_234).await, &original[..1_234]);
    // ...then run again: it goes on after the last event the target has.
    let mut progress = Vec::new();
    let second = copy_log(&source, &target, None, |r| progress.push(r))
        .await
        .expect("copy");
    assert_eq!(second.already_there, 1_234);
    assert_eq!(second.copied as usize, original.len() - 1_234);
    assert!(!progress.is_empty(), "progress is reported page by page");
    let copied = everything(&target, n).await;
    assert_eq!(
        kept(&copied),
        kept(&original),
        "same events, same order, same versions"
    );
    // Each stream reads back the same, version by version.
    let stream = original[0].stream.clone();
    let a = source.read_stream(&stream, 0, 10_000).await.unwrap();
    let b = target.read_stream(&stream, 0, 10_000).await.unwrap();
    same(&a, &b);
    // Nothing left to do.
    let third = copy_log(&source, &target, None, |_| {})
        .await
        .expect("copy");
    assert_eq!(
        third,
        CopyReport {
            already_there: original.len() as u64,
            copied: 0
        }
    );
    // New events in the source are copied by the next run.
    source
        .append(
            &stream,
            ExpectedVersion::Exact(a.last().unwrap().version),
            vec![event(0, 9_999)],
        )
        .await
        .unwrap();
    everything(&source, n + 1).await;
    let fourth = copy_log(&source, &target, None, |_| {})
        .await
        .expect("copy");
    assert_eq!(fourth.copied, 1);
}

#[tokio::test]
async fn a_target_that_is_not_a_copy_of_the_source_is_refused() {
    let (source_db, target_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let (source, target) = (log(&source_db).await, log(&target_db).await);
    fill(&source).await;
    target
        .append("show-other", ExpectedVersion::NoStream, vec![event(0, 0)])
        .await
        .unwrap();
    // Readable in the target's log order first (a transaction of another test anywhere in
    // the cluster can hold it back for a moment).
    everything(&target, 1).await;
    let refused = copy_log(&source, &target, None, |_| {}).await;
    assert!(
        matches!(refused, Err(CopyError::NotAPrefix(_))),
        "{refused:?}"
    );
    assert_eq!(everything(&target, 1).await.len(), 1, "nothing was written");
}

/// `boxoffice events copy --from {from} --to {to} {extra}`, run to its end.
fn cli_copy(from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(BinaryServer::binary())
        .args(["events", "copy", "--from", from, "--to", to])
        .args(extra)
        .env_remove("EVENTSTORE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("boxoffice runs")
}

#[tokio::test]
async fn the_cli_copies_a_log_between_databases() {
    let (source_db, target_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let source = log(&source_db).await;
    let n = fill(&source).await;
    let run = |extra: &[&str]| cli_copy(&source_db.url, &target_db.url, extra);
    let partial = run(&["--limit", "700"]);
    assert!(partial.status.success(), "{partial:?}");
    assert!(String::from_utf8_lossy(&partial.stdout)
        .contains("700 events copied, 0 were there already"));
    let rest = run(&[]);
    assert!(rest.status.success(), "{rest:?}");
    let said = String::from_utf8_lossy(&rest.stdout);
    assert!(
        said.contains("were there already") && said.contains("700 were there"),
        "{said}"
    );
    let target = log(&target_db).await;
    same(&everything(&target, n).await, &everything(&source, n).await);
    let to_itself = cli_copy(&source_db.url, &source_db.url, &[]);
    assert!(!to_itself.status.success());
}
