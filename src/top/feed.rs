//! The watch behind `amc top`: one `WatchState` stream with deltas, resumed with `since_revision` and `instance_id`
//! after a reconnect, retried with backoff while the server is away. It hands the screen whole states.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt as _;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Target;
use crate::proto as pb;

/// The first wait before a reconnect; it doubles up to [`MAX_BACKOFF`] and starts over after a good message.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A stream that says nothing for this long is taken as dead (the server sends a heartbeat every 15 s by default).
pub const SILENCE: Duration = Duration::from_secs(45);

/// The state the client holds: the last revision it saw, of which server instance, and its sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Held {
    /// The revision of the last message applied.
    pub revision: u64,
    /// The server instance that revision belongs to.
    pub instance_id: String,
    /// The sessions, sorted by session id.
    pub sessions: Vec<pb::Session>,
}

impl Held {
    /// The held state of a `GetState` answer.
    pub fn from_state(state: pb::State) -> Held {
        let mut sessions = state.sessions;
        sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        Held {
            revision: state.revision,
            instance_id: state.instance_id,
            sessions,
        }
    }

    /// Applies one message of the stream. `Ok(true)` when the sessions changed; an error when a delta does not
    /// apply to what is held (the caller then starts over with a full snapshot).
    pub fn apply(&mut self, message: pb::WatchStateResponse) -> Result<bool, String> {
        let changed = match message.kind {
            Some(pb::watch_state_response::Kind::Snapshot(state)) => {
                let revision = message.revision;
                let instance = message.instance_id.clone();
                *self = Held::from_state(state);
                self.revision = revision;
                self.instance_id = instance;
                true
            }
            Some(pb::watch_state_response::Kind::Heartbeat(_)) => false,
            Some(pb::watch_state_response::Kind::Delta(delta)) => {
                if delta.base_revision != self.revision || message.instance_id != self.instance_id {
                    return Err(format!(
                        "a delta from revision {} of instance {:?} does not apply to revision {} of {:?}",
                        delta.base_revision, message.instance_id, self.revision, self.instance_id
                    ));
                }
                for id in &delta.removed_session_ids {
                    if let Ok(at) = self.find(id) {
                        self.sessions.remove(at);
                    }
                }
                for session in delta.upserted_sessions {
                    match self.find(&session.session_id) {
                        Ok(at) => self.sessions[at] = session,
                        Err(at) => self.sessions.insert(at, session),
                    }
                }
                true
            }
            None => false,
        };
        self.revision = message.revision;
        self.instance_id = message.instance_id;
        Ok(changed)
    }

    fn find(&self, id: &str) -> Result<usize, usize> {
        self.sessions.binary_search_by(|s| s.session_id.as_str().cmp(id))
    }
}

/// What the screen shows: the last state (kept while the server is away) and whether the stream is down.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// The last state received, `None` before the first.
    pub state: Option<Arc<Held>>,
    /// Why the stream is down, while it is; `None` while connected.
    pub away: Option<String>,
    /// Counts every change the screen should draw.
    pub version: u64,
}

/// Watches `target` until `stop` is cancelled, publishing every change of state or connection on `tx`.
pub async fn run(target: Target, tx: watch::Sender<Feed>, stop: CancellationToken) {
    let mut held = Held::default();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let reason = tokio::select! {
            () = stop.cancelled() => return,
            reason = watch_once(&target, &mut held, &tx, &mut backoff) => reason,
        };
        tracing::debug!(%reason, "watch ended; reconnecting");
        tx.send_modify(|feed| {
            feed.away = Some(reason);
            feed.version += 1;
        });
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: returns why it ended.
async fn watch_once(target: &Target, held: &mut Held, tx: &watch::Sender<Feed>, backoff: &mut Duration) -> String {
    let mut client = match target.state_client().await {
        Ok(client) => client,
        Err(e) => return e.to_string(),
    };
    let request = target.request(pb::WatchStateRequest {
        since_revision: held.revision,
        instance_id: held.instance_id.clone(),
        filter: None,
        deltas: true,
    });
    let mut stream = match request {
        Ok(request) => match client.watch_state(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return format!("{}: {}", target.url, status_text(&status)),
        },
        Err(e) => return e.to_string(),
    };
    let mut first = true;
    loop {
        let message = match tokio::time::timeout(SILENCE, stream.next()).await {
            Err(_) => return format!("no message from {} for {} s", target.url, SILENCE.as_secs()),
            Ok(None) => return format!("{} closed the stream", target.url),
            Ok(Some(Err(status))) => return format!("{}: {}", target.url, status_text(&status)),
            Ok(Some(Ok(message))) => message,
        };
        match held.apply(message) {
            Ok(changed) => {
                *backoff = FIRST_BACKOFF;
                if changed || first {
                    let state = Arc::new(held.clone());
                    tx.send_modify(|feed| {
                        feed.state = Some(state);
                        feed.away = None;
                        feed.version += 1;
                    });
                }
                first = false;
            }
            Err(reason) => {
                // Start over: the next connection asks for a full snapshot.
                *held = Held::default();
                return reason;
            }
        }
    }
}

/// A gRPC status in words.
pub fn status_text(status: &tonic::Status) -> String {
    match status.code() {
        tonic::Code::Unavailable if status.message().is_empty() => "the server is unavailable".into(),
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            format!("{} (set AMC_TOKEN)", status.message())
        }
        code => format!("{code:?}: {}", status.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, preview: &str) -> pb::Session {
        pb::Session {
            session_id: id.into(),
            last_message_preview: preview.into(),
            ..Default::default()
        }
    }

    fn snapshot(revision: u64, ids: &[&str]) -> pb::WatchStateResponse {
        pb::WatchStateResponse {
            revision,
            instance_id: "i1".into(),
            kind: Some(pb::watch_state_response::Kind::Snapshot(pb::State {
                revision,
                sessions: ids.iter().map(|id| session(id, "")).collect(),
                snapshot_time: None,
                instance_id: "i1".into(),
                ..Default::default()
            })),
        }
    }

    fn delta(base: u64, revision: u64, upserted: Vec<pb::Session>, removed: &[&str]) -> pb::WatchStateResponse {
        pb::WatchStateResponse {
            revision,
            instance_id: "i1".into(),
            kind: Some(pb::watch_state_response::Kind::Delta(pb::StateDelta {
                base_revision: base,
                upserted_sessions: upserted,
                removed_session_ids: removed.iter().map(|s| s.to_string()).collect(),
                snapshot_time: None,
            })),
        }
    }

    fn ids(held: &Held) -> Vec<&str> {
        held.sessions.iter().map(|s| s.session_id.as_str()).collect()
    }

    #[test]
    fn a_delta_upserts_in_order_and_removes() {
        let mut held = Held::default();
        assert_eq!(held.apply(snapshot(5, &["b", "d"])), Ok(true));
        let changed = held.apply(delta(5, 6, vec![session("c", "new"), session("d", "changed")], &["b"]));
        assert_eq!(changed, Ok(true));
        assert_eq!(ids(&held), ["c", "d"]);
        assert_eq!(held.sessions[1].last_message_preview, "changed");
        assert_eq!(held.revision, 6);
    }

    #[test]
    fn a_heartbeat_moves_the_revision_without_a_change() {
        let mut held = Held::default();
        held.apply(snapshot(5, &["a"])).unwrap();
        let beat = pb::WatchStateResponse {
            revision: 9,
            instance_id: "i1".into(),
            kind: Some(pb::watch_state_response::Kind::Heartbeat(pb::Heartbeat {
                server_time: None,
            })),
        };
        assert_eq!(held.apply(beat), Ok(false));
        assert_eq!(held.revision, 9);
        // The next delta is based on the heartbeat's revision.
        assert_eq!(held.apply(delta(9, 10, vec![], &["a"])), Ok(true));
        assert!(held.sessions.is_empty());
    }

    #[test]
    fn a_delta_on_another_base_is_refused() {
        let mut held = Held::default();
        held.apply(snapshot(5, &["a"])).unwrap();
        assert!(held.apply(delta(4, 6, vec![], &["a"])).is_err());
        let mut other = delta(5, 6, vec![], &["a"]);
        other.instance_id = "i2".into();
        assert!(held.apply(other).is_err());
        assert_eq!(ids(&held), ["a"]);
    }
}
