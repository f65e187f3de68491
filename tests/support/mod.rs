//! Test support: a temp HOME and data dir, the real server on 127.0.0.1:0, and bounded waiting.
#![allow(dead_code)]

pub mod nats;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use amc::{
    config::{Config, Paths},
    publisher::{self, StateHandle},
    server,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// A temporary HOME with an amc data dir.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub paths: Paths,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().to_path_buf();
        let mut paths = Paths::from_lookup(|key| match key {
            "HOME" => Some(home.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(home.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        // No zellij in tests unless a test installs a fake one.
        paths.zellij_bin = Some(home.join("no-zellij"));
        std::fs::create_dir_all(paths.sessions_dir()).expect("sessions dir");
        TestEnv { dir, paths }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `sessions/<name>` with `content` atomically (as the hook does).
    pub fn write_session(&self, name: &str, content: &str) -> PathBuf {
        let path = self.paths.sessions_dir().join(name);
        amc::store::write_atomic(&path, content.as_bytes()).expect("write session file");
        path
    }

    pub fn config(&self) -> Config {
        let mut config = Config::for_paths(self.paths.clone());
        // Event-driven tests must not be rescued by the timers.
        config.liveness_interval = Duration::from_secs(3600);
        config.reconcile_interval = Duration::from_secs(3600);
        config.heartbeat_interval = Duration::from_millis(300);
        config.sse_ping_interval = Duration::from_millis(300);
        config
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub state: StateHandle,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn grpc(&self) -> amc::proto::state_service_client::StateServiceClient<tonic::transport::Channel> {
        amc::proto::state_service_client::StateServiceClient::connect(self.url())
            .await
            .expect("connect gRPC")
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("server stops within 5 s")
            .expect("server task joins")
            .expect("server ends cleanly");
    }
}

/// Starts the collector and the server for `config` on 127.0.0.1:0, and returns once the first full state is
/// published (the server answers before that: see [`spawn_server_warming`]).
pub async fn spawn_server(config: Config) -> Running {
    warmed(spawn_server_warming(config).await).await
}

/// Starts the collector and the server for `config` with `access` (tokens and names) on 127.0.0.1:0, and returns
/// once the first full state is published.
pub async fn spawn_server_with_access(config: Config, access: server::auth::Access) -> Running {
    warmed(start(config, access).await).await
}

/// Returns `running` once its first collection pass has published the full state.
async fn warmed(running: Running) -> Running {
    tokio::time::timeout(Duration::from_secs(30), running.state.warmed())
        .await
        .expect("the first collection pass ends within 30 s");
    running
}

/// Starts the collector and the server for `config` on 127.0.0.1:0 and returns at once, while the first collection
/// pass may still run.
pub async fn spawn_server_warming(config: Config) -> Running {
    let access = server::auth::Access::from_config(&config, None, &[]);
    start(config, access).await
}

/// Starts the collector and the server for `config` with `access` (tokens and names) on 127.0.0.1:0, and returns at
/// once.
async fn start(config: Config, access: server::auth::Access) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind test listener");
    let addr = listener.local_addr().expect("listener has an address");
    let shutdown = CancellationToken::new();
    let state = publisher::start(config.clone(), shutdown.clone()).await;
    let notifier = amc::notify::start(&config.notify, &config.paths.data_dir, &state, shutdown.clone());
    let options = server::ServerOptions {
        paths: std::sync::Arc::new(config.paths.clone()),
        heartbeat: config.heartbeat_interval,
        sse_ping: config.sse_ping_interval,
        grace: Duration::from_secs(2),
        cors_origins: vec![],
        notify: Some(notifier),
        access: std::sync::Arc::new(access),
        action_rate: config.action_rate,
        approvals_hold_always: config.approvals_hold_always,
        approval_wait: config.approval_wait,
        otlp: config.otlp,
        fleet: None,
        limits: config.limits.clone(),
    };
    let task = tokio::spawn(server::run(listener, state.clone(), options, shutdown.clone()));
    Running {
        addr,
        shutdown,
        state,
        task,
    }
}

/// Retries `check` every 10 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads SSE frames from a streaming body: returns complete frames (text between blank lines).
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        SseReader {
            response,
            buffer: String::new(),
        }
    }

    /// Returns the next frame, or `None` at the end of the stream; panics after `limit`.
    pub async fn next_frame(&mut self, limit: Duration) -> Option<String> {
        tokio::time::timeout(limit, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame = self.buffer[..end].to_string();
                    self.buffer.drain(..end + 2);
                    return Some(frame);
                }
                match self.response.chunk().await.expect("read SSE chunk") {
                    Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                    None => return None,
                }
            }
        })
        .await
        .expect("SSE frame in time")
    }
}

/// A server process (`amc serve` run by a test), killed and reaped when dropped.
pub struct Served {
    pub child: std::process::Child,
    pub addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command` (an `amc serve ... --addr-file <addr_file>`) and returns once it wrote its address (20 s at most).
pub fn serve_process(mut command: std::process::Command, addr_file: &Path) -> Served {
    use std::process::Stdio;
    let _ = std::fs::remove_file(addr_file);
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn amc serve");
    let mut served = Served {
        child,
        addr: String::new(),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while served.addr.is_empty() {
        served.addr = std::fs::read_to_string(addr_file).unwrap_or_default();
        assert!(
            std::time::Instant::now() < deadline,
            "amc serve did not write its address"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    served
}

/// The `amc` binary with only `env`'s paths in its environment (and `PATH`, for the tools tests use).
pub fn amc(env: &TestEnv) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_amc"));
    command
        .env_clear()
        .env("HOME", env.home())
        .env("AMC_DATA_DIR", &env.paths.data_dir)
        .env("CLAUDE_CONFIG_DIR", env.home().join("claude"))
        .env("CODEX_HOME", env.home().join("codex"))
        .env("AMC_ZELLIJ_BIN", env.home().join("no-zellij"))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

/// Writes an executable script at `path` without this process ever holding it open for writing.
///
/// Tests run on many threads; a thread that forks while another holds a new executable open for writing hands
/// that descriptor to its child until the child execs, and running the script then fails with `ETXTBSY` ("Text
/// file busy"). The bytes go to a plain sibling file and `install(1)`, a process of its own, makes the executable.
pub fn write_executable(path: &Path, contents: impl AsRef<[u8]>) {
    let name = path
        .file_name()
        .expect("executable path has a file name")
        .to_string_lossy();
    let source = path.with_file_name(format!(".{name}.source"));
    std::fs::write(&source, contents).expect("write script source");
    let status = std::process::Command::new("install")
        .arg("-m")
        .arg("755")
        .arg(&source)
        .arg(path)
        .status()
        .expect("run install(1)");
    assert!(status.success(), "install(1) failed for {}", path.display());
    std::fs::remove_file(&source).expect("remove script source");
}
