//! Events readable for ever: a fixture of every event type at every schema version the code
//! reads, each decoded by today's code. The log keeps its events for ever, so a change that
//! can no longer read one of them (a field renamed, a default dropped, a version forgotten)
//! must fail here, before it meets the log.
//!
//! `tests/fixtures/events/{kind}/`, one folder per stream kind, holds `{Type}.v{N}.json` for
//! every (type, version) the kind's event enum lists in `StoredEvent::readable`: `data` is the
//! body as the log stores it, `decodes_to` what today's code writes for the event it reads
//! from it. Other bodies of the same pair sit beside it as `{Type}.v{N}.{label}.json`:
//! `oldest` holds a body without any of the type's optional or defaulted fields, as events
//! written before those fields existed look, so its `decodes_to` shows the defaults old
//! events are read with; `LogSealed.v1.first.json` is a first seal, with no previous one.
//!
//! `data` is never edited: it is what the log holds. `decodes_to` changes only when the code
//! writes something more for the same event, and the diff then shows what old events now read
//! as. Bumping a schema version adds the new pair to `readable` and a fixture for it, and
//! keeps the old version's fixtures, which the upcasting must still read.
//!
//! No database: the fixtures are decoded the way every reader of the log decodes an event.

use boxoffice_audit::seal::Seal;
use boxoffice_domain::access::AccessEvent;
use boxoffice_domain::catalogue::{CinemaEvent, CitiesEvent, MovieEvent};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::promo::PromoEvent;
use boxoffice_domain::{ShowEvent, StoredEvent, StreamName, UnknownEvent};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A stream kind: its fixture folder and the event enum its streams hold.
struct Kind {
    name: &'static str,
    readable: fn() -> &'static [(&'static str, i32)],
    decode: fn(&str, i32, &Value) -> Result<Written, UnknownEvent>,
}

/// What today's code writes for an event it has read: the body, and the schema version.
type Written = (Value, i32);

fn kind<E: StoredEvent>(name: &'static str) -> Kind {
    Kind {
        name,
        readable: E::readable,
        decode: |event_type, schema_version, data| {
            E::from_stored(event_type, schema_version, data)
                .map(|event| (event.to_json(), event.schema_version()))
        },
    }
}

/// Every stream kind of the log, named as its streams are.
fn kinds() -> Vec<Kind> {
    vec![
        kind::<ShowEvent>("show"),
        kind::<CitiesEvent>("cities"),
        kind::<CinemaEvent>("cinema"),
        kind::<MovieEvent>("movie"),
        kind::<PaymentEvent>("payment"),
        kind::<PromoEvent>("promo"),
        kind::<AccessEvent>("access"),
        kind::<Seal>("seals"),
    ]
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events")
}

/// A fixture's path as the repository spells it, for messages.
fn shown(path: &Path) -> String {
    let relative = path.strip_prefix(root()).unwrap_or(path);
    format!("tests/fixtures/events/{}", relative.display())
}

/// A fixture file of a kind's folder, with the (type, version) its name says it is for.
struct Fixture {
    path: PathBuf,
    event_type: String,
    schema_version: i32,
}

/// `{Type}.v{N}.json` or `{Type}.v{N}.{label}.json`.
fn parse_name(name: &str) -> Option<(String, i32)> {
    let parts: Vec<&str> = name.strip_suffix(".json")?.split('.').collect();
    let (event_type, version) = match parts[..] {
        [event_type, version] | [event_type, version, _] => (event_type, version),
        _ => return None,
    };
    let version = version.strip_prefix('v')?.parse().ok()?;
    (!event_type.is_empty()).then(|| (event_type.to_owned(), version))
}

/// The fixtures of `kind`'s folder, and the names in it that are not fixtures.
fn fixtures(kind: &Kind) -> (Vec<Fixture>, Vec<String>) {
    let dir = root().join(kind.name);
    let mut found = Vec::new();
    let mut misnamed = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", shown(&dir)))
        .map(|entry| entry.expect("a readable folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match parse_name(name) {
            Some((event_type, schema_version)) if path.is_file() => found.push(Fixture {
                path,
                event_type,
                schema_version,
            }),
            _ => misnamed.push(shown(&path)),
        }
    }
    (found, misnamed)
}

#[track_caller]
fn assert_none(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "{what} ({}):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_event_type_and_version_the_code_reads_has_a_fixture() {
    let kinds = kinds();
    let named: BTreeSet<&str> = kinds.iter().map(|k| k.name).collect();
    let streams: BTreeSet<&str> = StreamName::PREFIXES
        .iter()
        .map(|prefix| prefix.trim_end_matches('-'))
        .collect();
    assert_eq!(
        named, streams,
        "every stream kind of the log needs its fixtures"
    );

    let mut missing = Vec::new();
    for kind in &kinds {
        for (event_type, version) in (kind.readable)() {
            let path = root()
                .join(kind.name)
                .join(format!("{event_type}.v{version}.json"));
            if !path.is_file() {
                missing.push(format!(
                    "add {}: the {event_type} v{version} body as the log stores it (`data`) \
                     and what today's code writes for it once read (`decodes_to`)",
                    shown(&path)
                ));
            }
        }
    }
    assert_none(
        missing,
        "event types and versions the code reads without a fixture",
    );
}

#[test]
fn every_fixture_decodes_to_what_it_says() {
    let mut wrong = Vec::new();
    let mut decoded = 0;
    for kind in kinds() {
        for fixture in fixtures(&kind).0 {
            let file = shown(&fixture.path);
            let text = std::fs::read_to_string(&fixture.path).expect("a readable fixture");
            let content: Value = match serde_json::from_str(&text) {
                Ok(content) => content,
                Err(e) => {
                    wrong.push(format!("{file}: not JSON: {e}"));
                    continue;
                }
            };
            if content["event_type"] != fixture.event_type.as_str()
                || content["schema_version"] != fixture.schema_version
            {
                wrong.push(format!(
                    "{file}: says it is {} v{}, its name says {} v{}",
                    content["event_type"],
                    content["schema_version"],
                    fixture.event_type,
                    fixture.schema_version
                ));
                continue;
            }
            let (Some(data), Some(expected)) = (content.get("data"), content.get("decodes_to"))
            else {
                wrong.push(format!("{file}: needs both `data` and `decodes_to`"));
                continue;
            };
            let (written, version) =
                match (kind.decode)(&fixture.event_type, fixture.schema_version, data) {
                    Ok(read) => read,
                    Err(e) => {
                        wrong.push(format!("{file}: today's code cannot read it: {e}"));
                        continue;
                    }
                };
            if written != *expected {
                wrong.push(format!(
                    "{file}: today's code writes something other than its decodes_to:\n  {}",
                    differences(&written, expected)
                ));
                continue;
            }
            // What the code writes for an old event must itself read back unchanged.
            match (kind.decode)(&fixture.event_type, version, &written) {
                Ok((again, _)) if again == written => decoded += 1,
                Ok((again, _)) => wrong.push(format!(
                    "{file}: its decodes_to, read as v{version}, comes back changed:\n  {}",
                    differences(&again, &written)
                )),
                Err(e) => wrong.push(format!(
                    "{file}: its decodes_to, written at v{version}, cannot be read: {e}"
                )),
            }
        }
    }
    assert_none(wrong, "fixtures that do not decode to what they say");
    assert!(
        decoded > 0,
        "no fixture was decoded: is {} empty?",
        shown(&root())
    );
}

#[test]
fn no_fixture_is_for_an_event_type_or_version_the_code_does_not_read() {
    let kinds = kinds();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(root()).expect("the fixture folder") {
        let path = entry.expect("a readable folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !path.is_dir() || !kinds.iter().any(|k| k.name == name) {
            stale.push(format!("{}: not the folder of a stream kind", shown(&path)));
        }
    }
    for kind in &kinds {
        let readable = (kind.readable)();
        let (found, misnamed) = fixtures(kind);
        stale.extend(
            misnamed
                .into_iter()
                .map(|file| format!("{file}: not named {{Type}}.v{{N}}[.{{label}}].json")),
        );
        for fixture in found {
            let pair = (fixture.event_type.as_str(), fixture.schema_version);
            if !readable.contains(&pair) {
                stale.push(format!(
                    "{}: {} v{} is not among what {} streams read ({readable:?}); an event the \
                     code once read must stay readable (list it again and upcast it), and a \
                     fixture is named for what it holds",
                    shown(&fixture.path),
                    pair.0,
                    pair.1,
                    kind.name
                ));
            }
        }
    }
    assert_none(stale, "fixtures for events the code does not read");
}

/// Where the JSON `got` differs from `want`, one line per place (a JSON pointer with the two
/// values, absent shown as `-`).
fn differences(got: &Value, want: &Value) -> String {
    let mut lines = Vec::new();
    differ(Some(got), Some(want), "", &mut lines);
    lines.join("\n  ")
}

fn differ(got: Option<&Value>, want: Option<&Value>, at: &str, lines: &mut Vec<String>) {
    match (got, want) {
        (Some(Value::Object(got)), Some(Value::Object(want))) => {
            let keys: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
            for key in keys {
                differ(got.get(key), want.get(key), &format!("{at}/{key}"), lines);
            }
        }
        (Some(Value::Array(got)), Some(Value::Array(want))) if got.len() == want.len() => {
            for (index, (got, want)) in got.iter().zip(want).enumerate() {
                differ(Some(got), Some(want), &format!("{at}/{index}"), lines);
            }
        }
        _ if got != want => {
            let show = |value: Option<&Value>| value.map_or("-".to_owned(), Value::to_string);
            let at = if at.is_empty() { "/" } else { at };
            lines.push(format!("{at}: {} instead of {}", show(got), show(want)));
        }
        _ => {}
    }
}
