//! The auditors' promise: the log is evidence. Changing it with SQL — an event's data,
//! metadata or time, deleting one, swapping two, inserting one, cutting a tail after a seal,
//! forging a seal — is found by `boxoffice audit verify-log`, which names each broken
//! stream and the first version where it breaks; an untouched log passes.

use boxoffice_api::auth::Role;
use boxoffice_api::AuditSettings;
use boxoffice_audit::sealer::SealSchedule;
use boxoffice_commands::SystemClock;
use boxoffice_tests::fixtures;
use boxoffice_tests::server::{free_port, Api, BinaryServer, TestServer};
use boxoffice_tests::wait::eventually;
use boxoffice_tests::TestDatabase;
use serde_json::Value;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fixed signing key, so the test knows the public key an auditor would keep.
const SIGNING_KEY: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

async fn audited_server() -> TestServer {
    TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.audit = AuditSettings {
            signing_key: Some(SIGNING_KEY.into()),
            seals: SealSchedule {
                every_events: 1_000_000,
                every: Duration::from_millis(200),
            },
        };
    })
    .await
}

/// A show with a few holds and releases: `holds` pairs of events after its scheduling.
async fn show_with_history(api: &Api, staff: &str, holds: usize) -> (String, String) {
    let scheduled = api.schedule_show(staff, &fixtures::show(2, 5)).await;
    let show = scheduled.created("show_id");
    let mut position = scheduled.position().to_owned();
    for n in 0..holds {
        let held = api
            .hold_seats(staff, &show, &[format!("B{}", n % 5 + 1)])
            .await;
        let hold = held.created("hold_id");
        let released = api.release_hold(staff, &show, &hold).await;
        released.expect_ok();
        position = released.position().to_owned();
    }
    (show, position)
}

/// Waits until a seal covers `position` (the sealer seals 200 ms after new events).
async fn sealed_through(api: &Api, auditor: &str, position: &str) -> Value {
    let wanted: (u64, u64) = split(position);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seals = api.seals(auditor).await;
        seals.expect_ok();
        if let Some(last) = seals.body["seals"].as_array().and_then(|s| s.last()) {
            if split(last["through"].as_str().unwrap()) >= wanted {
                return last.clone();
            }
        }
        assert!(Instant::now() < deadline, "no seal reached {position}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn split(position: &str) -> (u64, u64) {
    let (commit, prepare) = position.split_once('-').unwrap();
    (commit.parse().unwrap(), prepare.parse().unwrap())
}

/// The `boxoffice` binary as an operator or auditor runs it: on `database_url` (none: no
/// database at all), the log in PostgreSQL, no signing key of its own, quiet logs.
fn boxoffice(database_url: Option<&str>) -> std::process::Command {
    let mut command = std::process::Command::new(BinaryServer::binary());
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command
        .env_remove("EVENTSTORE_URL")
        .env_remove("BOXOFFICE_AUDIT_SIGNING_KEY")
        .env("RUST_LOG", "warn");
    command
}

fn verify_log(database_url: &str, public_key: &str, extra: &[&str]) -> Output {
    boxoffice(Some(database_url))
        .args(["audit", "verify-log", "--public-key", public_key])
        .args(extra)
        .output()
        .expect("boxoffice runs")
}

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn verify_log_names_every_stream_changed_with_sql_and_its_first_bad_version() {
    let mut server = audited_server().await;
    let api = server.api.clone();
    let staff = api.token("box-office-1", &[Role::Staff]);
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let key = api.audit_public_key().await;
    key.expect_ok();
    assert_eq!(key.body["development"], false);
    let public_key = key.body["public_key"].as_str().unwrap().to_owned();

    // The show whose chain will be recomputed is sealed by a seal of its own, before the
    // others exist (the last seal, which covers them, is the one forged).
    let (first, position) = show_with_history(&api, &staff, 2).await;
    sealed_through(&api, &auditor, &position).await;
    let mut shows = Vec::new();
    let mut last = String::new();
    for _ in 0..7 {
        let (show, position) = show_with_history(&api, &staff, 2).await;
        shows.push(format!("show-{show}"));
        last = position;
    }
    shows.push(format!("show-{first}"));
    sealed_through(&api, &auditor, &last).await;
    let all_seals = api.seals(&auditor).await;
    // One more show, sealed last: that seal is the one an auditor keeps, and the one forged.
    let (_, position) = show_with_history(&api, &staff, 1).await;
    let seal = sealed_through(&api, &auditor, &position).await;
    server.stop().await;
    let url = server.db.url.clone();

    let intact = verify_log(&url, &public_key, &[]);
    assert_eq!(intact.status.code(), Some(0), "{intact:?}");
    assert!(lines(&intact).is_empty(), "{intact:?}");

    // The log moved to another database, seals and all: the seals name positions of the
    // log they were made on, so where events sit is not checked (and the tool says so);
    // the chains and the heads still are.
    let moved = TestDatabase::create().await;
    let migrated = migrate(&moved.url);
    assert!(migrated.status.success(), "{migrated:?}");
    let copied = boxoffice(None)
        .args(["events", "copy", "--from", &url, "--to", &moved.url])
        .output()
        .expect("boxoffice events copy runs");
    assert!(copied.status.success(), "{copied:?}");
    let on_the_copy = verify_log(&moved.url, &public_key, &[]);
    assert_eq!(on_the_copy.status.code(), Some(0), "{on_the_copy:?}");
    assert!(
        String::from_utf8_lossy(&on_the_copy.stderr).contains("made on another log"),
        "{on_the_copy:?}"
    );
    let one_stream = verify_log(&moved.url, &public_key, &["--stream", &shows[0]]);
    assert_eq!(one_stream.status.code(), Some(0), "{one_stream:?}");
    drop(moved);

    // Tamper as a database administrator would: triggers off.
    let db = server.db.client().await;
    db.batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    let [edited, metadata, deleted, swapped, inserted, cut, timed, rechained] =
        <[String; 8]>::try_from(shows.clone()).unwrap();
    // A whole stream slipped in among the sealed events (a copy of a show under a new name,
    // each event right after its original in the log), its chain computed as the guide
    // says: every hash holds, and no seal names it.
    let slipped_in = format!("show-{}", uuid::Uuid::new_v4());
    db.execute(
        "INSERT INTO events (xid, position, stream, version, event_id, event_type,
            schema_version, data, metadata, recorded_at, hash)
         OVERRIDING SYSTEM VALUE
         SELECT xid, position + 1000000, $2, version, gen_random_uuid(), event_type,
            schema_version, data, metadata, recorded_at, hash
         FROM events WHERE stream = $1",
        &[&edited, &slipped_in],
    )
    .await
    .unwrap();
    rechain(&db, &slipped_in, 0).await;
    db.execute(
        "UPDATE events SET data = jsonb_set(data, '{seats,0}', '\"B5\"') WHERE stream = $1 AND version = 1",
        &[&edited],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE events SET metadata = jsonb_set(metadata, '{actor}', '\"someone-else\"') WHERE stream = $1 AND version = 2",
        &[&metadata],
    )
    .await
    .unwrap();
    db.execute(
        "DELETE FROM events WHERE stream = $1 AND version = 2",
        &[&deleted],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE events e SET data = o.data, event_type = o.event_type
         FROM events o
         WHERE e.stream = $1 AND o.stream = $1 AND e.version + o.version = 3 AND e.version IN (1, 2)",
        &[&swapped],
    )
    .await
    .unwrap();
    // Insert an event at version 1: the later ones move up one.
    db.execute(
        "UPDATE events SET version = version + 1000 WHERE stream = $1 AND version >= 1",
        &[&inserted],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE events SET version = version - 999 WHERE stream = $1 AND version >= 1000",
        &[&inserted],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO events (stream, version, event_id, event_type, schema_version, data,
            metadata, recorded_at, hash)
         SELECT stream, 1, gen_random_uuid(), event_type, schema_version, data, metadata,
            recorded_at, hash
         FROM events WHERE stream = $1 AND version = 2",
        &[&inserted],
    )
    .await
    .unwrap();
    db.execute(
        "DELETE FROM events WHERE stream = $1 AND version >= 3",
        &[&cut],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE events SET recorded_at = recorded_at - interval '1 hour' WHERE stream = $1 AND version = 3",
        &[&timed],
    )
    .await
    .unwrap();
    // A careful forger changes an event and recomputes the chain after it: only the seal
    // can tell.
    rewrite_and_rechain(&db, &rechained, 2).await;
    // And forges the last seal: a head moved, so the signature no longer holds.
    db.execute(
        "UPDATE events SET data = jsonb_set(data, '{streams,0,version}', '0')
         WHERE stream = 'seals' AND version = (SELECT max(version) FROM events WHERE stream = 'seals')",
        &[],
    )
    .await
    .unwrap();

    let found = verify_log(&url, &public_key, &[]);
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let said = lines(&found);
    let expect = |stream: &str, version: u64, words: &str| {
        let line = said
            .iter()
            .find(|l| l.starts_with(&format!("{stream}: ")))
            .unwrap_or_else(|| panic!("nothing said about {stream}: {said:#?}"));
        assert!(
            line.starts_with(&format!("{stream}: version {version}: ")) && line.contains(words),
            "{line}"
        );
    };
    expect(&edited, 1, "does not match its contents");
    expect(&metadata, 2, "does not match its contents");
    expect(&deleted, 2, "missing");
    expect(&swapped, 1, "does not match its contents");
    // The inserted event was written later than its neighbours: it is not in its place.
    expect(&inserted, 1, "missing from its place");
    expect(&cut, 3, "cut");
    expect(&timed, 3, "does not match its contents");
    // Where a seal first fixed the rewritten stream at or after the change.
    let first_sealed = all_seals.body["seals"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["streams"].as_array().unwrap().iter())
        .filter(|head| head["stream"] == rechained.as_str())
        .map(|head| head["version"].as_u64().unwrap())
        .filter(|v| *v >= 2)
        .min()
        .expect("the rewritten stream was sealed");
    expect(&rechained, first_sealed, "differs from seal");
    expect(&slipped_in, 0, "no seal names it");
    let seals_version = said
        .iter()
        .find(|l| l.starts_with("seals: "))
        .unwrap_or_else(|| panic!("the forged seal is not named: {said:#?}"));
    assert!(seals_version.contains("seal"), "{seals_version}");
    assert_eq!(said.len(), 10, "one line per broken stream: {said:#?}");

    // One stream alone (the forged seal is reported whatever is walked), and against a seal
    // kept outside the system.
    let one = verify_log(&url, &public_key, &["--stream", &edited]);
    assert_eq!(one.status.code(), Some(1));
    let one = lines(&one);
    assert_eq!(one.len(), 2, "{one:?}");
    assert!(one
        .iter()
        .any(|l| l.starts_with(&format!("{edited}: version 1: "))));
    assert!(one.iter().any(|l| l.starts_with("seals: ")));
    let kept = std::env::temp_dir().join(format!("seal-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&kept, serde_json::to_vec(&seal).unwrap()).unwrap();
    let against_kept = verify_log(
        &url,
        &public_key,
        &["--stream", &shows[1], "--seal", kept.to_str().unwrap()],
    );
    assert_eq!(against_kept.status.code(), Some(1));
    let number = seal["number"].as_u64().unwrap();
    assert!(
        lines(&against_kept)
            .iter()
            .any(|l| l.contains(&format!("seal {number} in the log is not the one kept"))),
        "{against_kept:?}"
    );
    let _ = std::fs::remove_file(&kept);

    // A wrong key is a finding about the seals; a key that is not a key cannot run.
    let other_key = "a".repeat(64);
    let wrong = verify_log(&url, &other_key, &["--stream", &shows[0]]);
    assert_ne!(wrong.status.code(), Some(0));
    let unusable = verify_log(&url, "not-a-key", &[]);
    assert_eq!(unusable.status.code(), Some(2), "{unusable:?}");

    // The auditors' HTTP verification job, on a server started on the changed database (its
    // sealer held back, so that it adds nothing to the log), finds the same.
    let served = BinaryServer::start_with_env(
        &server.db,
        free_port(),
        &[
            ("BOXOFFICE_AUDIT_SIGNING_KEY", SIGNING_KEY),
            ("BOXOFFICE_SEAL_EVERY_EVENTS", "1000000"),
            ("BOXOFFICE_SEAL_EVERY_SECONDS", "86400"),
        ],
    )
    .await;
    let auditor = served.api.token("auditor-2", &[Role::Auditor]);
    // No state is folded from events the chain does not commit to: up to the change it is
    // given, from it on refused, naming the version (and so on the command line).
    let edited_show = edited.trim_start_matches("show-");
    served
        .api
        .show_state(&auditor, edited_show)
        .query("at_version", 0)
        .await
        .expect_ok();
    for at_version in [Some(1), Some(2), None] {
        let mut asked = served.api.show_state(&auditor, edited_show);
        if let Some(version) = at_version {
            asked = asked.query("at_version", version);
        }
        let refused = asked.await;
        let problem = refused.expect_problem(409, "log_not_intact");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("{edited}: version 1: "))),
            "{problem:#}"
        );
    }
    // A version deleted is a break at the point asked for, not a point past the end.
    served
        .api
        .show_state(&auditor, deleted.trim_start_matches("show-"))
        .query("at_version", 2)
        .await
        .expect_problem(409, "log_not_intact");
    let cli_state = |version: &str| {
        boxoffice(Some(&url))
            .args([
                "audit",
                "state",
                "--stream",
                &edited,
                "--at-version",
                version,
            ])
            .output()
            .expect("boxoffice runs")
    };
    assert_eq!(cli_state("0").status.code(), Some(0));
    let refused = cli_state("2");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("version 1"));
    let started = served.api.start_verification(&auditor).await;
    let id = started.expect_status(202)["verification_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = eventually("the verification is done", async || {
        let reply = served.api.verification(&auditor, &id).await;
        let view = reply.expect_ok();
        if view["status"] == "running" {
            Err(format!("running: {}", view["progress"]))
        } else {
            Ok(view.clone())
        }
    })
    .await;
    assert_eq!(view["status"], "failed", "{view:#}");
    let mut over_http: Vec<String> = view["result"]["log"]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {view:#}"))
        .iter()
        .map(|f| match f["version"].as_u64() {
            Some(version) => format!(
                "{}: version {version}: {}",
                f["stream"].as_str().unwrap(),
                f["problem"].as_str().unwrap()
            ),
            None => format!(
                "{}: {}",
                f["stream"].as_str().unwrap(),
                f["problem"].as_str().unwrap()
            ),
        })
        .collect();
    over_http.sort();
    let mut on_the_command_line = said.clone();
    on_the_command_line.sort();
    assert_eq!(over_http, on_the_command_line);
}

/// Runs `boxoffice migrate` on `database_url`, as an operator (or a restart) would.
fn migrate(database_url: &str) -> Output {
    boxoffice(Some(database_url))
        .arg("migrate")
        .output()
        .expect("boxoffice runs")
}

#[tokio::test]
async fn an_auditor_is_never_shown_an_empty_or_re_chained_log_as_intact() {
    let mut server = audited_server().await;
    let api = server.api.clone();
    let staff = api.token("box-office-1", &[Role::Staff]);
    let public_key = api.audit_public_key().await.body["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (show, _) = show_with_history(&api, &staff, 2).await;
    server.stop().await;
    let url = server.db.url.clone();

    // A mistyped database name cannot run, and is not created.
    let missing = format!("{}_mistyped", server.db.name);
    let wrong = verify_log(&url.replace(&server.db.name, &missing), &public_key, &[]);
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("does not exist"),
        "{wrong:?}"
    );
    let admin = server.db.admin().await;
    let created = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&missing])
        .await
        .unwrap();
    assert!(
        created.is_none(),
        "verify-log created the database it was pointed at"
    );

    // An edited event whose hash (and every later one) was removed: a start must not chain
    // it again as if it were written before the chain existed.
    let stream = format!("show-{show}");
    let db = server.db.client().await;
    db.batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    db.execute(
        "UPDATE events SET data = jsonb_set(data, '{seats,0}', '\"B5\"'), hash = NULL
         WHERE stream = $1 AND version = 1",
        &[&stream],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE events SET hash = NULL WHERE stream = $1 AND version > 1",
        &[&stream],
    )
    .await
    .unwrap();
    let migrated = migrate(&url);
    assert_eq!(migrated.status.code(), Some(0), "{migrated:?}");
    let found = verify_log(&url, &public_key, &["--stream", &stream]);
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let said = lines(&found);
    assert!(
        said.iter()
            .any(|l| l.starts_with(&format!("{stream}: version 1: ")) && l.contains("no hash")),
        "{said:#?}"
    );

    // Something that is not a seal appended to the seals stream, chained as the log chains
    // every append (so only what it says is wrong): named, not skipped.
    let log = boxoffice_eventstore::postgres::PgEventLog::new(
        boxoffice_eventstore::postgres::pool(&server.db.config(), 2),
        &server.db.config(),
    );
    let junk = boxoffice_eventstore::NewEvent {
        event_id: uuid::Uuid::new_v4(),
        event_type: "LogSealed".into(),
        schema_version: 1,
        data: serde_json::json!({ "note": "not a seal" }),
        metadata: boxoffice_eventstore::Metadata::default(),
        recorded_at: None,
    };
    use boxoffice_eventstore::EventLog;
    let appended = log
        .append(
            "seals",
            boxoffice_eventstore::ExpectedVersion::Any,
            vec![junk],
        )
        .await
        .expect("appended");
    let found = verify_log(&url, &public_key, &[]);
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let said = lines(&found);
    let at = format!("seals: version {}: is not a seal", appended.last_version);
    assert!(said.iter().any(|l| l.starts_with(&at)), "{said:#?}");
}

/// Changes event `version` of `stream` and recomputes every hash from there, as someone who
/// knows the chain's encoding would (the encoding is public: docs/audit.md).
async fn rewrite_and_rechain(db: &tokio_postgres::Client, stream: &str, version: i64) {
    db.execute(
        "UPDATE events SET data = jsonb_set(data, '{seats,0}', '\"B4\"') WHERE stream = $1 AND version = $2",
        &[&stream, &version],
    )
    .await
    .unwrap();
    rechain(db, stream, version).await;
}

/// Recomputes the hashes of `stream` from `version` on.
async fn rechain(db: &tokio_postgres::Client, stream: &str, version: i64) {
    let rows = db
        .query(
            "SELECT version, event_id, event_type, schema_version, data, metadata, recorded_at, hash
             FROM events WHERE stream = $1 ORDER BY version",
            &[&stream],
        )
        .await
        .unwrap();
    let mut previous = boxoffice_eventstore::EventHash::GENESIS;
    for row in rows {
        let v: i64 = row.get("version");
        let metadata: boxoffice_eventstore::Metadata =
            serde_json::from_value(row.get("metadata")).unwrap();
        let data: Value = row.get("data");
        let event_type: String = row.get("event_type");
        let chained = boxoffice_eventstore::chain::Chained {
            stream,
            version: v as u64,
            event_id: row.get("event_id"),
            event_type: &event_type,
            schema_version: row.get("schema_version"),
            data: &data,
            metadata: &metadata,
            recorded_at: row.get("recorded_at"),
        };
        let hash = if v >= version {
            let hash = chained.hash(&previous);
            db.execute(
                "UPDATE events SET hash = $3 WHERE stream = $1 AND version = $2",
                &[&stream, &v, &hash.0.to_vec()],
            )
            .await
            .unwrap();
            hash
        } else {
            boxoffice_eventstore::EventHash::try_from(row.get::<_, Vec<u8>>("hash").as_slice())
                .unwrap()
        };
        previous = hash;
    }
}

/// The Python recomputation docs/audit.md gives auditors, as it stands there.
/// `lines` of an export with its end line written again to count them, as someone hiding
/// dropped lines would.
fn recount(mut lines: Vec<String>) -> Vec<String> {
    lines.pop();
    let events: Vec<Value> = lines[1..]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end = serde_json::json!({"end": {
        "lines": events.len(),
        "last_position": events.last().map(|e| e["position"].clone()),
    }});
    lines.push(end.to_string());
    lines
}

fn python_from_the_guide() -> String {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/audit.md"))
        .expect("docs/audit.md");
    let start = guide.find("```python\n").expect("a python block") + "```python\n".len();
    let end = start + guide[start..].find("```").expect("the block's end");
    guide[start..end].to_owned()
}

fn run_python(script: &std::path::Path, export: &std::path::Path) -> Output {
    std::process::Command::new("python3")
        .arg(script)
        .arg(export)
        .output()
        .expect("python3 runs (scripts/test needs it)")
}

fn verify_export(file: &std::path::Path, seal: &std::path::Path, public_key: &str) -> Output {
    boxoffice(None)
        .args(["audit", "verify-export"])
        .arg(file)
        .arg("--seal")
        .arg(seal)
        .args(["--public-key", public_key])
        .output()
        .expect("boxoffice runs")
}

#[tokio::test]
async fn an_export_checks_offline_with_the_tool_and_with_the_guides_python() {
    let mut server = audited_server().await;
    let api = server.api.clone();
    let staff = api.token("box-office-1", &[Role::Staff]);
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let public_key = api.audit_public_key().await.text("public_key").to_owned();
    // A catalogue made the way operators make it (cinemas with coordinates: the chain's
    // encoding of doubles is part of what is checked), and a show with some history.
    let seeded = boxoffice(Some(&server.db.url))
        .args([
            "seed",
            "--cities",
            "1",
            "--cinemas-per-city",
            "2",
            "--halls-per-cinema",
            "1",
        ])
        .args(["--days", "1", "--shows-per-hall-day", "1", "--movies", "2"])
        .output()
        .expect("boxoffice seed runs");
    assert!(seeded.status.success(), "{seeded:?}");
    let (show, position) = show_with_history(&api, &staff, 3).await;
    let seal = sealed_through(&api, &auditor, &position).await;
    let over_http = api
        .http()
        .get(format!("{}/v1/audit/export?stream=show-{show}", api.base()))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(over_http.status(), 200);
    assert_eq!(
        over_http.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let over_http = over_http.text().await.unwrap();
    // A header, the show's seven events, and the end line counting them.
    let http_lines: Vec<&str> = over_http.lines().collect();
    assert_eq!(http_lines.len(), 9, "{over_http}");
    assert_eq!(
        serde_json::from_str::<Value>(http_lines[0]).unwrap(),
        serde_json::json!({"export": {"format": 1, "stream": format!("show-{show}")}})
    );
    assert_eq!(
        serde_json::from_str::<Value>(http_lines[8]).unwrap()["end"]["lines"],
        7
    );
    server.stop().await;

    let dir = std::env::temp_dir().join(format!("export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("log.ndjson");
    let exported = boxoffice(Some(&server.db.url))
        .args(["audit", "export", "--all", "--to"])
        .arg(&file)
        .output()
        .expect("boxoffice audit export runs");
    assert!(exported.status.success(), "{exported:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // The HTTP export of one stream is that stream's lines of the whole export.
    let stream_lines: Vec<&str> = lines
        .iter()
        .filter(|l| {
            serde_json::from_str::<Value>(l).unwrap()["stream"] == format!("show-{show}").as_str()
        })
        .copied()
        .collect();
    assert_eq!(stream_lines, http_lines[1..8]);
    assert!(lines.len() > 15, "{} lines", lines.len());
    let seal_file = dir.join("seal.json");
    std::fs::write(&seal_file, serde_json::to_vec(&seal).unwrap()).unwrap();
    let script = dir.join("chain.py");
    std::fs::write(&script, python_from_the_guide()).unwrap();

    let intact = verify_export(&file, &seal_file, &public_key);
    assert_eq!(intact.status.code(), Some(0), "{intact:?}");
    let python = run_python(&script, &file);
    assert!(python.status.success(), "{python:?}");
    assert!(String::from_utf8_lossy(&python.stdout).contains("streams chain"));

    // The same file, changed in each way, fails both checks.
    let show_lines: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("\"SeatsHeld\""))
        .map(|(i, _)| i)
        .collect();
    let cinema_line = lines
        .iter()
        .position(|l| l.contains("\"CinemaOpened\""))
        .expect("a cinema in the export");
    let changed = {
        let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        copy[cinema_line] = copy[cinema_line].replacen("\"latitude\":", "\"latitude\":1", 1);
        copy
    };
    let dropped = {
        let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        copy.remove(show_lines[1]);
        copy
    };
    let reordered = {
        let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        copy.swap(show_lines[0], show_lines[1]);
        copy
    };
    let cut = lines[..show_lines[2]]
        .iter()
        .map(|l| (*l).to_owned())
        .collect::<Vec<_>>();
    // Cut after the last event the seal covers: every chain in the file holds.
    let cut_at_the_end = lines[..lines.len() - 2]
        .iter()
        .map(|l| (*l).to_owned())
        .collect::<Vec<_>>();
    // A careful cutter drops lines and writes the end line again to match.
    let of_the_show = |line: &str, version: Option<u64>| {
        let line: Value = serde_json::from_str(line).unwrap();
        line["stream"] == format!("show-{show}").as_str()
            && version.is_none_or(|v| line["version"] == v)
    };
    let first_lines_dropped = recount(
        lines
            .iter()
            .filter(|l| !of_the_show(l, Some(0)))
            .map(|l| (*l).to_owned())
            .collect(),
    );
    let stream_dropped = recount(
        lines
            .iter()
            .filter(|l| !of_the_show(l, None))
            .map(|l| (*l).to_owned())
            .collect(),
    );
    let relabelled_from = stream_dropped.clone();
    for (name, content, python_fails) in [
        ("changed", changed, true),
        ("dropped", dropped, true),
        ("reordered", reordered, true),
        ("cut before the seal", cut, true),
        ("cut at the end", cut_at_the_end, true),
        ("a stream's first lines dropped", first_lines_dropped, false),
        ("a whole stream dropped", stream_dropped, false),
    ] {
        let path = dir.join(format!("{name}.ndjson"));
        std::fs::write(&path, content.join("\n") + "\n").unwrap();
        let checked = verify_export(&path, &seal_file, &public_key);
        assert_eq!(checked.status.code(), Some(1), "{name}: {checked:?}");
        assert!(!checked.stdout.is_empty(), "{name}: a finding is named");
        if name.contains("stream") {
            // The show is named, and nothing else is blamed: the seal the auditor kept is in
            // the file. A seal in the file that ended at one of the dropped events may be
            // named too (where the sealer happened to seal is up to its timer).
            let said = crate::lines(&checked);
            let of_the_show = format!("show-{show}: version ");
            assert!(
                said.iter().any(|l| l.starts_with(&of_the_show)),
                "{name}: {checked:?}"
            );
            assert!(
                said.iter().all(|l| l.starts_with(&of_the_show)
                    || (l.starts_with("seals: ") && l.contains("where the log holds no event"))),
                "{name}: {checked:?}"
            );
        }
        if python_fails {
            assert!(
                !run_python(&script, &path).status.success(),
                "{name}: python"
            );
        }
    }
    // The header is not signed: one changed to say "after a position" turns the whole-log
    // checks off, so an auditor who asked for the whole log says so (`--all`).
    let mut relabelled = relabelled_from;
    relabelled[0] = r#"{"export":{"format":1,"after":"0-1"}}"#.to_owned();
    let path = dir.join("relabelled.ndjson");
    std::fs::write(&path, relabelled.join("\n") + "\n").unwrap();
    let all = |path: &std::path::Path| {
        boxoffice(None)
            .args([
                "audit",
                "verify-export",
                "--all",
                "--public-key",
                &public_key,
            ])
            .arg(path)
            .output()
            .expect("boxoffice runs")
    };
    let caught = all(&path);
    assert_eq!(caught.status.code(), Some(1), "{caught:?}");
    assert!(
        crate::lines(&caught)
            .iter()
            .any(|l| l.contains("not the whole log")),
        "{caught:?}"
    );
    let whole = all(&file);
    assert_eq!(whole.status.code(), Some(0), "{whole:?}");
    assert!(String::from_utf8_lossy(&whole.stderr).contains("the whole log: "));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A seat map as ticket clients were served it at one moment of the day, and where in the
/// log that was.
struct Served {
    step: &'static str,
    version: u64,
    position: String,
    seats: std::collections::BTreeMap<String, String>,
}

/// The seat map once it shows the log up to `position` (the answer to the step just taken).
async fn served(api: &Api, show: &str, step: &'static str, position: &str) -> Served {
    let map = api.seat_map(show).min_position(position).await;
    map.expect_ok();
    Served {
        step,
        version: map.body["version"].as_u64().unwrap(),
        position: map.position().to_owned(),
        seats: map.body["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["seat_id"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    }
}

/// The seats of an audited state, as the seat map names their statuses.
fn audited_seats(state: &Value) -> std::collections::BTreeMap<String, String> {
    state["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seat_id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_state_at_every_point_of_a_day_is_the_seat_map_served_then_seat_by_seat() {
    let clock = Arc::new(boxoffice_commands::ManualClock::new(
        boxoffice_commands::Clock::now(&SystemClock),
    ));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let api = &server.api;
    let (staff, auditor) = (api.staff(), api.auditor());
    let (alice, bob, carol, dave) = (
        api.customer("alice"),
        api.customer("bob"),
        api.customer("carol"),
        api.customer("dave"),
    );
    let mut day = Vec::new();

    let scheduled = api.schedule_show(&staff, &fixtures::show(2, 5)).await;
    let show = scheduled.created("show_id");
    day.push(served(api, &show, "scheduled", scheduled.position()).await);

    let alices = api.hold_seats(&alice, &show, &["A1", "A2"]).await;
    let alices_hold = alices.created("hold_id");
    day.push(served(api, &show, "alice holds", alices.position()).await);

    let bobs = api.hold_seats(&bob, &show, &["B1"]).await;
    let released = api
        .release_hold(&bob, &show, &bobs.created("hold_id"))
        .await;
    released.expect_ok();
    day.push(served(api, &show, "bob lets go", released.position()).await);

    let paid = api
        .confirm_hold(
            &staff,
            &show,
            &alices_hold,
            "counter-1",
            &alices.body["total"],
        )
        .await;
    let alices_order = paid.created("order_id");
    day.push(served(api, &show, "alice pays at the counter", paid.position()).await);

    // Carol's hold runs out: the scheduler expires it once its time and grace are past.
    let carols = api.hold_seats(&carol, &show, &["B2", "B3"]).await;
    carols.expect_created();
    clock.advance(chrono::Duration::seconds(300 + 5 + 1));
    // Waited for in the log, not on the map: the map shows a lapsed hold's seats free
    // before the expiry is recorded, at a version whose state still holds them.
    let expired = boxoffice_tests::wait::eventually("carol's hold expires", async || {
        let stream = api.show_stream(&auditor, &show).query("limit", 1000).await;
        stream.body["events"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["type"] == "HoldExpired")
            .and_then(|e| e["position"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| stream.to_string())
    })
    .await;
    day.push(served(api, &show, "carol's hold expired", &expired).await);

    // Dave pays through the provider.
    let daves = api.hold_seats(&dave, &show, &["B4", "B5"]).await;
    let daves_hold = daves.created("hold_id");
    let payment = api.start_payment(&dave, &show, &daves_hold, "alipay").await;
    payment.expect_created();
    let page = api
        .press_in_sandbox(payment.text("pay_url"), "succeed")
        .await;
    assert!(page.status.is_success(), "{page:?}");
    let daves_order = boxoffice_tests::wait::eventually("dave's order", async || {
        let orders = api.my_orders(&dave).await;
        match orders.body["orders"][0]["order_id"].as_str() {
            Some(order) => Ok((order.to_owned(), orders.position().to_owned())),
            None => Err(orders.to_string()),
        }
    })
    .await;
    day.push(served(api, &show, "dave paid through the provider", &daves_order.1).await);

    let refunded = api
        .refund_seats(&alice, &show, &alices_order, &["A2"])
        .await;
    refunded.expect_created();
    day.push(served(api, &show, "alice refunds a seat", refunded.position()).await);

    let exchanged = api
        .exchange_seats(&dave, &show, &daves_order.0, &["B4"], &["A3"])
        .await;
    exchanged.expect_created();
    day.push(served(api, &show, "dave exchanges a seat", exchanged.position()).await);

    let cancelled = api.cancel_show(&staff, &show, "the projector broke").await;
    cancelled.expect_ok();
    day.push(served(api, &show, "the show is cancelled", cancelled.position()).await);

    // Every point, asked three ways, is the seat map served then.
    for moment in &day {
        let by_version = api
            .show_state(&auditor, &show)
            .query("at_version", moment.version)
            .await;
        by_version.expect_ok();
        assert_eq!(
            audited_seats(&by_version.body),
            moment.seats,
            "{} at version {}",
            moment.step,
            moment.version
        );
        assert_eq!(by_version.body["version"].as_u64(), Some(moment.version));
        let by_position = api
            .show_state(&auditor, &show)
            .query("at_position", &moment.position)
            .await;
        by_position.expect_ok();
        assert_eq!(
            by_position.body["version"].as_u64(),
            Some(moment.version),
            "{}: the last event at or before {}",
            moment.step,
            moment.position
        );
        assert_eq!(
            audited_seats(&by_position.body),
            moment.seats,
            "{}",
            moment.step
        );
        let recorded_at = by_version.text("recorded_at").to_owned();
        let by_time = api
            .show_state(&auditor, &show)
            .query("at_time", &recorded_at)
            .await;
        by_time.expect_ok();
        assert_eq!(
            by_time.body["version"].as_u64(),
            Some(moment.version),
            "{}: the last event recorded at or before {recorded_at}",
            moment.step
        );
        assert_eq!(
            audited_seats(&by_time.body),
            moment.seats,
            "{}",
            moment.step
        );
    }

    // What the day did to the money, as the log tells it at the end.
    let end = api.show_state(&auditor, &show).await;
    end.expect_ok();
    assert_eq!(end.body["cancelled"], true);
    assert!(end.body["holds"].as_array().unwrap().is_empty());
    let log = api.show_stream(&auditor, &show).query("limit", 1000).await;
    let types: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        end.body["holds_ended"]["expired"], 1,
        "{}: {types:?}",
        end.body["holds_ended"]
    );
    assert_eq!(end.body["holds_ended"]["released"], 1);
    assert_eq!(end.body["holds_ended"]["confirmed"], 2);
    let money = &end.body["money"][0];
    assert_eq!(money["currency"], "CNY");
    assert_eq!(
        money["paid_minor"].as_i64(),
        Some(
            end.body["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["paid"]["amount_minor"].as_i64().unwrap())
                .sum()
        )
    );
    assert_eq!(
        money["net_minor"], 0,
        "a cancelled show refunds everything: {money}"
    );

    // Points that are not in the show's history, and questions that are not questions.
    api.show_state(&auditor, &show)
        .query("at_version", 1000)
        .await
        .expect_problem(422, "point_out_of_range");
    api.show_state(&auditor, &show)
        .query("at_time", "2000-01-01T00:00:00Z")
        .await
        .expect_problem(422, "point_out_of_range");
    api.show_state(&auditor, &show)
        .query("at_version", 1)
        .query("at_position", &day[0].position)
        .await
        .expect_problem(422, "validation_failed");
    api.show_state(&auditor, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "show_not_found");
    api.show_state(&alice, &show)
        .await
        .expect_problem(403, "forbidden");
    api.show_state(&auditor, &show)
        .query("at_position", "yesterday")
        .await
        .expect_problem(400, "invalid_query");
    api.stream_state(&auditor, "not-a-stream")
        .await
        .expect_problem(404, "not_found");
    // Any stream folds the same way: the cities stream of this day is empty, the show's
    // stream is the show.
    api.stream_state(&auditor, "cities")
        .await
        .expect_problem(404, "not_found");
    let as_stream = api
        .stream_state(&auditor, &format!("show-{show}"))
        .query("at_version", day[1].version)
        .await;
    as_stream.expect_ok();
    assert_eq!(as_stream.body["kind"], "show");
    assert_eq!(audited_seats(&as_stream.body["state"]), day[1].seats);
}

/// The actions an auditor is shown, as (actor, command, stream) with the rest of each.
async fn actions_until(api: &Api, auditor: &str, command: &str) -> Vec<Value> {
    boxoffice_tests::wait::eventually(&format!("a {command} among the actions"), async || {
        let page = api.audit_actions(auditor).await;
        page.expect_ok();
        let actions = page.body["actions"].as_array().cloned().unwrap_or_default();
        if actions.iter().any(|a| a["command"] == command) {
            Ok(actions)
        } else {
            Err(page.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn who_did_what_lists_every_command_with_its_actor_key_request_and_events() {
    let server = audited_server().await;
    let api = &server.api;
    let (staff, auditor, admin) = (api.staff(), api.auditor(), api.admin());
    let alice = api.customer("alice");

    // A day at the box office: a sale at the counter, a staff refund, a cancellation, a
    // catalogue change, a role grant and an API key made and revoked.
    let show = api.scheduled_show(&fixtures::show(1, 4)).await;
    let held = api
        .hold_seats(&alice, &show, &["A1", "A2"])
        .header("x-request-id", "req-hold-1")
        .await;
    let hold = held.created("hold_id");
    let sold = api
        .confirm_hold(&staff, &show, &hold, "counter-7", &held.body["total"])
        .idempotency_key("sale-1")
        .await;
    let order = sold.created("order_id");
    api.refund_seats(&staff, &show, &order, &["A2"])
        .await
        .expect_created();
    api.cancel_show(&staff, &show, "no projectionist")
        .await
        .expect_ok();
    api.create_city(&staff, "苏州", "Asia/Shanghai")
        .await
        .expect_created();
    let account = api
        .register("auditee@example.cn", "a long enough password", "审计")
        .await;
    let account_id = account.expect_created()["account"]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.grant_roles(&admin, &account_id, &["staff"])
        .await
        .expect_ok();
    let key = api.create_api_key(&admin, "partner-1", 600).await;
    let key_id = key.expect_created()["key_id"].as_str().unwrap().to_owned();
    api.revoke_api_key(&admin, &key_id).await.expect_ok();

    let actions = actions_until(api, &auditor, "RevokeApiKey").await;
    let find = |command: &str| {
        actions
            .iter()
            .find(|a| a["command"] == command)
            .unwrap_or_else(|| panic!("no {command} in {actions:#?}"))
    };
    let hold_action = find("HoldSeats");
    assert_eq!(hold_action["actor"], "alice");
    assert_eq!(hold_action["correlation_id"], "req-hold-1");
    assert_eq!(hold_action["outcome"], serde_json::json!(["SeatsHeld"]));
    let sale = find("ConfirmPayment");
    assert_eq!(sale["actor"], "box-office-1");
    assert_eq!(sale["idempotency_key"], "sale-1");
    assert_eq!(sale["stream"], format!("show-{show}").as_str());
    assert_eq!(sale["outcome"], serde_json::json!(["HoldConfirmed"]));
    assert_eq!(find("RefundOrder")["actor"], "box-office-1");
    assert_eq!(
        find("RefundOrder")["outcome"],
        serde_json::json!(["OrderRefunded"])
    );
    assert!(find("CancelShow")["outcome"]
        .as_array()
        .unwrap()
        .contains(&Value::from("ShowCancelled")));
    assert_eq!(find("AddCity")["stream"], "cities");
    let grant = find("SetRoles");
    assert_eq!(grant["stream"], "access");
    assert_eq!(grant["actor"], "admin-1");
    assert_eq!(grant["outcome"], serde_json::json!(["RolesSet"]));
    assert_eq!(
        find("CreateApiKey")["outcome"],
        serde_json::json!(["ApiKeyCreated"])
    );
    assert_eq!(
        find("RevokeApiKey")["outcome"],
        serde_json::json!(["ApiKeyRevoked"])
    );
    for action in &actions {
        assert!(action["recorded_at"].is_string() && action["position"].is_string());
    }

    // Filtered by actor, by command, by time: only those.
    let staffs = api
        .audit_actions(&auditor)
        .query("actor", "box-office-1")
        .await;
    let staffs = staffs.expect_ok()["actions"].as_array().unwrap().clone();
    assert!(!staffs.is_empty() && staffs.iter().all(|a| a["actor"] == "box-office-1"));
    let refunds = api
        .audit_actions(&auditor)
        .query("command", "RefundOrder")
        .await;
    assert_eq!(refunds.expect_ok()["actions"].as_array().unwrap().len(), 1);
    let later = api
        .audit_actions(&auditor)
        .query("from", "2999-01-01T00:00:00Z")
        .await;
    assert!(later.expect_ok()["actions"].as_array().unwrap().is_empty());
    api.audit_actions(&alice)
        .await
        .expect_problem(403, "forbidden");
    api.audit_actions(&auditor)
        .query("from", "yesterday")
        .await
        .expect_problem(400, "invalid_query");
}

/// The last page of the whole log ends where the log ends now. An event written while an
/// older transaction is open elsewhere in the database server is not yet readable in log
/// order; the page waits for it rather than leave it off, or an auditor paging until
/// `next` is null would take the newest events for cut.
#[tokio::test]
async fn the_last_page_of_the_log_waits_for_events_an_older_transaction_holds_back() {
    let server = TestServer::start().await;
    let api = server.api.clone();
    let auditor = api.token("auditor-1", &[Role::Auditor]);
    let older = server.db.client().await;
    older.batch_execute("BEGIN").await.unwrap();
    older
        .query_one("SELECT pg_current_xact_id()", &[])
        .await
        .unwrap();
    let show = api.scheduled_show(&fixtures::show(1, 4)).await;

    let since: std::time::SystemTime = older
        .query_one("SELECT clock_timestamp()", &[])
        .await
        .unwrap()
        .get(0);
    let page = tokio::spawn({
        let api = api.clone();
        async move { api.audit_events(&auditor).query("limit", 1000).await }
    });
    // Wait until the page has answered, or is seen waiting for the log's newest event to
    // become readable: it must be the latter. While it waits, the server asks again and
    // again whether that event is recorded, which pg_stat_activity shows.
    // (Asked outside the older transaction: a transaction sees one snapshot of it.)
    let probe = server.db.client().await;
    let deadline = Instant::now() + boxoffice_tests::wait::PATIENCE;
    loop {
        let waiting = probe
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND query_start > $1
                   AND query LIKE 'SELECT EXISTS (SELECT 1 FROM events WHERE position = $2%'",
                &[&since],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if waiting > 0 || page.is_finished() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !page.is_finished(),
        "answered while an older transaction held the newest events back"
    );
    older.batch_execute("COMMIT").await.unwrap();
    let page = tokio::time::timeout(boxoffice_tests::wait::PATIENCE, page)
        .await
        .expect("answered once the older transaction ended")
        .unwrap();
    page.expect_ok();
    let stream = format!("show-{show}");
    assert!(
        page.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["stream"] == stream.as_str()),
        "{page}"
    );
    assert_eq!(page.body["next"], Value::Null);
}
