//! Prometheus metrics: a process-wide recorder (the `metrics` facade, so the writer and the
//! projectors record without knowing about HTTP), request metrics from a middleware, and
//! gauges read at scrape time.

use crate::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Commands per writer batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// Shows' batches per group commit.
const GROUP_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// The recorder, installed on first use (once per process; servers in one test process
/// share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH_BUCKETS)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("boxoffice_group_commit_streams".into()),
                    GROUP_BUCKETS,
                )
            })
            .expect("bucket lists are not empty");
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (a host program's): keep ours private.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// Counts and times every request by method, route template and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("boxoffice_http_requests_total", &labels).increment(1);
    metrics::histogram!("boxoffice_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Sets the gauges that are cheaper to read now than to keep up to date, then renders.
pub async fn render(state: &AppState) -> String {
    metrics::gauge!("boxoffice_active_writers").set(state.writers.active_writers() as f64);
    metrics::gauge!("boxoffice_live_streams").set(state.watchers.open() as f64);
    let pool = state.pool.status();
    metrics::gauge!("boxoffice_db_pool_connections", "state" => "max").set(pool.max_size as f64);
    metrics::gauge!("boxoffice_db_pool_connections", "state" => "open").set(pool.size as f64);
    metrics::gauge!("boxoffice_db_pool_connections", "state" => "idle").set(pool.available as f64);
    metrics::gauge!("boxoffice_db_pool_waiting").set(pool.waiting as f64);
    let up = match read_gauges(state).await {
        Ok(()) => 1.0,
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the database gauges");
            0.0
        }
    };
    metrics::gauge!("boxoffice_database_up").set(up);
    handle().render()
}

async fn read_gauges(state: &AppState) -> Result<(), String> {
    let statuses = boxoffice_projections::status(state.log.as_ref(), &state.pool)
        .await
        .map_err(|e| e.to_string())?;
    for status in statuses {
        let name = status.name;
        metrics::gauge!("boxoffice_projection_lag_events", "projector" => name.clone())
            .set(status.lag_events as f64);
        metrics::gauge!("boxoffice_projection_lag_seconds", "projector" => name)
            .set(status.lag_seconds);
    }
    let client = state.pool.get().await.map_err(|e| e.to_string())?;
    let active = boxoffice_projections::seat_map::active_holds(&client)
        .await
        .map_err(|e| e.to_string())?;
    metrics::gauge!("boxoffice_active_holds").set(active as f64);
    let now = state.waiting_room.clock.now();
    let lines = crate::waiting_room::store::gauges(&client, now)
        .await
        .map_err(|e| e.to_string())?;
    for line in lines {
        let onsale = line.onsale_id.to_string();
        metrics::gauge!("boxoffice_onsale_queue_length", "onsale" => onsale.clone())
            .set(line.waiting as f64);
        metrics::gauge!("boxoffice_onsale_admitted_last_minute", "onsale" => onsale.clone())
            .set(line.admitted_last_minute as f64);
        if let Some(median) = line.median_wait_seconds {
            metrics::gauge!("boxoffice_onsale_median_wait_seconds", "onsale" => onsale).set(median);
        }
    }
    Ok(())
}
