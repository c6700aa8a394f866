//! Benchmark databases and server processes.

use crate::client::{Http, JWT_SECRET};
use anyhow::Context;
use boxoffice_eventstore::postgres::with_database;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

/// A database of the benchmark's own, dropped at the end of its phase.
pub struct BenchDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl BenchDatabase {
    pub async fn create(admin_url: &str, phase: &str) -> anyhow::Result<Self> {
        let name = format!("boxoffice_bench_{phase}_{}", std::process::id());
        let admin = connect(admin_url).await?;
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .with_context(|| format!("creating database {name}"))?;
        }
        Ok(Self {
            url: with_database(admin_url, &name),
            name,
            admin_url: admin_url.to_owned(),
        })
    }

    /// Creates the server's tables with `binary migrate`.
    pub fn migrate(&self, binary: &Path) -> anyhow::Result<()> {
        let migrated = Command::new(binary)
            .arg("migrate")
            .env("DATABASE_URL", &self.url)
            .env_remove("EVENTSTORE_URL")
            .env("RUST_LOG", "warn")
            .status()?;
        anyhow::ensure!(migrated.success(), "boxoffice migrate failed");
        Ok(())
    }

    pub async fn client(&self) -> anyhow::Result<tokio_postgres::Client> {
        connect(&self.url).await
    }

    pub fn config(&self) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(&self.url).expect("a valid database URL")
    }

    /// Drops the database, unless BOXOFFICE_BENCH_KEEP is set (to look at it afterwards).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        if std::env::var_os("BOXOFFICE_BENCH_KEEP").is_some() {
            eprintln!("   kept database {}", self.name);
            return Ok(());
        }
        let admin = connect(&self.admin_url).await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

/// Every read model a server keeps (the names in `projection_checkpoints`).
pub const READ_MODELS: [&str; 8] = [
    "actions",
    "box_office",
    "catalogue",
    "order_history",
    "sales",
    "seat_map",
    "tickets",
    "waitlist",
];

/// Waits until the projectors named `names` have each applied the whole log (read from the
/// database: `/metrics` counts the lag by reading the log, slow while it is large); gives up
/// after `within`.
pub async fn caught_up(
    client: &tokio_postgres::Client,
    names: &[&str],
    within: Duration,
) -> anyhow::Result<()> {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let deadline = std::time::Instant::now() + within;
    loop {
        let (known, behind): (i64, i64) = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE (c.commit_position, c.prepare_position)
                        < (SELECT xid, position FROM events ORDER BY xid DESC, position DESC
                           LIMIT 1))
                 FROM projection_checkpoints c WHERE c.name = ANY($1)",
                &[&names],
            )
            .await
            .map(|row| (row.get(0), row.get(1)))?;
        if behind == 0 && known == names.len() as i64 {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{behind} of the projectors {names:?} did not catch up in {} s",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The `boxoffice` binary serving on a loopback port.
pub struct Server {
    child: Child,
    pub http: Http,
}

impl Server {
    pub async fn start(
        binary: &Path,
        database_url: &str,
        clients: usize,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let child = Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env_remove("EVENTSTORE_URL")
            .env("BOXOFFICE_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let server = Self {
            child,
            http: Http::new(format!("http://127.0.0.1:{port}"), clients),
        };
        server.http.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }

    /// Resident memory now and at its peak, in MiB (from /proc).
    pub fn memory_mib(&self) -> Option<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
                .map(|kib| kib / 1024.0)
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// SIGTERM, then waits (up to 30 s) for it to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..300 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A PostgreSQL client program (pgbench, psql): on PATH or in the newest server's bin
/// directory.
pub fn pg_program(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|candidate| candidate.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}
