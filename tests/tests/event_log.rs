//! The PostgreSQL event log against the port's contract, its ordering guarantee under
//! transactions that commit in reverse order (one stream's appends and group appends), and a whole-log walk's wait for the events
//! an older open transaction holds back.

use boxoffice_eventstore::postgres::{self, PgEventLog, MIGRATIONS};
use boxoffice_eventstore::{
    contract, migrations, readable, EventLog, ExpectedVersion, Metadata, NewEvent, Position,
    StreamAppend,
};
use boxoffice_tests::wait::PATIENCE;
use boxoffice_tests::TestDatabase;
use std::time::Duration;
use uuid::Uuid;

async fn log(db: &TestDatabase) -> PgEventLog {
    let mut client = db.client().await;
    migrations::apply(&mut client, "eventstore", MIGRATIONS)
        .await
        .expect("migrate");
    PgEventLog::new(postgres::pool(&db.config(), 16), &db.config())
}

fn event(label: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "Tested".into(),
        schema_version: 1,
        data: serde_json::json!({ "label": label }),
        metadata: Metadata::default(),
        recorded_at: None,
    }
}

#[tokio::test]
async fn postgres_log_passes_the_contract() {
    let db = TestDatabase::create().await;
    let log = log(&db).await;
    let checks = contract::run_all(&log).await;
    eprintln!(
        "event-log contract on PostgreSQL: {} checks passed",
        checks.len()
    );
}

/// Transaction A takes the lower sequence number but commits after B. A reader that paged by
/// sequence number would hand out B, move past A's number, and never see A. The subscriber
/// must see both exactly once, and the order it sees must be the order every later reader
/// sees.
#[tokio::test]
async fn a_subscriber_never_skips_an_append_that_commits_out_of_order() {
    let db = TestDatabase::create().await;
    let log = log(&db).await;
    let mut subscription = log.subscribe(Position::START).await.unwrap();

    let mut client_a = db.client().await;
    let mut client_b = db.client().await;
    let tx_a = client_a.transaction().await.unwrap();
    let a = PgEventLog::append_in(&tx_a, "show-a", ExpectedVersion::NoStream, vec![event("A")])
        .await
        .unwrap();
    let tx_b = client_b.transaction().await.unwrap();
    let b = PgEventLog::append_in(&tx_b, "show-b", ExpectedVersion::NoStream, vec![event("B")])
        .await
        .unwrap();
    assert!(
        a.position.prepare < b.position.prepare,
        "A must hold the lower sequence number for this test to mean anything"
    );
    tx_b.commit().await.unwrap();

    // B is committed, but A (older) is still open: handing out B now would let A land in
    // front of it later. Nothing may be delivered yet.
    let early = tokio::time::timeout(Duration::from_millis(500), subscription.next_batch(10)).await;
    assert!(early.is_err(), "delivered before A ended: {early:?}");
    assert_eq!(log.head().await.unwrap(), Position::START);

    tx_a.commit().await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let batch = tokio::time::timeout(PATIENCE, subscription.next_batch(10))
            .await
            .expect("both events in time")
            .unwrap();
        seen.extend(batch);
    }
    let labels: Vec<&str> = seen
        .iter()
        .map(|e| e.data["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["A", "B"], "transaction order, each exactly once");
    let nothing_more =
        tokio::time::timeout(Duration::from_millis(300), subscription.next_batch(10)).await;
    assert!(
        nothing_more.is_err(),
        "an event came twice: {nothing_more:?}"
    );

    // A fresh reader, from the start, sees the same order.
    let replay = log.read_all(Position::START, 10).await.unwrap();
    assert_eq!(
        replay.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        seen.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
}

/// A group append of many streams is one transaction (every batch's events share its
/// commit), and the ordering guarantee holds for it as for one stream's append: a group that
/// commits while an older append is still open is held back until that one ends, and then
/// read behind it, each event once, in the order every later reader sees.
#[tokio::test]
async fn a_group_append_is_one_commit_and_waits_behind_an_older_open_append() {
    let db = TestDatabase::create().await;
    let log = log(&db).await;
    let mut subscription = log.subscribe(Position::START).await.unwrap();

    let mut client_a = db.client().await;
    let tx_a = client_a.transaction().await.unwrap();
    let a = PgEventLog::append_in(&tx_a, "show-a", ExpectedVersion::NoStream, vec![event("A")])
        .await
        .unwrap();
    let group = ["show-b", "show-c", "show-d"]
        .into_iter()
        .map(|stream| StreamAppend {
            stream: stream.into(),
            expected: ExpectedVersion::NoStream,
            events: vec![event(stream), event(stream)],
        })
        .collect();
    let answers: Vec<_> = log
        .append_many(group)
        .await
        .into_iter()
        .map(|answer| answer.expect("each batch of the group goes in"))
        .collect();
    assert!(
        answers
            .iter()
            .all(|b| b.position.commit == answers[0].position.commit),
        "one commit for the whole group: {answers:?}"
    );
    assert!(answers[0].position.commit > a.position.commit);

    let early = tokio::time::timeout(Duration::from_millis(500), subscription.next_batch(10)).await;
    assert!(
        early.is_err(),
        "the group was delivered before A ended: {early:?}"
    );

    tx_a.commit().await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 7 {
        let batch = tokio::time::timeout(PATIENCE, subscription.next_batch(10))
            .await
            .expect("every event in time")
            .unwrap();
        seen.extend(batch);
    }
    let streams: Vec<&str> = seen.iter().map(|e| e.stream.as_str()).collect();
    assert_eq!(
        streams,
        ["show-a", "show-b", "show-b", "show-c", "show-c", "show-d", "show-d"],
        "A first, then the group in its order, each event once"
    );
    let replay = log.read_all(Position::START, 10).await.unwrap();
    assert_eq!(
        replay.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        seen.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
}

/// Any transaction open in the database server (here one that only took an id, as a
/// migration or a long query of another database would) holds the readable end of the log
/// back. An auditor's walk of the whole log must wait for it, not end early and take the
/// newest events for cut: `readable` returns only once they can be read.
#[tokio::test]
async fn a_walk_of_the_whole_log_waits_for_an_older_transaction_to_end() {
    let db = TestDatabase::create().await;
    let log = log(&db).await;
    let older = db.client().await;
    older.batch_execute("BEGIN").await.unwrap();
    older
        .query_one("SELECT pg_current_xact_id()", &[])
        .await
        .unwrap();
    let appended = log
        .append("show-a", ExpectedVersion::NoStream, vec![event("A")])
        .await
        .unwrap();
    assert_eq!(log.last_recorded().await.unwrap(), appended.position);
    assert!(log.read_all(Position::START, 10).await.unwrap().is_empty());

    let walk = tokio::spawn({
        let log = log.clone();
        async move { readable(&log).await }
    });
    // It cannot end while the older transaction is open, however long it is given.
    tokio::task::yield_now().await;
    assert!(
        !walk.is_finished(),
        "readable before the older transaction ended"
    );
    older.batch_execute("COMMIT").await.unwrap();
    let last = tokio::time::timeout(PATIENCE, walk)
        .await
        .expect("readable once the older transaction ended")
        .unwrap()
        .unwrap();
    assert_eq!(last, appended.position);
    let read = log.read_all(Position::START, 10).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].position, appended.position);
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let db = TestDatabase::create().await;
    let log = log(&db).await;
    log.append("s", ExpectedVersion::NoStream, vec![event("x")])
        .await
        .unwrap();
    let client = db.client().await;
    for sql in [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let error = client.batch_execute(sql).await.expect_err(sql);
        assert!(
            error.to_string().contains("append-only")
                || format!("{error:?}").contains("append-only"),
            "{sql}: {error:?}"
        );
    }
    assert_eq!(log.read_stream("s", 0, 10).await.unwrap().len(), 1);
}

/// A log written before the hash chain existed: migrating computes the chain over its events
/// as they are, new appends chain on from there, and the log still refuses every other change.
#[tokio::test]
async fn migrating_chains_a_log_written_before_the_chain_and_appends_chain_on() {
    let db = TestDatabase::create().await;
    let mut client = db.client().await;
    // The log as it was: the first schema step only, events written by plain INSERTs.
    migrations::apply(&mut client, "eventstore", &MIGRATIONS[..1])
        .await
        .expect("the first step");
    for (stream, versions) in [("show-old", 3i64), ("cinema-old", 2)] {
        client
            .execute(
                "INSERT INTO streams (stream, version) VALUES ($1, $2)",
                &[&stream, &(versions - 1)],
            )
            .await
            .unwrap();
        for version in 0..versions {
            client
                .execute(
                    "INSERT INTO events (stream, version, event_id, event_type, schema_version,
                        data, metadata)
                     VALUES ($1, $2, $3, 'Tested', 1, $4, '{\"actor\": \"old\"}')",
                    &[
                        &stream,
                        &version,
                        &Uuid::new_v4(),
                        &serde_json::json!({ "seat": format!("贵宾{version}"), "price": 45.5 }),
                    ],
                )
                .await
                .unwrap();
        }
    }
    drop(client);

    boxoffice_api::server::prepare_database(&db.url)
        .await
        .expect("migrated, the old events chained");
    let log = PgEventLog::new(postgres::pool(&db.config(), 4), &db.config());
    log.append("show-old", ExpectedVersion::Exact(2), vec![event("new")])
        .await
        .expect("an append after the old events");
    for (stream, length) in [("show-old", 4), ("cinema-old", 2)] {
        let events = log.read_stream(stream, 0, 100).await.unwrap();
        assert_eq!(events.len(), length);
        let mut previous = boxoffice_eventstore::EventHash::GENESIS;
        for event in &events {
            let hash = event.hash.expect("every event has its hash");
            assert_eq!(
                event.chained().hash(&previous),
                hash,
                "{stream} v{}",
                event.version
            );
            previous = hash;
        }
    }
    // Setting a missing hash once was the only change ever allowed.
    let client = db.client().await;
    let refused = client
        .execute(
            "UPDATE events SET data = '{}' WHERE stream = 'show-old' AND version = 0",
            &[],
        )
        .await;
    assert!(refused.is_err(), "the log is append-only");
    let rehashed = client
        .execute(
            "UPDATE events SET hash = '\\x00' WHERE stream = 'show-old' AND version = 0",
            &[],
        )
        .await;
    assert!(rehashed.is_err(), "a hash once set stays");

    // A hash removed afterwards (past the trigger, as a database administrator could) is not
    // computed again by the next append of a process that has not seen it (this one has, and
    // chains on from the hash it remembers): the append is refused and the hash stays
    // missing, for `audit verify-log` to report.
    let log = PgEventLog::new(postgres::pool(&db.config(), 4), &db.config());
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    client
        .execute(
            "UPDATE events SET hash = NULL WHERE stream = 'cinema-old' AND version = 1",
            &[],
        )
        .await
        .unwrap();
    let refused = log
        .append(
            "cinema-old",
            ExpectedVersion::Exact(1),
            vec![event("after")],
        )
        .await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("has no hash")),
        "{refused:?}"
    );
    let hash: Option<Vec<u8>> = client
        .query_one(
            "SELECT hash FROM events WHERE stream = 'cinema-old' AND version = 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(hash.is_none(), "the append chained over the removed hash");
}
