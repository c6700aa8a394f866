//! The end-to-end tests' shared kit, so that each test reads as the rule it checks:
//! - [`TestDatabase`]: a private database per test, dropped afterwards;
//! - [`server`]: the real router in this process, or the real binary, with an HTTP client;
//! - [`requests`]: one typed method per request the tests make (`api.hold_seats(..)`);
//! - [`reply`]: what came back, and `expect_problem` / `expect_created` on it;
//! - [`given`]: the steps that set a scene (a scheduled show), asserting each succeeded;
//! - [`wait`]: waiting for the server's own work, by condition and never by the clock;
//! - [`fixtures`]: the test data (shows, halls, movies) in one place;
//! - [`load`]: a command load, and the checks on the log that must hold after faults;
//! - [`read_models`]: the projectors caught up, and the read models equal to a rebuild;
//! - [`receiver`]: a webhook receiver on loopback that can be killed and brought back.
//!
//! Tests find PostgreSQL through `DATABASE_URL` (any database on the cluster; `scripts/test`
//! sets it), falling back to `postgres://postgres@127.0.0.1:5432/postgres`.

pub mod given;
pub mod load;
pub mod read_models;
pub mod receiver;
pub mod reply;
pub mod requests;
pub mod server;
pub mod wait;

use boxoffice_eventstore::postgres::with_database;
use std::str::FromStr;
use uuid::Uuid;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of its own for one test: created empty, dropped (with its connections) when
/// the value goes out of scope, so tests run in parallel and re-runs start clean.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let name = format!("boxoffice_test_{}", Uuid::new_v4().simple());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let url = with_database(&admin_url, &name);
        Self {
            name,
            url,
            admin_url,
        }
    }

    pub fn config(&self) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(&self.url).expect("a valid database URL")
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// A connection to the cluster's administrative database (not this one), for doing
    /// things to this database from outside: cutting its connections, closing it.
    pub async fn admin(&self) -> tokio_postgres::Client {
        connect(&self.admin_url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = connect(&admin_url).await;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to PostgreSQL at {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// Request bodies the tests share.
pub mod fixtures {
    use serde_json::{json, Value};

    /// An amount of Chinese yuan as the API writes money: `cny(4500)` is 45.00 CNY.
    pub fn cny(amount_minor: i64) -> Value {
        json!({ "amount_minor": amount_minor, "currency": "CNY" })
    }

    /// A show starting in two hours: `rows` rows (A, B, ...) of `per_row` seats; row A is
    /// premium (80.00 CNY), the rest regular (45.00 CNY).
    pub fn show(rows: usize, per_row: u32) -> Value {
        show_starting(
            rows,
            per_row,
            chrono::Utc::now() + chrono::Duration::hours(2),
        )
    }

    /// [`show`] under a cinema's refund policy: in full until `full_refund_until_minutes`
    /// before the start, then less `fee_percent`.
    pub fn show_with_refund_policy(
        rows: usize,
        per_row: u32,
        full_refund_until_minutes: u32,
        fee_percent: u32,
    ) -> Value {
        let mut show = show(rows, per_row);
        show["refund_policy"] = json!({
            "full_refund_until_minutes": full_refund_until_minutes,
            "fee_percent": fee_percent,
        });
        show
    }

    /// A show of one row of `per_row` regular seats, B1 to B{per_row}: every seat alike.
    pub fn one_regular_row(per_row: u32) -> Value {
        let mut show = show(2, per_row);
        let row_b: Vec<Value> = show["seats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|seat| seat["row"] == "B")
            .cloned()
            .collect();
        show["seats"] = json!(row_b);
        show
    }

    /// A show scheduled from the catalogue: `movie_id` in `hall_id` at `starts_at` (RFC 3339).
    pub fn show_in_hall(movie_id: &str, hall_id: &str, starts_at: &str) -> Value {
        json!({ "movie_id": movie_id, "hall_id": hall_id, "starts_at": starts_at })
    }

    /// A hall of two rows: A is `RRRR_RRRR` (an aisle after four regular seats), B is
    /// `WC__PPPP` (a wheelchair space and its companion seat, a gap, four premium seats);
    /// 45.00 regular, 68.00 premium, 30.00 accessible.
    pub fn hall(name: &str) -> Value {
        json!({
            "name": name,
            "layout": {"rows": [
                {"label": "A", "cells": "RRRR_RRRR"},
                {"label": "B", "cells": "WC__PPPP"}
            ]},
            "prices": {
                "regular": cny(4500),
                "premium": cny(6800),
                "accessible": cny(3000)
            }
        })
    }

    /// A hall of one row A of regular seats (`cells` such as `RRRR`), at 50.00.
    pub fn hall_of_one_row(name: &str, cells: &str) -> Value {
        json!({
            "name": name,
            "layout": {"rows": [{"label": "A", "cells": cells}]},
            "prices": {"regular": cny(5000)}
        })
    }

    /// A movie of 120 minutes, released 2026-01-01, rated PG-13, from China.
    pub fn movie(
        title: &str,
        original_title: Option<&str>,
        description: &str,
        genres: &[&str],
        language: &str,
    ) -> Value {
        json!({
            "title": title,
            "original_title": original_title,
            "description": description,
            "duration_minutes": 120,
            "genres": genres,
            "language": language,
            "country": "CN",
            "release_date": "2026-01-01",
            "rating": "PG-13"
        })
    }

    pub fn show_starting(
        rows: usize,
        per_row: u32,
        starts_at: chrono::DateTime<chrono::Utc>,
    ) -> Value {
        let mut seats = Vec::new();
        for r in 0..rows {
            let row = char::from(b'A' + r as u8).to_string();
            for n in 1..=per_row {
                seats.push(json!({
                    "seat_id": format!("{row}{n}"),
                    "row": row,
                    "number": n,
                    "category": if r == 0 { "premium" } else { "regular" },
                }));
            }
        }
        json!({
            "movie_id": uuid::Uuid::new_v4(),
            "title": "流浪地球 2 (The Wandering Earth II)",
            "starts_at": starts_at.to_rfc3339(),
            "ends_at": (starts_at + chrono::Duration::minutes(173)).to_rfc3339(),
            "seats": seats,
            "prices": {
                "premium": { "amount_minor": 8000, "currency": "CNY" },
                "regular": { "amount_minor": 4500, "currency": "CNY" },
            },
        })
    }
}
