//! The server describing and measuring itself, and its limits: the OpenAPI document covers
//! every route, /docs and /metrics are served, slow and excess requests get 503 problems.

use boxoffice_commands::SystemClock;
use boxoffice_tests::fixtures;
use boxoffice_tests::server::TestServer;
use boxoffice_tests::wait::eventually;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The source files under `dir`, in its folders too.
fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Handler functions in api/src/routes, by name, with whether `#[utoipa::path]` precedes them.
fn handlers_in_source() -> Vec<(String, bool)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/routes");
    let mut handlers = Vec::new();
    for path in sources(&dir) {
        let source = std::fs::read_to_string(&path).expect("a source file");
        let lines: Vec<&str> = source.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix("pub async fn ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap_or_default().to_owned();
            // Walk up over the attribute block and doc comments to the `#[utoipa::path(`.
            let described = lines[..index]
                .iter()
                .rev()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with('}'))
                .any(|l| l.starts_with("#[utoipa::path("));
            handlers.push((name, described));
        }
    }
    handlers
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let server = TestServer::start().await;
    let api = &server.api;
    let document = api.request(Method::GET, "/openapi.json").await;
    let document = document.expect_ok();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));

    // Every handler in the source is described, and routed only through `routes!`.
    let operation_ids: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let handlers = handlers_in_source();
    assert!(handlers.len() >= 14, "found only {handlers:?}");
    for (name, described) in &handlers {
        assert!(described, "handler {name} has no #[utoipa::path]");
        assert!(
            operation_ids.contains(name),
            "handler {name} is not in the document"
        );
    }
    let router_source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/routes/mod.rs"),
    )
    .unwrap();
    assert!(
        !router_source.contains(".route("),
        "a route registered with .route() would be missing from the document"
    );

    // Every documented operation is served (not the router's 404 or 405).
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{stream}", "show-00000000-0000-0000-0000-000000000000")
                .replace("{show_id}", "00000000-0000-0000-0000-000000000001")
                .replace("{hold_id}", "00000000-0000-0000-0000-000000000002")
                .replace("{order_id}", "00000000-0000-0000-0000-000000000003");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = api.request(method.clone(), concrete).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_ne!(reply.code(), "not_found", "{method} {path}: {reply:?}");
        }
    }

    // Every problem code the API can answer with is listed.
    let codes = &document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"];
    for code in [
        "seats_unavailable",
        "hold_expired",
        "validation_failed",
        "overloaded",
    ] {
        assert!(
            codes.as_array().unwrap().contains(&json!(code)),
            "{code} missing"
        );
    }

    let docs = api.request(Method::GET, "/docs").await;
    docs.expect_ok();
    assert!(docs
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn metrics_cover_requests_commands_writers_projections_and_the_pool() {
    let server = TestServer::start().await;
    let api = &server.api;
    let show = api.scheduled_show(&fixtures::show(2, 5)).await;
    api.hold_seats(&api.customer("alice"), &show, &["B1"])
        .await
        .expect_created();
    api.hold_seats(&api.customer("bob"), &show, &["B1"])
        .await
        .expect_problem(409, "seats_unavailable");

    let reply = api
        .http()
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = reply.text().await.unwrap();
    for expected in [
        r#"boxoffice_http_requests_total{method="POST",route="/v1/shows/{show_id}/holds",status="201"}"#,
        r#"boxoffice_http_request_duration_seconds_bucket{method="POST",route="/v1/shows/{show_id}/holds",status="409","#,
        r#"boxoffice_commands_total{command="HoldSeats",outcome="accepted",code=""}"#,
        r#"boxoffice_commands_total{command="HoldSeats",outcome="rejected",code="seats_unavailable"}"#,
        "boxoffice_writer_batch_size_bucket",
        "boxoffice_append_duration_seconds_bucket",
        r#"boxoffice_projection_lag_events{projector="seat_map"}"#,
        r#"boxoffice_projection_lag_seconds{projector="sales"}"#,
        "boxoffice_active_holds",
        "boxoffice_active_writers",
        r#"boxoffice_db_pool_connections{state="max"}"#,
        "boxoffice_database_up 1",
    ] {
        assert!(
            text.contains(expected),
            "/metrics lacks {expected}:\n{text}"
        );
    }
}

/// A log position as the API writes it (`commit-prepare`), in log order.
fn position(text: &str) -> (u64, u64) {
    let (commit, prepare) = text
        .split_once('-')
        .unwrap_or_else(|| panic!("not a position: {text}"));
    (commit.parse().unwrap(), prepare.parse().unwrap())
}

#[tokio::test]
async fn operators_read_every_projectors_progress_and_customers_do_not() {
    let server = TestServer::start().await;
    let api = &server.api;
    let created = api
        .create_movie(
            &api.staff(),
            &fixtures::movie("流浪地球3", None, "地球流浪。", &["sci-fi"], "zh"),
        )
        .await;
    created.expect_created();
    let movie_at = position(created.position());

    // The catalogue's projector reaches the new movie and says it has nothing left to apply.
    let analyst = api.analyst();
    let progress = eventually("the catalogue projector past the new movie", async || {
        let reply = api
            .request(Method::GET, "/v1/projections")
            .token(&analyst)
            .await;
        let catalogue = reply.expect_ok()["projectors"]
            .as_array()
            .unwrap_or_else(|| panic!("no projectors: {reply}"))
            .iter()
            .find(|p| p["projector"] == "catalogue")
            .cloned();
        match catalogue {
            Some(c)
                if position(c["position"].as_str().unwrap()) >= movie_at
                    && c["lag_events"] == 0 =>
            {
                Ok(reply)
            }
            _ => Err(reply),
        }
    })
    .await;
    let projectors = progress.body["projectors"].as_array().unwrap();
    let names: Vec<&str> = projectors
        .iter()
        .map(|p| p["projector"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "by name");
    for known in [
        "actions",
        "box_office",
        "catalogue",
        "order_history",
        "sales",
        "seat_map",
        "tickets",
        "waitlist",
    ] {
        assert!(names.contains(&known), "{known} missing from {progress}");
    }
    for p in projectors {
        position(p["position"].as_str().unwrap());
        assert!(p["events_applied"].as_i64().unwrap() >= 0, "{p}");
        assert!(p["lag_events"].as_u64().is_some(), "{p}");
        assert!(p["lag_seconds"].as_f64().unwrap() >= 0.0, "{p}");
        chrono::DateTime::parse_from_rfc3339(p["updated_at"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("updated_at is not a time ({e}): {p}"));
    }
    let catalogue = projectors
        .iter()
        .find(|p| p["projector"] == "catalogue")
        .unwrap();
    assert!(
        catalogue["events_applied"].as_i64().unwrap() >= 1,
        "{catalogue}"
    );
    assert_eq!(catalogue["lag_seconds"], 0.0, "{catalogue}");

    // Staff (of every cinema), auditors and admins read it too; nobody else does.
    for token in [api.staff(), api.auditor(), api.admin()] {
        api.request(Method::GET, "/v1/projections")
            .token(&token)
            .await
            .expect_ok();
    }
    api.request(Method::GET, "/v1/projections")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    api.request(Method::GET, "/v1/projections")
        .token(&api.customer("alice"))
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
    let one_cinema = api.token_named("staff-of-one", &[format!("staff:{}", uuid::Uuid::new_v4())]);
    api.request(Method::GET, "/v1/projections")
        .token(&one_cinema)
        .await
        .expect_problem(StatusCode::FORBIDDEN, "forbidden");
}

/// A show whose statuses are projected but whose full seat map was never read (so a seat-map
/// request must query the database), and a transaction holding a lock that query needs.
async fn seat_map_query_blocked(server: &TestServer) -> (String, tokio_postgres::Client) {
    let api = &server.api;
    let scheduled = api.schedule_show(&api.staff(), &fixtures::show(1, 4)).await;
    let show = scheduled.created("show_id");
    // On a busy machine the projector may take longer than a short request timeout.
    eventually("the show is projected", async || {
        let statuses = api
            .seat_statuses(&show)
            .min_position(scheduled.position())
            .await;
        match statuses.status {
            StatusCode::OK => Ok(()),
            _ => Err(statuses),
        }
    })
    .await;
    let blocker = server.db.client().await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE seat_map_shows IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    (show, blocker)
}

/// Waits until some query of the server's database waits for a lock.
async fn until_a_query_waits_for_a_lock(server: &TestServer) {
    let admin = server.db.admin().await;
    eventually("a query waits for the lock", async || {
        let waiting: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
                &[&server.db.name],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            Ok(())
        } else {
            Err("none")
        }
    })
    .await;
}

#[tokio::test]
async fn a_request_over_its_time_gets_a_503_problem_with_retry_after() {
    let server = TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.limits.request_timeout = Duration::from_millis(500);
    })
    .await;
    let (show, blocker) = seat_map_query_blocked(&server).await;

    // The lock is held until the test lets go: the request can only run out of time.
    let slow = server.api.seat_map(&show).await;
    slow.expect_problem(503, "request_timeout");
    assert_eq!(slow.header("retry-after"), Some("1"));
    blocker.batch_execute("ROLLBACK").await.unwrap();

    // Other routes have limits of their own, and the route recovers.
    server
        .api
        .request(Method::GET, "/healthz")
        .await
        .expect_ok();
    eventually("the seat map recovers", async || {
        let map = server.api.seat_map(&show).await;
        match map.status {
            StatusCode::OK => Ok(()),
            _ => Err(map),
        }
    })
    .await;
}

#[tokio::test]
async fn a_request_over_the_routes_limit_in_flight_gets_a_503_problem_with_retry_after() {
    let server = TestServer::start_configured(Arc::new(SystemClock), |config| {
        config.settings.limits.request_timeout = Duration::from_secs(120);
        config.settings.limits.queries_in_flight = 1;
    })
    .await;
    let (show, blocker) = seat_map_query_blocked(&server).await;
    let slow = {
        let (api, show) = (server.api.clone(), show.clone());
        tokio::spawn(async move { api.seat_map(&show).await })
    };
    // While that one waits for the lock, a second seat-map request is over the limit of one.
    until_a_query_waits_for_a_lock(&server).await;
    let excess = server.api.seat_map(&show).await;
    excess.expect_problem(503, "overloaded");
    assert_eq!(excess.header("retry-after"), Some("1"));

    blocker.batch_execute("ROLLBACK").await.unwrap();
    slow.await.unwrap().expect_ok();
    server
        .api
        .request(Method::GET, "/healthz")
        .await
        .expect_ok();
    server.api.seat_map(&show).await.expect_ok();
}
