//! Where events sit in the log, as the seals saw it: every event at or before a seal's
//! `through` position must be under that seal or an earlier one.
//!
//! The hash chain ties each event to the one before it in its stream, and a seal fixes the
//! head of every stream it names; neither says where in the log an event sits. A whole new
//! stream inserted with positions before a kept seal chains correctly and is named by no
//! seal, so walking the chains alone finds nothing. The sealer, though, seals in log order:
//! seal k names exactly the streams with events after seal k-1's `through` and up to its
//! own, each at its last version there (the `seals` stream itself is never named). Replaying
//! that split and comparing it with each seal finds an event added to, or moved within, the
//! part of the log the seals cover.
//!
//! Only a seal signed with the auditor's key says where it stopped; and only one linked to
//! a signed seal before it (or the first of a log read from its start) says where it began.
//! An interval whose ends are not vouched for is passed over: the seal that broke the chain
//! is a finding of its own.
//!
//! Events are fed in log order and each seal once every event up to its `through` has been
//! fed; only the events after the last signed seal are held, so memory stays bounded by
//! the sealing schedule, not by the log.

use crate::seal::Seal;
use crate::verify_log::Finding;
use boxoffice_domain::StreamName;
use boxoffice_eventstore::{EventHash, Position};
use std::collections::{BTreeMap, VecDeque};

/// What is known of the seal before the next one.
enum Before {
    /// The log is read from its start: the next seal must be the first.
    Start,
    /// The log is read from a position: where the next seal's interval begins is unknown.
    Unknown,
    Seal {
        signed: bool,
        digest: EventHash,
    },
}

/// An event where the log has it: position, stream, version and stored hash.
type Placed = (Position, String, u64, Option<EventHash>);

/// Replays the log's split into seal intervals; see the module documentation.
pub struct Coverage {
    /// Only this stream's events are fed, and only its heads compared.
    only: Option<String>,
    /// Where the events fed begin (a partial export): a seal ending before it says nothing
    /// of where the next one's interval begins in what is fed.
    after: Option<Position>,
    before: Before,
    /// The events fed after the last signed seal's `through`, in log order.
    pending: VecDeque<Placed>,
    findings: Vec<Finding>,
    /// Signed seals whose `through` is the position of an event fed, and the findings about
    /// those whose `through` is not (see [`Coverage::outcome`]).
    placed: u64,
    unplaced: Vec<Finding>,
    /// What comparing the intervals of seals that end where no event is found: they count
    /// only if other seals are placed (the log is the one they were made on; its event at
    /// the seal's end was deleted or moved, and the events before it are still compared).
    unplaced_compared: Vec<Finding>,
}

/// What replaying the split found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// No signed seal ends at an event of this log: the seals were made on another log
    /// (one copied with `boxoffice events copy` keeps them, positions and all), so where
    /// events sit was not checked against them.
    pub foreign_seals: bool,
}

impl Coverage {
    /// For a log read from its first event.
    pub fn from_start(only: Option<String>) -> Self {
        Self::new(only, Before::Start)
    }

    /// For a log read after `after` (a partial export): the first seal that ends at or
    /// after it fixes where intervals begin, and is not compared itself.
    pub fn mid_log(after: Position) -> Self {
        Self {
            after: Some(after),
            ..Self::new(None, Before::Unknown)
        }
    }

    fn new(only: Option<String>, before: Before) -> Self {
        Self {
            only,
            after: None,
            before,
            pending: VecDeque::new(),
            findings: Vec::new(),
            placed: 0,
            unplaced: Vec::new(),
            unplaced_compared: Vec::new(),
        }
    }

    /// An event that is not a seal, in log order.
    pub fn event(
        &mut self,
        stream: &str,
        version: u64,
        hash: Option<EventHash>,
        position: Position,
    ) {
        self.pending
            .push_back((position, stream.to_owned(), version, hash));
    }

    /// Whether `seal` must be fed before an event at `position`: it is signed and stops
    /// before it, or it is not signed (its `through` says nothing, and it is passed over).
    pub fn due(seal: &Seal, signed: bool, position: Position) -> bool {
        !signed || seal.body.through < position
    }

    /// The next seal of the `seals` stream, once every event up to its `through` is fed;
    /// `signed`: its signature holds with the auditor's key.
    pub fn seal(&mut self, seal: &Seal, signed: bool) {
        let linked = signed
            && match &self.before {
                Before::Start => seal.body.previous.is_none(),
                Before::Unknown => false,
                Before::Seal { signed, digest } => *signed && seal.body.previous == Some(*digest),
            };
        let through = seal.body.through;
        let before_what_is_fed = self.after.is_some_and(|after| through < after);
        self.before = if before_what_is_fed {
            Before::Unknown
        } else {
            Before::Seal {
                signed,
                digest: seal.body.digest(),
            }
        };
        if !signed {
            return;
        }
        // Per stream in the interval: its first and last version there, and the last hash.
        let mut interval: BTreeMap<String, Span> = BTreeMap::new();
        let mut last = None;
        while self.pending.front().is_some_and(|(p, ..)| *p <= through) {
            if let Some((position, stream, version, hash)) = self.pending.pop_front() {
                last = Some(position);
                interval
                    .entry(stream)
                    .and_modify(|span| {
                        span.last = version;
                        span.hash = hash;
                    })
                    .or_insert(Span {
                        first: version,
                        last: version,
                        hash,
                    });
            }
        }
        // The sealer ends a seal at the last event it covers. With every event fed, an
        // interval that does not end there was made on another log, or that event moved.
        let placed = self.only.is_some() || before_what_is_fed || last == Some(through);
        if placed {
            self.placed += 1;
        } else {
            self.unplaced.push(Finding {
                stream: StreamName::Seals.to_string(),
                version: None,
                problem: format!(
                    "seal {} ends at {through}, where the log holds no event (the event there \
                     was moved, or the seal was made on another log)",
                    seal.body.number
                ),
            });
        }
        if linked {
            let before = self.findings.len();
            self.compare(seal, interval);
            if !placed {
                let found: Vec<Finding> = self.findings.drain(before..).collect();
                self.unplaced_compared.extend(found);
            }
        }
    }

    fn compare(&mut self, seal: &Seal, mut interval: BTreeMap<String, Span>) {
        let number = seal.body.number;
        let through = seal.body.through;
        for head in &seal.body.streams {
            if self.only.as_ref().is_some_and(|only| *only != head.stream) {
                continue;
            }
            let sealed = head.version;
            let finding = match interval.remove(&head.stream) {
                Some(span) if span.last == sealed && span.hash == Some(head.hash) => continue,
                Some(span) if span.last == sealed => Finding {
                    stream: head.stream.clone(),
                    version: Some(sealed),
                    problem: format!(
                        "differs from seal {number}: the stream was rewritten up to here and \
                         its chain recomputed"
                    ),
                },
                Some(Span { last, .. }) if last > sealed => Finding {
                    stream: head.stream.clone(),
                    version: Some(sealed + 1),
                    problem: format!(
                        "is in the log before the end of seal {number} ({through}), which \
                         fixed the stream at version {sealed} (inserted after the seal)"
                    ),
                },
                Some(Span { last, .. }) => Finding {
                    stream: head.stream.clone(),
                    version: Some(last + 1),
                    problem: format!(
                        "seal {number} fixed the stream at version {sealed} by {through}, \
                         but this version comes only after that (moved)"
                    ),
                },
                None => Finding {
                    stream: head.stream.clone(),
                    version: Some(sealed),
                    problem: format!(
                        "seal {number} fixed the stream here, but none of its events comes \
                         between the seal before it and {through} (moved or cut)"
                    ),
                },
            };
            self.findings.push(finding);
        }
        for (stream, Span { first, .. }) in interval {
            self.findings.push(Finding {
                stream,
                version: Some(first),
                problem: format!(
                    "is in the log before the end of seal {number} ({through}), but no seal \
                     names it there (inserted after the seal)"
                ),
            });
        }
    }

    /// What the comparisons found, at most one per stream per seal, in the order found;
    /// and the seals that end where no event is, with what comparing their intervals found,
    /// unless none does (then the seals were made on another log, and nothing is compared).
    pub fn outcome(self) -> Outcome {
        if self.placed == 0 && !self.unplaced.is_empty() {
            return Outcome {
                findings: Vec::new(),
                foreign_seals: true,
            };
        }
        let mut findings = self.findings;
        findings.extend(self.unplaced_compared);
        findings.extend(self.unplaced);
        Outcome {
            findings,
            foreign_seals: false,
        }
    }
}

/// A stream's events within one seal's interval.
struct Span {
    first: u64,
    last: u64,
    hash: Option<EventHash>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{SealBody, SealedHead, SigningKey};

    fn seal(
        key: &SigningKey,
        previous: Option<&Seal>,
        through: u64,
        heads: &[(&str, u64)],
    ) -> Seal {
        key.seal(SealBody {
            number: previous.map_or(1, |p| p.body.number + 1),
            sealed_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            through: Position::new(through, through),
            previous: previous.map(|p| p.body.digest()),
            streams: heads
                .iter()
                .map(|(stream, version)| SealedHead {
                    stream: (*stream).into(),
                    version: *version,
                    hash: EventHash([1; 32]),
                })
                .collect(),
            public_key: key.public_key().to_hex(),
        })
    }

    /// Feeds `events` (stream, version, position) and the seals as verify-log does.
    fn walk(coverage: &mut Coverage, events: &[(&str, u64, u64)], seals: &[(Seal, bool)]) {
        walk_hashed(coverage, events, seals, |_| EventHash([1; 32]));
    }

    fn walk_hashed(
        coverage: &mut Coverage,
        events: &[(&str, u64, u64)],
        seals: &[(Seal, bool)],
        hash: impl Fn(&str) -> EventHash,
    ) {
        let mut seals = seals.iter().peekable();
        for (stream, version, at) in events {
            let position = Position::new(*at, *at);
            while let Some((seal, signed)) =
                seals.next_if(|(s, signed)| Coverage::due(s, *signed, position))
            {
                coverage.seal(seal, *signed);
            }
            coverage.event(stream, *version, Some(hash(stream)), position);
        }
        for (seal, signed) in seals {
            coverage.seal(seal, *signed);
        }
    }

    fn said(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(ToString::to_string).collect()
    }

    const LOG: [(&str, u64, u64); 5] = [
        ("a", 0, 1),
        ("b", 0, 2),
        ("a", 1, 3),
        ("b", 1, 5),
        ("c", 0, 6),
    ];

    fn honest(key: &SigningKey) -> Vec<(Seal, bool)> {
        let first = seal(key, None, 3, &[("a", 1), ("b", 0)]);
        let second = seal(key, Some(&first), 6, &[("b", 1), ("c", 0)]);
        vec![(first, true), (second, true)]
    }

    #[test]
    fn a_log_split_as_its_seals_say_is_covered() {
        let key = SigningKey::development();
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &LOG, &honest(&key));
        assert_eq!(said(&coverage.outcome().findings), Vec::<String>::new());
    }

    #[test]
    fn a_stream_inserted_before_a_seal_is_found_at_its_first_version() {
        let key = SigningKey::development();
        let mut log = LOG.to_vec();
        log.insert(1, ("inserted", 0, 1));
        log.insert(2, ("inserted", 1, 2));
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &log, &honest(&key));
        assert_eq!(
            said(&coverage.outcome().findings),
            [
                "inserted: version 0: is in the log before the end of seal 1 (3-3), but no seal \
              names it there (inserted after the seal)"
            ]
        );
    }

    #[test]
    fn events_added_to_or_moved_out_of_a_sealed_interval_are_found() {
        let key = SigningKey::development();
        // b's version 1 moved from before seal 2's end to after it...
        let moved = [
            ("a", 0, 1),
            ("b", 0, 2),
            ("a", 1, 3),
            ("c", 0, 6),
            ("b", 1, 7),
        ];
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &moved, &honest(&key));
        assert_eq!(
            said(&coverage.outcome().findings),
            [
                "b: version 1: seal 2 fixed the stream here, but none of its events comes \
                 between the seal before it and 6-6 (moved or cut)"
            ]
        );
        // ...and a's version 2 added into the first interval.
        let added = [
            ("a", 0, 1),
            ("b", 0, 2),
            ("a", 1, 3),
            ("a", 2, 3),
            ("b", 1, 5),
            ("c", 0, 6),
        ];
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &added, &honest(&key));
        let found = said(&coverage.outcome().findings);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("a: version 2: is in the log before the end of seal 1"));
    }

    #[test]
    fn a_partial_export_compares_no_interval_that_begins_before_it() {
        let key = SigningKey::development();
        let first = seal(&key, None, 3, &[("a", 0)]);
        let second = seal(&key, Some(&first), 6, &[("x", 0), ("b", 0)]);
        // The log: a0@1, x0@4, seal 1 written @5, b0@6, seal 2 @7; the export is after 4.
        let mut coverage = Coverage::mid_log(Position::new(4, 4));
        coverage.seal(&first, true);
        coverage.event("b", 0, Some(EventHash([1; 32])), Position::new(6, 6));
        coverage.seal(&second, true);
        let outcome = coverage.outcome();
        assert_eq!(said(&outcome.findings), Vec::<String>::new());
        assert!(!outcome.foreign_seals);
    }

    #[test]
    fn seals_made_on_another_log_are_named_as_such_and_compare_nothing() {
        let key = SigningKey::development();
        // The same events, copied to a log where they sit at other positions.
        let copied: Vec<_> = LOG.iter().map(|(s, v, at)| (*s, *v, at * 10 + 1)).collect();
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &copied, &honest(&key));
        let outcome = coverage.outcome();
        assert_eq!(said(&outcome.findings), Vec::<String>::new());
        assert!(outcome.foreign_seals);
        // In the log the seals were made on, an event moved off a seal's end is found.
        let mut moved = LOG.to_vec();
        moved[4].2 = 7;
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &moved, &honest(&key));
        let outcome = coverage.outcome();
        assert!(!outcome.foreign_seals);
        assert!(
            said(&outcome.findings)
                .iter()
                .any(|f| f.starts_with("seals: seal 2 ends at 6-6, where the log holds no event")),
            "{:?}",
            said(&outcome.findings)
        );
    }

    #[test]
    fn a_head_with_another_hash_than_its_seal_gives_is_found() {
        let key = SigningKey::development();
        let mut coverage = Coverage::from_start(None);
        // Stream a rewritten and its chain recomputed: another head hash.
        walk_hashed(&mut coverage, &LOG, &honest(&key), |stream| {
            EventHash(if stream == "a" { [2; 32] } else { [1; 32] })
        });
        assert_eq!(
            said(&coverage.outcome().findings),
            [
                "a: version 1: differs from seal 1: the stream was rewritten up to here and its \
              chain recomputed"
            ]
        );
    }

    #[test]
    fn intervals_whose_ends_no_signature_vouches_for_are_passed_over() {
        let key = SigningKey::development();
        let other = SigningKey::from_hex(&"22".repeat(32)).unwrap();
        let first = seal(&key, None, 3, &[("a", 1), ("b", 0)]);
        // The second seal forged: with the wrong key, and a through that swallows the rest.
        let forged = seal(&other, Some(&first), 99, &[("a", 1)]);
        let third = seal(&key, Some(&forged), 6, &[("b", 1), ("c", 0)]);
        let mut log = LOG.to_vec();
        log.insert(3, ("inserted", 0, 4));
        let mut coverage = Coverage::from_start(None);
        walk(
            &mut coverage,
            &log,
            &[(first, true), (forged, false), (third, true)],
        );
        // The third seal's interval began where nobody signed: it is not compared.
        assert_eq!(said(&coverage.outcome().findings), Vec::<String>::new());
    }

    #[test]
    fn one_stream_alone_compares_only_its_heads() {
        let key = SigningKey::development();
        let only_a: Vec<_> = LOG.iter().copied().filter(|(s, _, _)| *s == "a").collect();
        let mut coverage = Coverage::from_start(Some("a".into()));
        walk(&mut coverage, &only_a, &honest(&key));
        assert_eq!(said(&coverage.outcome().findings), Vec::<String>::new());
        // From the middle of the log, the first seal's interval is not known.
        let mut coverage = Coverage::mid_log(Position::new(1, 1));
        walk(&mut coverage, &LOG[1..], &honest(&key));
        assert_eq!(said(&coverage.outcome().findings), Vec::<String>::new());
    }

    /// A seal whose last event was deleted cannot be placed, but the log is the one it was
    /// made on (other seals are placed): a stream slipped into its interval is still found.
    #[test]
    fn a_stream_slipped_before_a_seal_whose_last_event_was_deleted_is_found() {
        let key = SigningKey::development();
        let mut log = LOG.to_vec();
        // c's version 0 (seal 2's last event) is deleted; a stream is slipped in before it.
        log.remove(4);
        log.insert(3, ("slipped", 0, 4));
        let mut coverage = Coverage::from_start(None);
        walk(&mut coverage, &log, &honest(&key));
        let outcome = coverage.outcome();
        assert!(!outcome.foreign_seals);
        let found = said(&outcome.findings);
        assert!(
            found.iter().any(
                |f| f.starts_with("slipped: version 0: is in the log before the end of seal 2")
            ),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("seal 2 ends at 6-6, where the log holds no event")),
            "{found:?}"
        );
    }
}
