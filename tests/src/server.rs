//! Servers for tests: the real router in this process ([`TestServer`]), or the real binary
//! in a child process ([`BinaryServer`]), each on its own database.

use crate::reply::Reply;
use crate::wait::PATIENCE;
use crate::TestDatabase;
use boxoffice_api::auth::{JwtKeys, Role};
use boxoffice_api::server::{self, Running, ServeConfig};
use boxoffice_api::ApiSettings;
use boxoffice_commands::{Clock, SystemClock, WriterConfig};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const JWT_SECRET: &str = "test-secret";

/// An HTTP client bound to one server.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    jwt: JwtKeys,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            jwt: JwtKeys::new(JWT_SECRET),
        }
    }

    /// The server's base URL (`http://127.0.0.1:port`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A token for `sub` with `roles`, valid for an hour.
    pub fn token(&self, sub: &str, roles: &[Role]) -> String {
        self.jwt.mint(sub, roles, chrono::Duration::hours(1))
    }

    /// A token for `sub` with roles as accounts name them (`staff:{cinema_id}` too).
    pub fn token_named(&self, sub: &str, roles: &[String]) -> String {
        self.jwt.mint_names(sub, roles, chrono::Duration::hours(1))
    }

    /// A customer's token: `name` is the customer's id.
    pub fn customer(&self, name: &str) -> String {
        self.token(name, &[Role::Customer])
    }

    /// The box office's token (staff `box-office-1`).
    pub fn staff(&self) -> String {
        self.token("box-office-1", &[Role::Staff])
    }

    /// An analyst's token (`analyst-1`).
    pub fn analyst(&self) -> String {
        self.token("analyst-1", &[Role::Analyst])
    }

    /// An administrator's token (`admin-1`).
    pub fn admin(&self) -> String {
        self.token("admin-1", &[Role::Admin])
    }

    /// An auditor's token (`auditor-1`).
    pub fn auditor(&self) -> String {
        self.token("auditor-1", &[Role::Auditor])
    }

    /// Sends a request built on [`Api::http`] (the typed requests come through here).
    pub(crate) async fn raw(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a well-formed request");
        let line = format!("{} {}", request.method(), request.url());
        let response = self
            .http
            .execute(request)
            .await
            .expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            request: line,
            status,
            headers,
            body,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

pub fn test_config(db: &TestDatabase, listen: std::net::SocketAddr) -> ServeConfig {
    ServeConfig {
        listen,
        database_url: db.url.clone(),
        jwt_secret: JWT_SECRET.into(),
        pool_size: 16,
        event_store: None,
        settings: ApiSettings::default(),
        writer: WriterConfig::default(),
    }
}

/// The real router and backend, in this process, on a database of its own.
pub struct TestServer {
    pub api: Api,
    pub db: TestDatabase,
    running: Option<Running>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::start_configured(clock, |_| {}).await
    }

    /// Starts with the test configuration as `configure` changes it.
    pub async fn start_configured(
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        let db = TestDatabase::create().await;
        let mut config = test_config(&db, "127.0.0.1:0".parse().expect("an address"));
        configure(&mut config);
        let running = server::start_with_clock(config, clock)
            .await
            .expect("the server starts");
        let api = Api::new(format!("http://{}", running.addr));
        Self {
            api,
            db,
            running: Some(running),
        }
    }

    /// Shuts the server down gracefully (the database stays until `self` drops).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// The `boxoffice` binary, run as a child process.
pub struct BinaryServer {
    pub api: Api,
    child: Child,
}

impl BinaryServer {
    /// The binary built beside the test executables.
    pub fn binary() -> PathBuf {
        let exe = std::env::current_exe().expect("the test's own path");
        let dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps");
        let binary = dir.join("boxoffice");
        assert!(
            binary.exists(),
            "{} is missing: build it first (`cargo build --bins`; scripts/test does)",
            binary.display()
        );
        binary
    }

    pub async fn start(db: &TestDatabase, port: u16) -> Self {
        Self::start_with_env(db, port, &[]).await
    }

    /// Holds that last one second with one second of grace: for tests of holds that lapse
    /// while no server runs (wait for that with [`crate::wait::until_lapsed`]).
    pub async fn start_with_short_holds(db: &TestDatabase, port: u16) -> Self {
        let env = [
            ("BOXOFFICE_HOLD_TTL_SECONDS", "1"),
            ("BOXOFFICE_EXPIRY_GRACE_SECONDS", "1"),
        ];
        Self::start_with_env(db, port, &env).await
    }

    /// Starts with extra environment variables (configuration such as
    /// `BOXOFFICE_HOLD_TTL_SECONDS`).
    pub async fn start_with_env(db: &TestDatabase, port: u16, env: &[(&str, &str)]) -> Self {
        let child = Command::new(Self::binary())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .envs(env.iter().copied())
            // The log is in the test's database (EventStoreDB has tests of its own).
            .env_remove("EVENTSTORE_URL")
            .env("DATABASE_URL", &db.url)
            .env("BOXOFFICE_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the boxoffice binary");
        let api = Api::new(format!("http://127.0.0.1:{port}"));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = api
                .http()
                .get(format!("{}/readyz", api.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the binary did not become ready within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { api, child }
    }

    /// SIGKILL: no graceful anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit status.
    ///
    /// Panics if the process has not exited within [`PATIENCE`] (a drain that hangs); the
    /// process is then killed.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the binary's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the binary did not exit within {PATIENCE:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
