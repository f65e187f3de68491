//! The Debian `nats-server` with JetStream on a free loopback port, in a temp dir (tests and the fleet bench).
#![allow(dead_code)]

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running `nats-server -js`.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    /// More configuration (users, permissions) after the listen address and the JetStream store.
    extra: String,
}

/// The `nats-server` binary, if installed (PATH, then /usr/sbin and /usr/bin, where Debian puts it).
pub fn find_nats_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
}

/// A free loopback port (bound once and released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl NatsServer {
    /// Starts one in `dir` (its JetStream store), or `None` with a visible message when nats-server is not installed.
    pub fn start(dir: &Path) -> Option<NatsServer> {
        Self::start_with(dir, "")
    }

    /// Starts one with `extra` configuration (nats-server's config syntax, e.g. an `authorization` block).
    pub fn start_with(dir: &Path, extra: &str) -> Option<NatsServer> {
        let Some(bin) = find_nats_server() else {
            eprintln!(
                "SKIPPED: nats-server is not installed (scripts/test installs it with `apt-get install -y nats-server`)"
            );
            return None;
        };
        let mut server = NatsServer {
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
            bin,
            extra: extra.to_owned(),
        };
        server.spawn();
        Some(server)
    }

    /// The client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let conf = self.dir.join("nats.conf");
        let text = format!(
            "listen: 127.0.0.1:{}\njetstream {{ store_dir: {:?} }}\n{}\n",
            self.port,
            self.dir.join("js").display().to_string(),
            self.extra
        );
        std::fs::write(&conf, text).expect("write nats.conf");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Opens a WatchState (deltas) on the amc at `addr` and reads its first message (the snapshot).
pub async fn open_watch(addr: &str) -> tonic::Streaming<amc::proto::WatchStateResponse> {
    let mut grpc = amc::proto::state_service_client::StateServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
        .max_decoding_message_size(256 * 1024 * 1024);
    let mut watch = grpc
        .watch_state(amc::proto::WatchStateRequest {
            deltas: true,
            ..Default::default()
        })
        .await
        .expect("WatchState")
        .into_inner();
    let first = watch.message().await.expect("a message").expect("open");
    assert!(matches!(
        first.kind,
        Some(amc::proto::watch_state_response::Kind::Snapshot(_))
    ));
    watch
}

/// Reads `watch` until a message (a delta's upserted sessions, or a snapshot) holds a session matching `want`; `None`
/// after `limit`.
pub async fn watch_until(
    watch: &mut tonic::Streaming<amc::proto::WatchStateResponse>,
    limit: Duration,
    want: impl Fn(&amc::proto::Session) -> bool,
) -> Option<()> {
    use amc::proto::watch_state_response::Kind;
    tokio::time::timeout(limit, async {
        loop {
            let message = watch.message().await.expect("a message").expect("open");
            let found = match message.kind {
                Some(Kind::Delta(d)) => d.upserted_sessions.iter().any(&want),
                Some(Kind::Snapshot(s)) => s.sessions.iter().any(&want),
                _ => false,
            };
            if found {
                return;
            }
        }
    })
    .await
    .ok()
}
