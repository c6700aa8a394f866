//! Baseline 1: the seed design's row-locking booking service, as pgbench transactions on
//! the same PostgreSQL with the same number of clients.
//!
//! Each pgbench transaction is one booking attempt, like one hold command of ours: look up
//! a free-looking seat of the current hot show (an index seek, standing in for the seat map
//! a customer reads), then BEGIN; SELECT the 1-4 requested seats FOR UPDATE; if all are free,
//! INSERT a booking and UPDATE the seats, COMMIT (else ROLLBACK). A successful booking is
//! then paid (70%, a second transaction), released (20%) or abandoned (10%), the mix our
//! customers follow. When the show sells out, the next of the prepared shows goes on sale.
//!
//! Its spread form (baseline 2) draws each attempt's show from the same Zipf popularity over
//! the same number of shows as our spread phase (pgbench's `random_zipfian` wants an exponent
//! above 1: 1.001 against our 1.0); a show that sells out is replaced in its slot by the next
//! prepared one, as our spread customers replace theirs.

use crate::server::{pg_program, BenchDatabase};
use crate::stats::{Latency, Summary};
use anyhow::{bail, Context};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Which show an attempt is for, and what happens when it is sold out.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// One show at a time on sale; the next when it sells out.
    Hot,
    /// This many shows at once, of Zipf popularity.
    Spread(usize),
}

const HOT_PICK: &str = r"\set slot 1
";
const SPREAD_PICK: &str = r"\set slot random_zipfian(1, :shows, 1.001)
";

const SCRIPT: &str = r"\set n random(1, 4)
\set r random(1, 2000)
\set mix random(1, 100)
{pick}SELECT show_id AS show FROM bench_board WHERE slot = :slot \gset
SELECT coalesce((SELECT seat_no FROM bench_seats WHERE show_id = :show AND status = 'free' AND seat_no >= :r ORDER BY seat_no LIMIT 1), (SELECT min(seat_no) FROM bench_seats WHERE show_id = :show AND status = 'free'), 0) AS first \gset
\if :first = 0
UPDATE bench_board SET show_id = nextval('bench_next_show') WHERE slot = :slot AND show_id = :show;
\else
\set last :first + :n - 1
BEGIN;
SELECT count(*) FILTER (WHERE status = 'free') AS free FROM (SELECT status FROM bench_seats WHERE show_id = :show AND seat_no BETWEEN :first AND :last FOR UPDATE) s \gset
\if :free = :n
INSERT INTO bench_bookings (show_id, first_seat, seat_count, status) VALUES (:show, :first, :n, 'held') RETURNING booking_id AS booking \gset
UPDATE bench_seats SET status = 'held', booking_id = :booking WHERE show_id = :show AND seat_no BETWEEN :first AND :last;
COMMIT;
\if :mix <= 70
BEGIN;
SELECT status FROM bench_bookings WHERE booking_id = :booking FOR UPDATE;
UPDATE bench_seats SET status = 'sold' WHERE show_id = :show AND booking_id = :booking;
UPDATE bench_bookings SET status = 'paid' WHERE booking_id = :booking;
COMMIT;
\elif :mix <= 90
BEGIN;
SELECT status FROM bench_bookings WHERE booking_id = :booking FOR UPDATE;
UPDATE bench_seats SET status = 'free', booking_id = NULL WHERE show_id = :show AND booking_id = :booking;
UPDATE bench_bookings SET status = 'released' WHERE booking_id = :booking;
COMMIT;
\endif
\else
ROLLBACK;
\endif
\endif
";

#[derive(Debug, Clone, Serialize)]
pub struct BaselineResult {
    /// Shows on sale at once.
    pub shows_on_sale: usize,
    pub clients: usize,
    pub seconds: f64,
    /// Booking attempts (pgbench transactions) per second.
    pub attempts_per_s: f64,
    pub bookings_per_s: f64,
    pub paid_per_s: f64,
    pub shows_sold_out: i64,
    pub oversold_seats: i64,
    /// Latency of a whole attempt (lookup, booking transaction, payment or release).
    pub latency: Summary,
}

pub async fn run(
    admin_url: &str,
    shape: Shape,
    clients: usize,
    duration: Duration,
    out: &Path,
) -> anyhow::Result<BaselineResult> {
    let pgbench = pg_program("pgbench").context("pgbench is not installed")?;
    let admin = crate::server::connect(admin_url).await?;
    let max: String = admin.query_one("SHOW max_connections", &[]).await?.get(0);
    let max: usize = max.parse().context("max_connections")?;
    anyhow::ensure!(
        max >= clients + 5,
        "pgbench needs {clients} connections but the server allows {max}: use a cluster with \
         a higher max_connections (scripts/bench does) or fewer --clients"
    );
    let (name, on_sale, pick) = match shape {
        Shape::Hot => ("baseline", 1, HOT_PICK),
        Shape::Spread(shows) => ("spread_baseline", shows.max(1), SPREAD_PICK),
    };
    // Enough shows that the run never runs out: one sells out after ~800 bookings, which at
    // the machines' rates is at most a few dozen a second.
    let shows = on_sale as i64 + 40 + duration.as_secs() as i64 * 40;
    let next = on_sale + 1;
    let db = BenchDatabase::create(admin_url, name).await?;
    let client = db.client().await?;
    client
        .batch_execute(&format!(
            "CREATE TABLE bench_board (slot bigint PRIMARY KEY, show_id bigint NOT NULL);
             INSERT INTO bench_board SELECT n, n FROM generate_series(1, {on_sale}) n;
             CREATE SEQUENCE bench_next_show START {next};
             CREATE TABLE bench_seats (
                 show_id bigint NOT NULL, seat_no int NOT NULL, status text NOT NULL,
                 booking_id bigint, PRIMARY KEY (show_id, seat_no));
             CREATE TABLE bench_bookings (
                 booking_id bigserial PRIMARY KEY, show_id bigint NOT NULL, first_seat int NOT NULL,
                 seat_count int NOT NULL, status text NOT NULL,
                 booked_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO bench_seats
                 SELECT show_id, seat_no, 'free', NULL
                 FROM generate_series(1, {shows}) show_id, generate_series(1, 2000) seat_no;
             CREATE INDEX ON bench_seats (booking_id);"
        ))
        .await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    let script = out.join(format!("{name}-booking.sql"));
    std::fs::write(&script, SCRIPT.replace("{pick}", pick))?;
    let config = db.config();
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres").to_owned();
    let log_dir = out.join("pgbench-log");
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir)?;
    let output = Command::new(&pgbench)
        .args(["-n", "-M", "prepared", "-l"])
        .arg("--log-prefix")
        .arg(log_dir.join("tx"))
        .args(["-h", &host, "-p", &port.to_string(), "-U", &user])
        .args(["-c", &clients.to_string(), "-j", "2"])
        .args(["-T", &duration.as_secs().max(1).to_string()])
        .args(["-D", &format!("shows={on_sale}")])
        .arg("-f")
        .arg(&script)
        .arg(&db.name)
        .output()
        .context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let seconds = duration.as_secs().max(1) as f64;
    let mut latency = Latency::default();
    let mut attempts = 0u64;
    for entry in std::fs::read_dir(&log_dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            // client_id transaction_no time script_no time_epoch time_us
            if let Some(micros) = line.split_whitespace().nth(2).and_then(|t| t.parse().ok()) {
                latency.record(Duration::from_micros(micros));
                attempts += 1;
            }
        }
    }
    let row = client
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM bench_bookings),
                    (SELECT count(*) FROM bench_bookings WHERE status = 'paid'),
                    (SELECT last_value FROM bench_next_show) - {on_sale}
                        - (SELECT CASE WHEN is_called THEN 0 ELSE 1 END FROM bench_next_show),
                    (SELECT count(*) FROM (
                        SELECT s.show_id, s.seat_no FROM bench_bookings b
                        JOIN bench_seats s ON s.show_id = b.show_id
                            AND s.seat_no BETWEEN b.first_seat AND b.first_seat + b.seat_count - 1
                        WHERE b.status = 'paid'
                        GROUP BY 1, 2 HAVING count(*) > 1) twice)"
            ),
            &[],
        )
        .await?;
    let (bookings, paid, sold_out, oversold): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if sold_out + on_sale as i64 >= shows {
        bail!("the baseline ran out of prepared shows ({shows}); raise the count");
    }
    drop(client);
    db.drop_now().await?;
    Ok(BaselineResult {
        shows_on_sale: on_sale,
        clients,
        seconds,
        attempts_per_s: attempts as f64 / seconds,
        bookings_per_s: bookings as f64 / seconds,
        paid_per_s: paid as f64 / seconds,
        shows_sold_out: sold_out,
        oversold_seats: oversold,
        latency: latency.summary(),
    })
}
