//! The event-log contract: what every adapter must do, written against the port only.
//!
//! Adapters run [`run_all`] from their integration tests (the PostgreSQL adapter always, the
//! EventStoreDB adapter when a server is given). Every check uses fresh stream names, so the
//! suite can run against a log that already holds other events. A failed check panics with
//! what was expected.

use crate::{
    EventHash, EventLog, EventLogError, ExpectedVersion, Metadata, NewEvent, Position, StreamAppend,
};
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

/// Runs every check in turn and returns their names.
pub async fn run_all(log: &dyn EventLog) -> Vec<&'static str> {
    appends_and_reads_back_in_order(log).await;
    guards_the_expected_version(log).await;
    concurrent_appends_with_one_expectation_let_exactly_one_win(log).await;
    a_retried_batch_is_recognised_not_doubled(log).await;
    reads_a_stream_from_a_version_and_a_missing_stream_as_empty(log).await;
    rejects_an_empty_append(log).await;
    subscription_catches_up_then_follows_live(log).await;
    read_all_pages_without_gaps_or_repeats(log).await;
    knows_which_positions_it_handed_out(log).await;
    chains_each_stream_with_hashes_and_keeps_a_copied_time(log).await;
    tells_how_far_a_reader_is_behind(log).await;
    a_group_append_fails_only_the_batch_that_conflicts(log).await;
    a_group_of_many_streams_goes_in_whole_and_chained(log).await;
    a_retried_batch_in_a_group_fails_only_itself(log).await;
    concurrent_groups_over_the_same_streams_never_double_a_version(log).await;
    turns_let_one_writer_at_a_time_read_and_append(log).await;
    vec![
        "appends_and_reads_back_in_order",
        "guards_the_expected_version",
        "concurrent_appends_with_one_expectation_let_exactly_one_win",
        "a_retried_batch_is_recognised_not_doubled",
        "reads_a_stream_from_a_version_and_a_missing_stream_as_empty",
        "rejects_an_empty_append",
        "subscription_catches_up_then_follows_live",
        "read_all_pages_without_gaps_or_repeats",
        "knows_which_positions_it_handed_out",
        "chains_each_stream_with_hashes_and_keeps_a_copied_time",
        "tells_how_far_a_reader_is_behind",
        "a_group_append_fails_only_the_batch_that_conflicts",
        "a_group_of_many_streams_goes_in_whole_and_chained",
        "a_retried_batch_in_a_group_fails_only_itself",
        "concurrent_groups_over_the_same_streams_never_double_a_version",
        "turns_let_one_writer_at_a_time_read_and_append",
    ]
}

fn stream() -> String {
    format!("contract-{}", Uuid::new_v4())
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "ContractTested".into(),
        schema_version: 1,
        data: serde_json::json!({ "n": n, "label": "贵宾席 F7" }),
        metadata: Metadata {
            correlation_id: Some(format!("req-{n}")),
            causation_id: Some("cause".into()),
            actor: Some("contract".into()),
            idempotency_key: Some(format!("key-{n}")),
            ..Metadata::default()
        },
        recorded_at: None,
    }
}

async fn appends_and_reads_back_in_order(log: &dyn EventLog) {
    let s = stream();
    let events: Vec<NewEvent> = (0..3).map(event).collect();
    let result = log
        .append(&s, ExpectedVersion::NoStream, events.clone())
        .await
        .expect("append to a new stream");
    assert_eq!(result.last_version, 2);
    let read = log.read_stream(&s, 0, 100).await.expect("read back");
    assert_eq!(read.len(), 3);
    for (i, (written, stored)) in events.iter().zip(&read).enumerate() {
        assert_eq!(stored.stream, s);
        assert_eq!(stored.version, i as u64);
        assert_eq!(stored.event_id, written.event_id);
        assert_eq!(stored.event_type, written.event_type);
        assert_eq!(stored.schema_version, 1);
        assert_eq!(stored.data, written.data);
        assert_eq!(stored.metadata, written.metadata);
    }
    assert_eq!(read[2].position, result.position);
    assert!(read[0].position < read[1].position && read[1].position < read[2].position);
}

async fn knows_which_positions_it_handed_out(log: &dyn EventLog) {
    let s = stream();
    let result = log
        .append(&s, ExpectedVersion::NoStream, vec![event(0), event(1)])
        .await
        .expect("append");
    assert!(log.is_recorded(result.position).await.expect("is_recorded"));
    let read = log.read_stream(&s, 0, 10).await.expect("read back");
    assert!(log
        .is_recorded(read[0].position)
        .await
        .expect("is_recorded"));
    let beyond = Position::new(result.position.commit + 1_000_000, result.position.prepare);
    assert!(!log.is_recorded(beyond).await.expect("is_recorded"));
    assert!(!log
        .is_recorded(Position::new(u64::MAX, u64::MAX))
        .await
        .expect("is_recorded"));
}

async fn guards_the_expected_version(log: &dyn EventLog) {
    let s = stream();
    log.append(&s, ExpectedVersion::NoStream, vec![event(0)])
        .await
        .expect("first append");
    for wrong in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(7),
    ] {
        match log.append(&s, wrong, vec![event(1)]).await {
            Err(EventLogError::WrongExpectedVersion { stream, actual, .. }) => {
                assert_eq!(stream, s);
                assert_eq!(actual, ExpectedVersion::Exact(0));
            }
            other => panic!("expecting {wrong} must conflict, got {other:?}"),
        }
    }
    match log
        .append(&stream(), ExpectedVersion::Exact(0), vec![event(1)])
        .await
    {
        Err(EventLogError::WrongExpectedVersion { actual, .. }) => {
            assert_eq!(actual, ExpectedVersion::NoStream)
        }
        other => panic!("a missing stream is not at version 0, got {other:?}"),
    }
    let appended = log
        .append(&s, ExpectedVersion::Exact(0), vec![event(1), event(2)])
        .await
        .expect("append at the right version");
    assert_eq!(appended.last_version, 2);
    let any = log
        .append(&s, ExpectedVersion::Any, vec![event(3)])
        .await
        .expect("append at any version");
    assert_eq!(any.last_version, 3);
    assert_eq!(log.read_stream(&s, 0, 100).await.unwrap().len(), 4);
}

async fn concurrent_appends_with_one_expectation_let_exactly_one_win(log: &dyn EventLog) {
    let s = stream();
    log.append(&s, ExpectedVersion::NoStream, vec![event(0)])
        .await
        .expect("first append");
    let attempts = (0..8).map(|n| log.append(&s, ExpectedVersion::Exact(0), vec![event(n)]));
    let results = futures_util::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(EventLogError::WrongExpectedVersion { .. })))
        .count();
    assert_eq!((won, conflicts), (1, 7), "{results:?}");
    assert_eq!(log.read_stream(&s, 0, 100).await.unwrap().len(), 2);
}

async fn a_retried_batch_is_recognised_not_doubled(log: &dyn EventLog) {
    let s = stream();
    let batch = vec![event(0), event(1)];
    log.append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("first append");
    match log.append(&s, ExpectedVersion::Any, batch.clone()).await {
        Err(EventLogError::DuplicateEvent(id)) => assert_eq!(id, batch[0].event_id),
        other => panic!("the same event ids twice must be refused, got {other:?}"),
    }
    assert_eq!(log.read_stream(&s, 0, 100).await.unwrap().len(), 2);
}

async fn reads_a_stream_from_a_version_and_a_missing_stream_as_empty(log: &dyn EventLog) {
    let s = stream();
    log.append(&s, ExpectedVersion::NoStream, (0..5).map(event).collect())
        .await
        .expect("append");
    let tail = log.read_stream(&s, 3, 100).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let page = log.read_stream(&s, 1, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(log.read_stream(&stream(), 0, 100).await.unwrap().is_empty());
}

async fn rejects_an_empty_append(log: &dyn EventLog) {
    let s = stream();
    assert!(matches!(
        log.append(&s, ExpectedVersion::NoStream, vec![]).await,
        Err(EventLogError::EmptyAppend)
    ));
    assert!(log.read_stream(&s, 0, 10).await.unwrap().is_empty());
}

async fn subscription_catches_up_then_follows_live(log: &dyn EventLog) {
    let s = stream();
    let start = log.head().await.expect("head");
    log.append(&s, ExpectedVersion::NoStream, vec![event(0), event(1)])
        .await
        .expect("append before subscribing");
    let mut subscription = log.subscribe(start).await.expect("subscribe");
    let mut seen = Vec::new();
    let mut ids = HashSet::new();
    let mine = |seen: &Vec<crate::RecordedEvent>| seen.iter().filter(|e| e.stream == s).count();
    while mine(&seen) < 2 {
        let batch = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch(100))
            .await
            .expect("catch-up within 10 s")
            .expect("batch");
        seen.extend(batch);
    }
    let live = {
        let s = s.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            log.append(&s, ExpectedVersion::Exact(1), vec![event(2)])
                .await
        }
    };
    let follow = async {
        while mine(&seen) < 3 {
            let batch = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch(100))
                .await
                .expect("a live event within 10 s")
                .expect("batch");
            seen.extend(batch);
        }
    };
    let (appended, ()) = tokio::join!(live, follow);
    appended.expect("live append");
    let positions: Vec<Position> = seen.iter().map(|e| e.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(
        seen.iter().all(|e| ids.insert(e.event_id)),
        "an event came twice"
    );
    let versions: Vec<u64> = seen
        .iter()
        .filter(|e| e.stream == s)
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, vec![0, 1, 2]);
}

async fn read_all_pages_without_gaps_or_repeats(log: &dyn EventLog) {
    let start = log.head().await.expect("head");
    let streams: Vec<String> = (0..3).map(|_| stream()).collect();
    let mut newest = start;
    for round in 0..3 {
        for s in &streams {
            newest = log
                .append(
                    s,
                    ExpectedVersion::Any,
                    vec![event(round), event(round + 10)],
                )
                .await
                .expect("append")
                .position;
        }
    }
    // An event is handed out once its place is final, which may take a moment after its
    // append returns (PostgreSQL: until older transactions anywhere on the server end).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while log.head().await.expect("head") < newest {
        assert!(
            std::time::Instant::now() < deadline,
            "the appends never became final"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut after = start;
    let mut mine = Vec::new();
    loop {
        let page = log.read_all(after, 4).await.expect("read_all");
        let Some(last) = page.last() else { break };
        assert!(page.first().unwrap().position > after);
        after = last.position;
        mine.extend(page.into_iter().filter(|e| streams.contains(&e.stream)));
    }
    assert_eq!(mine.len(), 18);
    let unique: HashSet<Uuid> = mine.iter().map(|e| e.event_id).collect();
    assert_eq!(unique.len(), 18);
    for s in &streams {
        let versions: Vec<u64> = mine
            .iter()
            .filter(|e| &e.stream == s)
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, (0..6).collect::<Vec<_>>());
    }
    assert!(log.head().await.unwrap() >= after);
}

/// A reader behind the log learns so without reading the events between: at least one
/// event and the oldest one's recorded time; a reader at the head is exactly 0 behind.
async fn tells_how_far_a_reader_is_behind(log: &dyn EventLog) {
    let s = stream();
    let events: Vec<NewEvent> = (0..3).map(event).collect();
    let appended = log
        .append(&s, ExpectedVersion::NoStream, events)
        .await
        .expect("append");
    let head = crate::readable(log).await.expect("readable");
    assert!(head >= appended.position);
    let mine = log.read_stream(&s, 0, 3).await.expect("read_stream");
    let before_mine = log.lag(Position::START).await.expect("lag");
    assert!(before_mine.events >= 3, "{before_mine:?}");
    assert!(before_mine.oldest.is_some());
    // Read through the head, then a reader at the last of them is behind by nothing.
    let mut at = Position::START;
    loop {
        let page = log.read_all(at, 10_000).await.expect("read_all");
        let Some(last) = page.last() else { break };
        at = last.position;
    }
    assert_eq!(
        log.lag(at).await.expect("lag"),
        crate::Lag::default(),
        "a reader at the head"
    );
    // A reader just before this stream's events: behind by them, oldest first. Other
    // events may follow them (the suite may share a log), so at least two.
    let behind = log.lag(mine[0].position).await.expect("lag");
    assert!(behind.events >= 2, "{behind:?}");
    assert_eq!(behind.oldest, Some(mine[1].recorded_at), "{behind:?}");
}

/// Every event carries its hash, chained from 32 zero bytes along its stream over whatever
/// mix of appends made it (several at once, one expecting `Any`); an event given a recorded
/// time (a copy) keeps it, and its hash covers that time.
async fn chains_each_stream_with_hashes_and_keeps_a_copied_time(log: &dyn EventLog) {
    let s = stream();
    log.append(&s, ExpectedVersion::NoStream, (0..3).map(event).collect())
        .await
        .expect("first append");
    log.append(&s, ExpectedVersion::Exact(2), vec![event(3)])
        .await
        .expect("exact append");
    log.append(&s, ExpectedVersion::Any, vec![event(4), event(5)])
        .await
        .expect("any append");
    let stored = log.read_stream(&s, 0, 100).await.expect("read");
    assert_eq!(stored.len(), 6);
    let mut previous = EventHash::GENESIS;
    for event in &stored {
        let hash = event
            .hash
            .unwrap_or_else(|| panic!("v{} has no hash", event.version));
        assert_eq!(
            event.chained().hash(&previous),
            hash,
            "v{} does not chain to v{}",
            event.version,
            event.version.saturating_sub(1)
        );
        previous = hash;
    }

    let copy = stream();
    let copied: Vec<NewEvent> = stored
        .iter()
        .map(|e| NewEvent {
            event_id: Uuid::new_v4(),
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            data: e.data.clone(),
            metadata: e.metadata.clone(),
            recorded_at: Some(e.recorded_at),
        })
        .collect();
    log.append(&copy, ExpectedVersion::NoStream, copied)
        .await
        .expect("copy");
    let again = log.read_stream(&copy, 0, 100).await.expect("read copy");
    for (original, copied) in stored.iter().zip(&again) {
        assert_eq!(copied.recorded_at, original.recorded_at);
        let expected = copied.chained().hash(
            &again
                .get(copied.version.wrapping_sub(1) as usize)
                .and_then(|e| e.hash)
                .unwrap_or(EventHash::GENESIS),
        );
        assert_eq!(copied.hash, Some(expected));
    }
}

fn batch(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> StreamAppend {
    StreamAppend {
        stream: stream.to_owned(),
        expected,
        events,
    }
}

/// One group: a stream moving on, one whose batch expects a version it is not at, a new
/// stream, one expected new that exists, a stream named twice, an empty batch and one at
/// `Any`. Each is answered on its own, in order; only the right ones are written.
async fn a_group_append_fails_only_the_batch_that_conflicts(log: &dyn EventLog) {
    let (on, behind, new, exists, twice, empty, any) = (
        stream(),
        stream(),
        stream(),
        stream(),
        stream(),
        stream(),
        stream(),
    );
    for s in [&on, &behind, &exists, &any] {
        log.append(s, ExpectedVersion::NoStream, vec![event(0), event(1)])
            .await
            .expect("set up");
    }
    let answers = log
        .append_many(vec![
            batch(&on, ExpectedVersion::Exact(1), vec![event(2), event(3)]),
            batch(&behind, ExpectedVersion::Exact(0), vec![event(2)]),
            batch(&new, ExpectedVersion::NoStream, vec![event(0)]),
            batch(&exists, ExpectedVersion::NoStream, vec![event(2)]),
            batch(&twice, ExpectedVersion::NoStream, vec![event(0)]),
            batch(&twice, ExpectedVersion::Exact(0), vec![event(1)]),
            batch(&empty, ExpectedVersion::NoStream, vec![]),
            batch(&any, ExpectedVersion::Any, vec![event(2)]),
        ])
        .await;
    assert_eq!(answers.len(), 8, "{answers:?}");
    assert_eq!(answers[0].as_ref().expect("on").last_version, 3);
    match &answers[1] {
        Err(EventLogError::WrongExpectedVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, &behind);
            assert_eq!(*expected, ExpectedVersion::Exact(0));
            assert_eq!(*actual, ExpectedVersion::Exact(1));
        }
        other => panic!("a batch behind its stream must conflict, got {other:?}"),
    }
    assert_eq!(answers[2].as_ref().expect("new").last_version, 0);
    match &answers[3] {
        Err(EventLogError::WrongExpectedVersion { actual, .. }) => {
            assert_eq!(*actual, ExpectedVersion::Exact(1))
        }
        other => panic!("a stream that exists is not new, got {other:?}"),
    }
    assert_eq!(answers[4].as_ref().expect("first of twice").last_version, 0);
    assert!(
        matches!(answers[5], Err(EventLogError::Failed(_))),
        "a stream twice in one group: {:?}",
        answers[5]
    );
    assert!(matches!(answers[6], Err(EventLogError::EmptyAppend)));
    assert_eq!(answers[7].as_ref().expect("any").last_version, 2);
    for (s, len) in [
        (&on, 4),
        (&behind, 2),
        (&new, 1),
        (&exists, 2),
        (&twice, 1),
        (&empty, 0),
        (&any, 3),
    ] {
        assert_eq!(log.read_stream(s, 0, 100).await.unwrap().len(), len, "{s}");
    }
    // The positions handed back are where the batches' last events are.
    for answer in [&answers[0], &answers[2], &answers[7]] {
        let position = answer.as_ref().unwrap().position;
        assert!(log.is_recorded(position).await.unwrap(), "{position}");
    }
}

/// 300 streams, new and existing, in one group: every batch goes in whole, each stream's
/// hash chain runs on across the group, and a subscriber sees every event once.
async fn a_group_of_many_streams_goes_in_whole_and_chained(log: &dyn EventLog) {
    let after = log.head().await.expect("head");
    let streams: Vec<String> = (0..300).map(|_| stream()).collect();
    for s in streams.iter().step_by(2) {
        log.append(s, ExpectedVersion::NoStream, vec![event(0)])
            .await
            .expect("set up");
    }
    let group = streams
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let expected = if i % 2 == 0 {
                ExpectedVersion::Exact(0)
            } else {
                ExpectedVersion::NoStream
            };
            batch(s, expected, (1..=3).map(event).collect())
        })
        .collect();
    let answers = log.append_many(group).await;
    for (i, answer) in answers.iter().enumerate() {
        let expected_last = if i % 2 == 0 { 3 } else { 2 };
        assert_eq!(
            answer.as_ref().map(|a| a.last_version).ok(),
            Some(expected_last),
            "batch {i}: {answer:?}"
        );
    }
    for s in &streams {
        let stored = log.read_stream(s, 0, 100).await.expect("read");
        let mut previous = EventHash::GENESIS;
        for (version, e) in stored.iter().enumerate() {
            assert_eq!(e.version, version as u64);
            let hash = e.hash.expect("hash");
            assert_eq!(e.chained().hash(&previous), hash, "{s} v{version}");
            previous = hash;
        }
    }
    let mut subscription = log.subscribe(after).await.expect("subscribe");
    let mut seen = HashSet::new();
    let mine: HashSet<&str> = streams.iter().map(String::as_str).collect();
    let wanted = 150 + 300 * 3;
    while seen.len() < wanted {
        let batch = tokio::time::timeout(Duration::from_secs(60), subscription.next_batch(500))
            .await
            .expect("the subscriber sees every event of the group")
            .expect("next batch");
        for e in batch {
            if mine.contains(e.stream.as_str()) {
                assert!(seen.insert(e.event_id), "{} delivered twice", e.event_id);
            }
        }
    }
}

/// A batch whose events are already in the log (a retry whose first answer was lost) is
/// refused as a duplicate; the rest of its group goes in.
async fn a_retried_batch_in_a_group_fails_only_itself(log: &dyn EventLog) {
    let (first, other, more) = (stream(), stream(), stream());
    let written = vec![event(0)];
    log.append(&first, ExpectedVersion::NoStream, written.clone())
        .await
        .expect("first append");
    let answers = log
        .append_many(vec![
            batch(&other, ExpectedVersion::NoStream, written.clone()),
            batch(&more, ExpectedVersion::NoStream, vec![event(1)]),
        ])
        .await;
    match &answers[0] {
        Err(EventLogError::DuplicateEvent(id)) => assert_eq!(*id, written[0].event_id),
        other => panic!("events already in the log must be refused, got {other:?}"),
    }
    assert_eq!(answers[1].as_ref().expect("more").last_version, 0);
    assert!(log.read_stream(&other, 0, 10).await.unwrap().is_empty());
    assert_eq!(log.read_stream(&more, 0, 10).await.unwrap().len(), 1);
}

/// Eight groups at once over the same ten streams, each batch expecting the version it
/// was set up at, listed in a different order by each group: each stream takes exactly one
/// batch, and no group waits on another for ever.
async fn concurrent_groups_over_the_same_streams_never_double_a_version(log: &dyn EventLog) {
    let streams: Vec<String> = (0..10).map(|_| stream()).collect();
    for s in &streams {
        log.append(s, ExpectedVersion::NoStream, vec![event(0)])
            .await
            .expect("set up");
    }
    let groups = (0..8).map(|g| {
        let mut order: Vec<&String> = streams.iter().collect();
        order.rotate_left(g);
        if g % 2 == 1 {
            order.reverse();
        }
        let group = order
            .into_iter()
            .map(|s| batch(s, ExpectedVersion::Exact(0), vec![event(g as u64)]))
            .collect();
        log.append_many(group)
    });
    let answers = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(groups),
    )
    .await
    .expect("groups over the same streams must not wait on each other for ever");
    let won = answers.iter().flatten().filter(|a| a.is_ok()).count();
    assert_eq!(won, streams.len(), "{answers:?}");
    for answer in answers.iter().flatten() {
        assert!(
            matches!(
                answer,
                Ok(_) | Err(EventLogError::WrongExpectedVersion { .. })
            ),
            "{answer:?}"
        );
    }
    for s in &streams {
        assert_eq!(log.read_stream(s, 0, 10).await.unwrap().len(), 2, "{s}");
    }
}

/// A stream's turn is one writer's at a time: a second (and an append taking no turn) waits
/// until the first has appended, then reads what it appended; a turn given up writes nothing and lets the next one in; a
/// turn whose append conflicts writes nothing either. (A backend without turns skips this.)
async fn turns_let_one_writer_at_a_time_read_and_append(log: &dyn EventLog) {
    let s = stream();
    log.append(&s, ExpectedVersion::NoStream, vec![event(0)])
        .await
        .expect("set up");
    let Some(mut first) = log.turn(&s).await.expect("a turn") else {
        return;
    };
    assert_eq!(first.read_stream(0, 10).await.expect("read").len(), 1);
    let waiting = log.turn(&s);
    tokio::pin!(waiting);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "a second turn began while the first lasted"
    );
    // An append that takes no turn waits for the one taken, then finds the stream moved.
    let plain = log.append(&s, ExpectedVersion::Exact(0), vec![event(9)]);
    tokio::pin!(plain);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut plain)
            .await
            .is_err(),
        "an append went in while a turn lasted"
    );
    let appended = first
        .append(ExpectedVersion::Exact(0), vec![event(1)])
        .await
        .expect("the first turn appends");
    assert_eq!(appended.last_version, 1);
    let mut second = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the second turn begins once the first has appended")
        .expect("turn")
        .expect("the backend has turns");
    let tail = second.read_stream(1, 10).await.expect("read");
    assert_eq!(
        tail.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1],
        "the second turn reads what the first appended"
    );
    drop(second);
    match tokio::time::timeout(Duration::from_secs(60), plain)
        .await
        .expect("the append goes on once the turns are over")
    {
        Err(EventLogError::WrongExpectedVersion { actual, .. }) => {
            assert_eq!(actual, ExpectedVersion::Exact(1))
        }
        other => panic!("an append behind the turn's must conflict, got {other:?}"),
    }
    let third = tokio::time::timeout(Duration::from_secs(60), log.turn(&s))
        .await
        .expect("a turn given up lets the next one in")
        .expect("turn")
        .expect("the backend has turns");
    match third
        .append(ExpectedVersion::Exact(0), vec![event(2)])
        .await
    {
        Err(EventLogError::WrongExpectedVersion { actual, .. }) => {
            assert_eq!(actual, ExpectedVersion::Exact(1))
        }
        other => panic!("a turn appending behind its stream must conflict, got {other:?}"),
    }
    let fourth = tokio::time::timeout(Duration::from_secs(60), log.turn(&s))
        .await
        .expect("a turn that conflicted lets the next one in")
        .expect("turn")
        .expect("the backend has turns");
    fourth
        .append(ExpectedVersion::Exact(1), vec![event(3)])
        .await
        .expect("append in a turn");
    let stored = log.read_stream(&s, 0, 10).await.expect("read");
    assert_eq!(stored.len(), 3, "only the two turns that appended wrote");
    assert_eq!(stored[2].data["n"], 3);
}
