//! The fleet: every amc's sessions mirrored into one NATS JetStream key-value bucket, and hubs that serve the union.
//!
//! - [`publish`]: a server's own sessions → the bucket (`<host>.<session_id>` = the protobuf `Session`, only changed
//!   ones put, removed ones deleted), and its host record `_host.<host>` every few seconds. NATS down never
//!   touches the local service; the mirror catches up when it returns.
//! - [`hub`]: the bucket watched → one state (every host's sessions with `host`, unreachable hosts flagged), published
//!   like a collector's, so GetState, WatchState, SSE and the dashboard serve it unchanged.
//! - [`act`]: an action on a hub travels to the owning host by NATS request/reply on `amc.fleet.act.<host>`.
//!
//! What crosses the network, partitions, and how to run NATS: docs/fleet.md.

pub mod act;
pub mod hub;
pub mod publish;

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use crate::{config::fleet::is_safe_host, config::FleetConfig, store};

/// The key prefix of host records: `_host.<host>`.
pub const HOST_RECORD_PREFIX: &str = "_host.";

/// The NATS subject prefix of a host's action requests: `amc.fleet.act.<host>`.
pub const ACT_SUBJECT_PREFIX: &str = "amc.fleet.act.";

/// What a bucket key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key<'a> {
    /// A session of a host: `<host>.<session_id>`.
    Session {
        /// The host.
        host: &'a str,
        /// The session id.
        session_id: &'a str,
    },
    /// A host record: `_host.<host>`.
    Host(&'a str),
}

/// Parses a bucket key; `None` for a key whose host or session id is unsafe (or that is no amc key).
pub fn parse_key(key: &str) -> Option<Key<'_>> {
    if let Some(host) = key.strip_prefix(HOST_RECORD_PREFIX) {
        return is_safe_host(host).then_some(Key::Host(host));
    }
    let (host, session_id) = key.split_once('.')?;
    (is_safe_host(host) && store::is_safe_session_id(session_id) && is_key_text(session_id))
        .then_some(Key::Session { host, session_id })
}

/// Whether `text` only has characters a NATS KV key may hold (`A-Z a-z 0-9 - _ = /` and `.` between tokens).
fn is_key_text(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('.')
        && !text.ends_with('.')
        && !text.contains("..")
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'/' | b'.'))
}

/// The bucket key of a session of `host`; `None` when the id cannot be a key (logged by the caller, not published).
pub fn session_key(host: &str, session_id: &str) -> Option<String> {
    (store::is_safe_session_id(session_id) && is_key_text(session_id)).then(|| format!("{host}.{session_id}"))
}

/// The key of `host`'s record.
pub fn host_key(host: &str) -> String {
    format!("{HOST_RECORD_PREFIX}{host}")
}

/// The subject `host` answers action requests on.
pub fn act_subject(host: &str) -> String {
    format!("{ACT_SUBJECT_PREFIX}{host}")
}

/// Connects to the fleet's NATS server(s) with the configured credentials. Returns at once: the client connects
/// (and reconnects, forever) in the background, so a NATS server that is down at start delays nothing.
pub async fn connect(config: &FleetConfig) -> anyhow::Result<async_nats::Client> {
    let url = config
        .nats_url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no NATS URL configured (--nats, AMC_NATS_URL)"))?;
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("amc {}", config.host))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .ping_interval(Duration::from_secs(10))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("fleet: connected to NATS"),
                async_nats::Event::Disconnected => tracing::warn!("fleet: disconnected from NATS; reconnecting"),
                other => tracing::debug!(%other, "fleet: NATS event"),
            }
        });
    if let Some(creds) = &config.creds {
        options = options
            .credentials_file(creds)
            .await
            .map_err(|e| anyhow::anyhow!("NATS credentials file {}: {e}", creds.display()))?;
    }
    if let Some(ca) = &config.tls_ca {
        if !ca.is_file() {
            anyhow::bail!("NATS TLS CA file {} does not exist", ca.display());
        }
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let Some(user) = &config.user {
        options = options.user_and_password(user.clone(), config.password.clone().unwrap_or_default());
    }
    if let Some(token) = &config.token {
        options = options.token(token.clone());
    }
    Ok(options.connect(url.as_str()).await?)
}

/// Returns the fleet bucket, created (history 1) when missing.
///
/// The stream is created as async-nats' `create_key_value` would, without its account query first: that answer's
/// shape from the nats-server 2.9 that Debian ships does not parse in async-nats 0.42.
pub async fn bucket(js: &jetstream::Context, name: &str) -> anyhow::Result<kv::Store> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    let created = js
        .create_stream(jetstream::stream::Config {
            name: format!("KV_{name}"),
            description: Some(
                "amc fleet: <host>.<session_id> = amc.v1.Session, _host.<host> = amc.v1.FleetHostRecord".into(),
            ),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            storage: jetstream::stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            num_replicas: 1,
            discard: jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await;
    let created_error = created.err().map(|e| e.to_string());
    // Another amc may have created it meanwhile: either way it is opened by name.
    js.get_key_value(name).await.map_err(|error| match created_error {
        Some(created) => anyhow::anyhow!("creating the fleet bucket {name}: {created}"),
        None => anyhow::anyhow!("opening the fleet bucket {name}: {error}"),
    })
}

/// Logs at most one warning per `every` for one kind of problem, with how many were skipped in between.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<tokio::time::Instant>,
    skipped: u64,
}

impl Throttle {
    /// One log line per `every`.
    pub fn new(every: Duration) -> Self {
        Throttle {
            every,
            last: None,
            skipped: 0,
        }
    }

    /// Returns `Some(skipped since the last line)` when a line may be logged now.
    pub fn allow(&mut self) -> Option<u64> {
        let now = tokio::time::Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < self.every) {
            self.skipped += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_a_safe_host_and_session_or_nothing() {
        assert_eq!(
            parse_key("laptop.abc-123"),
            Some(Key::Session {
                host: "laptop",
                session_id: "abc-123"
            })
        );
        assert_eq!(
            parse_key("laptop.a.b"),
            Some(Key::Session {
                host: "laptop",
                session_id: "a.b"
            })
        );
        assert_eq!(parse_key("_host.laptop"), Some(Key::Host("laptop")));
        for bad in [
            "laptop",
            "_host.",
            "_host.a.b",
            "_x.s1",
            ".s1",
            "laptop..x",
            "laptop.",
            "h*.s",
            "laptop.\u{1}",
        ] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
        assert_eq!(session_key("h", "s-1").as_deref(), Some("h.s-1"));
        assert_eq!(session_key("h", "a b"), None);
        assert_eq!(session_key("h", ".hidden"), None);
        assert_eq!(host_key("h"), "_host.h");
        assert_eq!(act_subject("h"), "amc.fleet.act.h");
    }
}
