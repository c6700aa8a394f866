//! Discovery answers shared between clients. A discovery answer (cities, what is showing, a
//! movie, its shows, a cinema's schedule, a search) is a function of its URI, the positions
//! at which the catalogue's and the seat maps' ETag-bearing answers last changed, and the
//! minute: exactly what its ETag is made of. So an answer computed for one client is the
//! answer for every other client that asks the same URI while its ETag is the same, as a
//! shared HTTP cache in front of the server would reuse it. When a blockbuster goes on sale,
//! thousands ask the same few searches; each is computed once per change of the catalogue or
//! of a show's availability band, not once per client.
//!
//! What is kept is one generation: the answers of the current positions and minute. The
//! first answer of a new generation drops the old one whole (none of its ETags can come
//! back: positions only move forward, and so does the minute). The bodies kept are bounded
//! in bytes; past the bound, answers are computed and not kept. A request that says
//! `Cache-Control: no-cache` is computed afresh (and its answer kept).

use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Answers {
    budget: usize,
    kept: Mutex<Generation>,
}

#[derive(Default)]
struct Generation {
    /// The positions and minute the answers were computed at.
    key: String,
    bytes: usize,
    bodies: HashMap<String, Bytes>,
}

impl Answers {
    /// Keeps up to `budget` bytes of answer bodies (0: none).
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            kept: Mutex::new(Generation::default()),
        }
    }

    /// The answer kept for the ETag `tag` of generation `key`.
    pub fn get(&self, key: &str, tag: &str) -> Option<Bytes> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match kept.key == key {
            true => kept.bodies.get(tag).cloned(),
            false => None,
        }
    }

    /// Keeps `body` as the answer for `tag` of generation `key`, if it fits.
    pub fn put(&self, key: &str, tag: &str, body: &Bytes) {
        if body.len() > self.budget {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.key != key {
            *kept = Generation {
                key: key.to_owned(),
                ..Generation::default()
            };
        }
        if kept.bytes + body.len() > self.budget || kept.bodies.contains_key(tag) {
            return;
        }
        kept.bytes += body.len();
        kept.bodies.insert(tag.to_owned(), body.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_reused_only_in_its_generation_and_within_the_budget() {
        let answers = Answers::new(10);
        let body = Bytes::from_static(b"12345");
        answers.put("g1", "a", &body);
        assert_eq!(answers.get("g1", "a"), Some(body.clone()));
        assert_eq!(answers.get("g1", "b"), None);
        assert_eq!(answers.get("g2", "a"), None);
        answers.put("g1", "b", &Bytes::from_static(b"67890"));
        // Over the budget: computed, not kept.
        answers.put("g1", "c", &Bytes::from_static(b"x"));
        assert_eq!(answers.get("g1", "c"), None);
        // A new generation drops the old one whole.
        answers.put("g2", "c", &Bytes::from_static(b"x"));
        assert_eq!(answers.get("g1", "a"), None);
        assert_eq!(answers.get("g2", "c"), Some(Bytes::from_static(b"x")));
        // Nothing is kept with no budget.
        let none = Answers::new(0);
        none.put("g1", "a", &body);
        assert_eq!(none.get("g1", "a"), None);
    }
}
