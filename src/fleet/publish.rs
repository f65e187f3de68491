//! Mirrors this server's state into the fleet bucket: `<host>.<session_id>` = the protobuf `Session` (put only when
//! it changed since the last put, deleted when the session left), and the host record `_host.<host>` every
//! heartbeat. Any NATS failure (down at start, restarted, the bucket deleted) only marks the mirror out of sync: the
//! next attempt (after a short backoff) re-creates the bucket if needed, deletes this host's keys that no longer
//! name a session, and puts every session again. The local service never waits for NATS.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::{bucket, host_key, parse_key, session_key, Key, Throttle};
use crate::{config::FleetConfig, proto as pb, publisher::StateHandle, wire::Snapshot};

/// The longest wait between two attempts to resync with NATS.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the mirror knows it wrote: key → the encoded session last put there.
#[derive(Debug, Default)]
struct Mirror {
    written: HashMap<String, Bytes>,
    /// Sessions whose id cannot be a key, already logged.
    logged_unsafe: HashSet<String>,
}

/// The keys and values `snapshot` should have in the bucket for `host`.
fn desired(host: &str, snapshot: &Snapshot, mirror: &mut Mirror) -> HashMap<String, Bytes> {
    let mut out = HashMap::with_capacity(snapshot.proto_sessions.len());
    for session in &snapshot.proto_sessions {
        match session_key(host, &session.session_id) {
            Some(key) => {
                let mut session = (**session).clone();
                session.host = host.to_owned();
                out.insert(key, Bytes::from(prost::Message::encode_to_vec(&session)));
            }
            None => {
                if mirror.logged_unsafe.insert(session.session_id.clone()) {
                    tracing::warn!(session_id = %session.session_id, "fleet: a session id that cannot be a NATS key is not published");
                }
            }
        }
    }
    out
}

/// Runs the mirror of `state` until `shutdown`.
pub async fn run(client: async_nats::Client, state: StateHandle, config: FleetConfig, shutdown: CancellationToken) {
    let js = jetstream::new(client);
    let host = config.host.clone();
    let mut mirror = Mirror::default();
    // The bucket and when its stream was created: a bucket deleted and created again (by a hub, or another host)
    // has a new creation time, and then everything is put again.
    let mut store: Option<(kv::Store, i128)> = None;
    let mut rx = state.subscribe();
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut backoff = Duration::from_millis(200);
    let mut failures = Throttle::new(Duration::from_secs(30));
    state.warmed().await;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let snapshot = state.current();
        let result = match &store {
            None => resync(&js, &config, &snapshot, &mut mirror).await.map(|s| {
                tracing::info!(host = %host, bucket = %config.bucket, sessions = mirror.written.len(), "fleet: mirror in sync");
                store = Some(s);
            }),
            Some((kv, _)) => push(kv, &host, &snapshot, &mut mirror).await,
        };
        if let Err(error) = result {
            if let Some(skipped) = failures.allow() {
                tracing::warn!(%error, skipped, "fleet: cannot update the bucket; retrying (the local service is unaffected)");
            }
            store = None;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        backoff = Duration::from_millis(200);
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = rx.changed() => if changed.is_err() { return },
            _ = heartbeat.tick() => {
                if let Some((kv, created)) = &store {
                    let same_bucket = async { anyhow::Ok(created_at(kv).await? == *created) };
                    let refreshed = match same_bucket.await {
                        Ok(true) => match still_there(kv, &mirror).await {
                            Ok(true) => put_record(kv, &host, &state.current()).await,
                            Ok(false) => Err(anyhow::anyhow!("a session this host put is no longer in the bucket")),
                            Err(error) => Err(error),
                        },
                        Ok(false) => Err(anyhow::anyhow!("the bucket was deleted and created again")),
                        Err(error) => Err(error),
                    };
                    if let Err(error) = refreshed {
                        if let Some(skipped) = failures.allow() {
                            tracing::warn!(%error, skipped, "fleet: cannot refresh the host record");
                        }
                        store = None;
                    }
                }
            }
        }
    }
}

/// Puts the sessions that changed since the last put and deletes the ones that left.
async fn push(kv: &kv::Store, host: &str, snapshot: &Snapshot, mirror: &mut Mirror) -> anyhow::Result<()> {
    let want = desired(host, snapshot, mirror);
    for (key, value) in &want {
        if mirror.written.get(key) != Some(value) {
            kv.put(key, value.clone()).await?;
            mirror.written.insert(key.clone(), value.clone());
        }
    }
    let gone: Vec<String> = mirror
        .written
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    for key in gone {
        kv.delete(&key).await?;
        mirror.written.remove(&key);
    }
    Ok(())
}

/// Brings the bucket in line with `snapshot` from scratch: the bucket (re)created if missing, this host's stale keys
/// deleted (unless another live amc claims the same host name), every session put, the host record refreshed.
async fn resync(
    js: &jetstream::Context,
    config: &FleetConfig,
    snapshot: &Snapshot,
    mirror: &mut Mirror,
) -> anyhow::Result<(kv::Store, i128)> {
    let host = &config.host;
    let kv = bucket(js, &config.bucket).await?;
    let created = created_at(&kv).await?;
    let shared = claimed_by_other(&kv, host, &snapshot.instance_id, config.ttl).await;
    let want = desired(host, snapshot, mirror);
    if let Some(other) = &shared {
        tracing::error!(
            host = %host, other_instance = %other,
            "fleet: another amc publishes under the same host name; give each machine its own `host` (AMC_HOST)"
        );
    } else {
        let mut keys = kv.keys().await?;
        let mut stale = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key?;
            if let Some(Key::Session { host: h, .. }) = parse_key(&key) {
                if h == host && !want.contains_key(&key) {
                    stale.push(key);
                }
            }
        }
        for key in stale {
            kv.delete(&key).await?;
        }
    }
    mirror.written.clear();
    push(&kv, host, snapshot, mirror).await?;
    put_record(&kv, host, snapshot).await?;
    Ok((kv, created))
}

/// When the bucket's stream was created (nanoseconds since the epoch).
async fn created_at(kv: &kv::Store) -> anyhow::Result<i128> {
    Ok(kv.status().await?.info.created.unix_timestamp_nanos())
}

/// The instance id of another amc that refreshed `host`'s record within `ttl` (by the NATS server's clock), if any.
async fn claimed_by_other(kv: &kv::Store, host: &str, instance: &Arc<str>, ttl: Duration) -> Option<String> {
    let entry = kv.entry(host_key(host)).await.ok()??;
    if entry.operation != kv::Operation::Put {
        return None;
    }
    let record: pb::FleetHostRecord = prost::Message::decode(entry.value).ok()?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let age = Duration::from_secs(u64::try_from(now - entry.created.unix_timestamp()).unwrap_or(0));
    (record.instance_id != **instance && age < ttl).then_some(record.instance_id)
}

/// Whether one of the sessions this host put (any) is still in the bucket: a bucket deleted and created again between
/// two heartbeats, or keys purged by someone else, are noticed even when the creation time looks the same, and the
/// next loop puts everything again.
async fn still_there(kv: &kv::Store, mirror: &Mirror) -> anyhow::Result<bool> {
    let Some(key) = mirror.written.keys().next() else {
        return Ok(true);
    };
    Ok(kv.entry(key).await?.is_some_and(|e| e.operation == kv::Operation::Put))
}

/// Puts `host`'s record.
async fn put_record(kv: &kv::Store, host: &str, snapshot: &Snapshot) -> anyhow::Result<()> {
    let record = pb::FleetHostRecord {
        name: host.to_owned(),
        instance_id: snapshot.instance_id.to_string(),
        revision: snapshot.revision,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        heartbeat_time: Some(crate::wire::system_time(SystemTime::now())),
        sessions: u32::try_from(snapshot.proto_sessions.len()).unwrap_or(u32::MAX),
    };
    kv.put(host_key(host), prost::Message::encode_to_vec(&record).into())
        .await?;
    Ok(())
}
