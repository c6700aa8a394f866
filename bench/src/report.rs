//! The result: a table on stdout, a JSON file, and the targets with whether each was met.

use crate::baseline::BaselineResult;
use crate::check::Invariants;
use crate::generate::{MemoryResult, RebuildResult};
use crate::workload::{BookingResult, CeilingResult};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    #[serde(flatten)]
    pub result: BookingResult,
    pub peak_rss_mib: f64,
    pub shows_on_sale: usize,
    pub invariants: Invariants,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub wanted: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub postgres: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub at: chrono::DateTime<chrono::Utc>,
    pub machine: Machine,
    pub clients: usize,
    pub seconds: u64,
    pub smoke: bool,
    pub hot: Option<Booking>,
    pub light: Option<Booking>,
    pub healthz: Option<CeilingResult>,
    pub baseline: Option<BaselineResult>,
    pub spread: Option<Booking>,
    pub spread_baseline: Option<BaselineResult>,
    pub two_process: Option<Booking>,
    pub two_spread: Option<Booking>,
    pub memory: Option<MemoryResult>,
    pub rebuild: Option<RebuildResult>,
    pub search: Option<crate::search::SearchResult>,
    pub audit: Option<crate::audit::AuditResult>,
    pub reports: Option<crate::reports::ReportsResult>,
    pub onsale: Option<crate::onsale::OnSaleResult>,
    pub targets: Vec<Target>,
}

impl Report {
    pub async fn new(
        clients: usize,
        seconds: u64,
        smoke: bool,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        let client = crate::server::connect(database_url).await?;
        let postgres: String = client.query_one("SHOW server_version", &[]).await?.get(0);
        Ok(Self {
            at: chrono::Utc::now(),
            machine: Machine {
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
                postgres,
            },
            clients,
            seconds,
            smoke,
            hot: None,
            light: None,
            healthz: None,
            baseline: None,
            spread: None,
            spread_baseline: None,
            two_process: None,
            two_spread: None,
            memory: None,
            rebuild: None,
            search: None,
            audit: None,
            reports: None,
            onsale: None,
            targets: Vec::new(),
        })
    }

    fn evaluate(&mut self) {
        let mut targets = Vec::new();
        let mut target = |name, wanted: String, measured: String, met| {
            targets.push(Target {
                name,
                wanted,
                measured,
                met,
            })
        };
        if let (Some(hot), Some(base)) = (&self.hot, &self.baseline) {
            let answered = hot.result.holds_answered_per_s / base.attempts_per_s;
            target(
                "hot: holds answered/s vs baseline transactions/s",
                ">= 3.0x".into(),
                format!("{answered:.2}x"),
                answered >= 3.0,
            );
            let succeeded = hot.result.holds_succeeded_per_s / base.bookings_per_s;
            target(
                "hot: holds succeeded/s vs baseline bookings/s",
                ">= 2.0x".into(),
                format!("{succeeded:.2}x"),
                succeeded >= 2.0,
            );
        }
        if let (Some(spread), Some(base)) = (&self.spread, &self.spread_baseline) {
            let answered = spread.result.holds_answered_per_s / base.attempts_per_s;
            target(
                "spread: holds answered/s vs spread baseline transactions/s",
                ">= 3.0x".into(),
                format!("{answered:.2}x"),
                answered >= 3.0,
            );
        }
        for (name, p99_name, one, two, wanted) in [
            (
                "two processes vs one: hot holds answered/s",
                "two processes vs one: hot hold p99",
                &self.hot,
                &self.two_process,
                0.8,
            ),
            (
                "two processes vs one: spread holds answered/s",
                "two processes vs one: spread hold p99",
                &self.spread,
                &self.two_spread,
                1.0,
            ),
        ] {
            if let (Some(one), Some(two)) = (one, two) {
                let ratio = two.result.holds_answered_per_s / one.result.holds_answered_per_s;
                target(
                    name,
                    format!(">= {wanted:.1}x"),
                    format!("{ratio:.2}x"),
                    ratio >= wanted,
                );
                let p99 = two.result.hold.p99_ms / one.result.hold.p99_ms;
                target(
                    p99_name,
                    "<= 4.0x".into(),
                    format!(
                        "{p99:.2}x ({:.1} / {:.1} ms)",
                        two.result.hold.p99_ms, one.result.hold.p99_ms
                    ),
                    p99 <= 4.0,
                );
            }
        }
        for (name, run) in [
            ("hot: oversold seats", &self.hot),
            ("spread: oversold seats", &self.spread),
            ("two processes: oversold seats", &self.two_process),
            ("two processes, spread: oversold seats", &self.two_spread),
        ] {
            if let Some(run) = run {
                let bad = run.invariants.oversold_seats + run.invariants.seats_confirmed_twice;
                target(name, "0".into(), bad.to_string(), run.invariants.hold());
            }
        }
        if let (Some(hot), Some(healthz)) = (&self.hot, &self.healthz) {
            let r = &hot.result;
            let ceiling = healthz.latency.p99_ms;
            for (name, p99) in [
                ("hot: hold p99 vs /healthz p99", r.hold.p99_ms),
                ("hot: status read p99 vs /healthz p99", r.seat_map.p99_ms),
                (
                    "hot: full seat map p99 vs /healthz p99",
                    r.full_seat_map.p99_ms,
                ),
            ] {
                target(
                    name,
                    format!("<= 2.0x ({:.1} ms)", 2.0 * ceiling),
                    format!("{:.2}x ({p99:.1} ms)", p99 / ceiling),
                    p99 <= 2.0 * ceiling,
                );
            }
        }
        for (name, run) in [
            ("hot: projection lag p99", &self.hot),
            ("spread: projection lag p99", &self.spread),
        ] {
            if let Some(run) = run {
                let p99 = run.result.projection_lag.p99_ms;
                target(
                    name,
                    "<= 100 ms".into(),
                    format!("{p99:.1} ms"),
                    p99 <= 100.0,
                );
            }
        }
        if let Some(hot) = &self.hot {
            let r = &hot.result;
            target(
                "hot: box-office projector lag p99",
                "<= 1000 ms".into(),
                format!("{:.1} ms", r.box_office_lag.p99_ms),
                r.box_office_lag.p99_ms <= 1000.0,
            );
        }
        if let (Some(hot), Some(spread)) = (&self.hot, &self.spread) {
            let ratio = spread.result.holds_answered_per_s / hot.result.holds_answered_per_s;
            target(
                "spread vs hot: holds answered/s",
                ">= 1.0x".into(),
                format!("{ratio:.2}x"),
                ratio >= 1.0,
            );
        }
        if let Some(memory) = &self.memory {
            target(
                "memory: RSS with shows active",
                format!("<= 300 MiB at {} shows", memory.shows),
                format!("{:.0} MiB", memory.rss_mib),
                memory.rss_mib <= 300.0,
            );
            target(
                "memory: /metrics answered",
                format!("<= 100 ms at {} shows", memory.shows),
                memory
                    .metrics_ms
                    .map_or("no answer".to_owned(), |ms| format!("{ms:.1} ms")),
                memory.metrics_ms.is_some_and(|ms| ms <= 100.0),
            );
        }
        if let Some(rebuild) = &self.rebuild {
            target(
                "rebuild: events replayed/s",
                format!(">= 200000/s over {} events", rebuild.events),
                format!("{:.0}/s", rebuild.events_per_s),
                rebuild.events_per_s >= 200_000.0,
            );
        }
        if let Some(search) = &self.search {
            for (what, kind) in [
                ("search: city + date p99", &search.city_date),
                ("search: city + date p99, afresh", &search.city_date_fresh),
                ("search: keyword + date p99", &search.keyword),
                ("search: keyword + date p99, afresh", &search.keyword_fresh),
            ] {
                target(
                    what,
                    format!("<= 50 ms at {} shows", search.shows),
                    format!("{:.1} ms", kind.latency.p99_ms),
                    kind.latency.p99_ms <= 50.0,
                );
            }
        }
        if let Some(reports) = &self.reports {
            for kind in &reports.kinds {
                target(
                    "reports: p99",
                    format!(
                        "<= 100 ms, {} ({} shows, {} tickets)",
                        kind.query, reports.shows, reports.tickets_sold
                    ),
                    format!("{:.1} ms", kind.latency.p99_ms),
                    kind.latency.p99_ms <= 100.0,
                );
            }
        }
        if let Some(onsale) = &self.onsale {
            let configured = f64::from(onsale.configured_per_minute);
            target(
                "on-sale: admitted per minute",
                format!("{configured:.0} +-10%"),
                format!("{:.0}", onsale.measured_per_minute),
                (onsale.measured_per_minute - configured).abs() <= configured * 0.1,
            );
        }
        if let Some(audit) = &self.audit {
            target(
                "audit: a show's state at any point p99",
                format!("<= 200 ms at {} events", audit.events),
                format!("{:.1} ms", audit.latency.p99_ms),
                audit.latency.p99_ms <= 200.0,
            );
        }
        self.targets = targets;
    }

    /// What makes the run fail: broken invariants and errors always; in a smoke run also a
    /// workload that sold nothing. Missed speed targets are reported, not failures.
    pub fn failures(&self, smoke: bool) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, run) in [
            ("hot", &self.hot),
            ("light", &self.light),
            ("spread", &self.spread),
            ("two-process", &self.two_process),
            ("two-spread", &self.two_spread),
        ] {
            let Some(run) = run else { continue };
            if !run.invariants.hold() {
                failures.push(format!("{name}: invariants broken: {:?}", run.invariants));
            }
            if run.result.errors > 0 {
                failures.push(format!(
                    "{name}: {} unexpected answers, e.g. {:?}",
                    run.result.errors, run.result.error_samples
                ));
            }
            if smoke && (run.result.confirms_per_s == 0.0 || run.invariants.seats_sold == 0) {
                failures.push(format!("{name}: nothing was sold"));
            }
        }
        for (name, base) in [
            ("baseline", &self.baseline),
            ("spread baseline", &self.spread_baseline),
        ] {
            if let Some(base) = base.as_ref().filter(|b| b.oversold_seats > 0) {
                failures.push(format!("{name}: {} seats sold twice", base.oversold_seats));
            }
        }
        if let Some(search) = &self.search {
            for kind in search.kinds() {
                if kind.errors > 0 {
                    failures.push(format!("search ({}): {} errors", kind.query, kind.errors));
                }
                if smoke && kind.latency.count == 0 {
                    failures.push(format!("search ({}): no answers", kind.query));
                }
            }
            if search.city_date.hits == 0.0 {
                failures.push("search: a city's search found nothing".into());
            }
        }
        if let Some(reports) = &self.reports {
            for kind in &reports.kinds {
                if kind.errors > 0 {
                    failures.push(format!("reports ({}): {} errors", kind.query, kind.errors));
                }
                if smoke && kind.latency.count == 0 {
                    failures.push(format!("reports ({}): no answers", kind.query));
                }
            }
            if reports.tickets_sold == 0 {
                failures.push("reports: no ticket was sold".into());
            }
        }
        if let Some(onsale) = &self.onsale {
            if !onsale.invariants.hold() {
                failures.push(format!(
                    "on-sale: invariants broken: {:?}",
                    onsale.invariants
                ));
            }
            if onsale.errors > 0 {
                failures.push(format!(
                    "on-sale: {} unexpected answers, e.g. {:?}",
                    onsale.errors, onsale.error_samples
                ));
            }
            if onsale.held_without_admission > 0 {
                failures.push(format!(
                    "on-sale: {} holds went through without an admission",
                    onsale.held_without_admission
                ));
            }
            if smoke && onsale.holds_succeeded == 0 {
                failures.push("on-sale: nobody held".into());
            }
        }
        if let Some(audit) = &self.audit {
            if audit.errors > 0 {
                failures.push(format!("audit: {} errors", audit.errors));
            }
            if smoke && audit.latency.count == 0 {
                failures.push("audit: no answers".into());
            }
        }
        if let Some(healthz) = &self.healthz {
            if healthz.errors > 0 {
                failures.push(format!("/healthz: {} errors", healthz.errors));
            }
        }
        failures
    }

    /// The booking workloads by the name the table gives them.
    fn bookings(&self) -> [(&'static str, &Option<Booking>); 5] {
        [
            ("hot show", &self.hot),
            ("hot, 16 clients", &self.light),
            ("spread (Zipf)", &self.spread),
            ("hot, two processes", &self.two_process),
            ("spread, two processes", &self.two_spread),
        ]
    }

    pub fn print(&mut self) {
        self.evaluate();
        println!(
            "\nBoxoffice bench: {} clients, {} s per phase, {} cores, PostgreSQL {}{}",
            self.clients,
            self.seconds,
            self.machine.cores,
            self.machine.postgres,
            if self.smoke { " (smoke)" } else { "" }
        );
        println!(
            "\n{:<22} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
            "workload",
            "holds/s",
            "held/s",
            "paid/s",
            "hold p50",
            "hold p99",
            "map p99",
            "lag p99",
            "peak MiB",
            "oversold"
        );
        for (name, run) in self.bookings() {
            if let Some(run) = run {
                let r = &run.result;
                println!(
                    "{:<22} {:>10.0} {:>10.0} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.0} {:>8}",
                    name,
                    r.holds_answered_per_s,
                    r.holds_succeeded_per_s,
                    r.confirms_per_s,
                    r.hold.p50_ms,
                    r.hold.p99_ms,
                    r.seat_map.p99_ms,
                    r.projection_lag.p99_ms,
                    run.peak_rss_mib,
                    run.invariants.oversold_seats + run.invariants.seats_confirmed_twice
                );
            }
        }
        for (name, base) in [
            ("row-locking (pgbench)", &self.baseline),
            ("row-locking, spread", &self.spread_baseline),
        ] {
            if let Some(base) = base {
                println!(
                    "{:<22} {:>10.0} {:>10.0} {:>10.0} {:>9.2} {:>9.2} {:>9} {:>9} {:>9} {:>8}",
                    name,
                    base.attempts_per_s,
                    base.bookings_per_s,
                    base.paid_per_s,
                    base.latency.p50_ms,
                    base.latency.p99_ms,
                    "-",
                    "-",
                    "-",
                    base.oversold_seats
                );
            }
        }
        if let Some(healthz) = &self.healthz {
            println!(
                "{:<22} {:>10.0} {:>10} {:>10} {:>9.2} {:>9.2}",
                "GET /healthz ceiling",
                healthz.requests_per_s,
                "-",
                "-",
                healthz.latency.p50_ms,
                healthz.latency.p99_ms
            );
        }
        println!();
        for (name, run) in self.bookings() {
            if let Some(run) = run {
                let full = &run.result.full_seat_map;
                println!(
                    "{name}: full seat map (sampled) p50 {:.2} ms, p99 {:.2} ms; status read p50 {:.2} ms; {} commands retried after 503; {} reads 503 (read model behind)",
                    full.p50_ms,
                    full.p99_ms,
                    run.result.seat_map.p50_ms,
                    run.result.retried_after_503,
                    run.result.reads_lagging_503
                );
            }
        }
        if let (Some(hot), Some(healthz)) = (&self.hot, &self.healthz) {
            println!(
                "hot holds answered/s are {:.1}% of the /healthz ceiling",
                100.0 * hot.result.holds_answered_per_s / healthz.requests_per_s
            );
        }
        if let Some(memory) = &self.memory {
            let writers = memory
                .active_writers
                .map_or("? (no answer from /metrics)".to_owned(), |n| n.to_string());
            println!(
                "memory: {} shows ({} seats) active in {writers} writers: RSS {:.0} MiB once the projectors caught up (idle {:.0} MiB; {:.0} MiB right after the shows were scheduled, peak {:.0} MiB), {:.1} KiB per show",
                memory.shows,
                memory.seats,
                memory.rss_mib,
                memory.rss_before_mib,
                memory.rss_scheduled_mib,
                memory.peak_rss_mib,
                memory.kib_per_show
            );
        }
        if let Some(rebuild) = &self.rebuild {
            println!(
                "rebuild: {} events replayed in {:.1} s = {:.0} events/s (the log was written in {:.1} s)",
                rebuild.events, rebuild.rebuild_seconds, rebuild.events_per_s, rebuild.generate_seconds
            );
        }
        if let Some(reports) = &self.reports {
            println!(
                "reports: {} shows ({} cities, {} days) seeded in {:.1} s; {} tickets sold in {:.1} s, projected {:.1} s later; {} clients:",
                reports.shows, reports.cities, reports.days, reports.seed_seconds,
                reports.tickets_sold, reports.sell_seconds, reports.settle_seconds, reports.clients
            );
            for kind in &reports.kinds {
                println!(
                    "  {:<40} {:>8.0} req/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  {} errors",
                    kind.query,
                    kind.requests_per_s,
                    kind.latency.p50_ms,
                    kind.latency.p95_ms,
                    kind.latency.p99_ms,
                    kind.latency.max_ms,
                    kind.errors
                );
            }
        }
        if let Some(search) = &self.search {
            println!(
                "search: {} shows in {} cities seeded in {:.1} s, projected in {:.1} s; {} clients:",
                search.shows, search.cities, search.seed_seconds, search.settle_seconds, search.clients
            );
            for kind in search.kinds() {
                println!(
                    "  {:<40} {:>8.0} req/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  {:.1} hits, {:.1} shows per answer, {} errors",
                    kind.query,
                    kind.requests_per_s,
                    kind.latency.p50_ms,
                    kind.latency.p95_ms,
                    kind.latency.p99_ms,
                    kind.latency.max_ms,
                    kind.hits,
                    kind.shows,
                    kind.errors
                );
            }
        }
        if let Some(audit) = &self.audit {
            println!(
                "audit: a show of {} events (written in {:.1} s; first answer, folding it all, {:.0} ms), {} auditors, {:.0} req/s; state at any point p50 {:.1} ms, p99 {:.1} ms (by version p99 {:.1}, by position {:.1}, by time {:.1}); {} errors",
                audit.events,
                audit.generate_seconds,
                audit.first_answer_ms,
                audit.clients,
                audit.requests_per_s,
                audit.latency.p50_ms,
                audit.latency.p99_ms,
                audit.by_version.p99_ms,
                audit.by_position.p99_ms,
                audit.by_time.p99_ms,
                audit.errors
            );
        }
        if let Some(onsale) = &self.onsale {
            println!(
                "on-sale: {} customers through the waiting room at {}/min: {} admitted at {:.0}/min measured; holds inside the room p50 {:.1} ms, p99 {:.1} ms ({} held, {} found it sold out); {} held without admission; {} seats sold, {} oversold; {} place questions; {} errors",
                onsale.customers,
                onsale.configured_per_minute,
                onsale.admitted,
                onsale.measured_per_minute,
                onsale.hold.p50_ms,
                onsale.hold.p99_ms,
                onsale.holds_succeeded,
                onsale.holds_sold_out,
                onsale.held_without_admission,
                onsale.seats_sold,
                onsale.invariants.oversold_seats,
                onsale.follows,
                onsale.errors
            );
        }
        if !self.targets.is_empty() {
            println!("\n{:<60} {:>24} {:>30}  ", "target", "wanted", "measured");
            for t in &self.targets {
                println!(
                    "{:<60} {:>24} {:>30}  {}",
                    t.name,
                    t.wanted,
                    t.measured,
                    if t.met { "met" } else { "MISSED" }
                );
            }
        }
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let name = if self.smoke {
            "smoke.json"
        } else {
            "result.json"
        };
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        let stamped = dir.join(format!("result-{}.json", self.at.format("%Y%m%dT%H%M%SZ")));
        if !self.smoke {
            std::fs::copy(&path, stamped)?;
        }
        Ok(path)
    }
}
