//! The permission requests held hooks wait on: each has an id, the session it belongs to, and the one channel its
//! decision goes down. Deciding removes the request under one lock, so of two clients deciding at once exactly one
//! wins; the other, and anyone later, gets `already_answered`.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use tokio::sync::oneshot;

use crate::{error::Error, wire::Decision};

/// How many settled request ids are remembered to answer `already_answered` rather than `NOT_FOUND`.
const REMEMBERED: usize = 1024;

#[derive(Debug, Default)]
struct Inner {
    pending: HashMap<String, (String, oneshot::Sender<Decision>)>,
    /// Receivers of registered requests whose hook has not started waiting yet.
    parked: HashMap<String, oneshot::Receiver<Decision>>,
    /// Recently settled ids and what a late decision for them gets: `already_answered` or `withdrawn`.
    settled: VecDeque<(String, &'static str)>,
}

/// The pending requests, and which sessions' hooks hold.
#[derive(Debug, Default)]
pub struct Approvals {
    inner: Mutex<Inner>,
    hold_always: bool,
}

/// Withdraws its request when dropped: a hook that hangs up (Claude Code killed it: the user answered in the pane)
/// stops waiting.
struct Withdraw<'a>(&'a Approvals, &'a str);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.0.withdraw(self.1);
    }
}

impl Approvals {
    /// Requests of every session held (`AMC_APPROVALS_HOLD=always`) or only of sessions with remote approval on.
    pub fn new(hold_always: bool) -> Self {
        Approvals {
            hold_always,
            ..Approvals::default()
        }
    }

    /// Whether a PermissionRequest hook waits for a decision: always, or when its session's remote approval is on
    /// (`remote`, the session file's `remote_approval`).
    pub fn holds(&self, remote: bool) -> bool {
        self.hold_always || remote
    }

    /// Registers a request of `session` whose decision [`Approvals::wait`] will wait for; returns its id.
    pub fn register_parked(&self, session: &str) -> String {
        let (id, rx) = self.register(session);
        self.lock().parked.insert(id.clone(), rx);
        id
    }

    /// Waits up to `limit` for the decision of a parked request; `None` without one (then the request is withdrawn,
    /// also when this future is dropped).
    pub async fn wait(&self, id: &str, limit: Duration) -> Option<Decision> {
        let rx = self.lock().parked.remove(id)?;
        let _withdraw = Withdraw(self, id);
        tokio::time::timeout(limit, rx).await.ok()?.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a request of `session`; returns its id and where its decision arrives.
    pub fn register(&self, session: &str) -> (String, oneshot::Receiver<Decision>) {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.lock().pending.insert(id.clone(), (session.to_owned(), tx));
        (id, rx)
    }

    /// The request `id` is over without a decision (the hook stopped waiting).
    pub fn withdraw(&self, id: &str) {
        let mut inner = self.lock();
        inner.parked.remove(id);
        if inner.pending.remove(id).is_some() {
            remember(&mut inner, id, "withdrawn");
        }
    }

    /// Sends `decision` to request `id` of `session`: `delivered`, or `withdrawn` when its hook has stopped
    /// waiting, or `already_answered` when it was settled before.
    pub fn decide(&self, session: &str, id: &str, decision: Decision) -> Result<&'static str, Error> {
        let mut inner = self.lock();
        match inner.pending.remove(id) {
            Some((owner, tx)) if owner == session => {
                remember(&mut inner, id, "already_answered");
                drop(inner);
                Ok(if tx.send(decision).is_ok() {
                    "delivered"
                } else {
                    "withdrawn"
                })
            }
            Some(other) => {
                inner.pending.insert(id.to_owned(), other);
                Err(Error::InvalidArgument(format!(
                    "request {id} is not a request of session {session}"
                )))
            }
            None => match inner.settled.iter().find(|(s, _)| s == id) {
                Some((_, late)) => Ok(late),
                None => Err(Error::NotFound(format!("no permission request {id}"))),
            },
        }
    }
}

fn remember(inner: &mut Inner, id: &str, late: &'static str) {
    if inner.settled.len() >= REMEMBERED {
        inner.settled.pop_front();
    }
    inner.settled.push_back((id.to_owned(), late));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> Decision {
        Decision {
            allow: true,
            message: None,
        }
    }

    #[test]
    fn exactly_one_decision_wins() {
        let approvals = std::sync::Arc::new(Approvals::default());
        let (id, mut rx) = approvals.register("s");
        let outcomes: Vec<&str> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| approvals.decide("s", &id, allow()).expect("known")))
                .collect();
            handles.into_iter().map(|h| h.join().expect("join")).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| **o == "delivered").count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(outcomes.iter().filter(|o| **o == "already_answered").count(), 7);
        assert_eq!(rx.try_recv().expect("the decision"), allow());
    }

    #[tokio::test]
    async fn a_parked_request_waits_for_its_decision_or_its_time() {
        let approvals = std::sync::Arc::new(Approvals::new(false));
        assert!(!approvals.holds(false) && approvals.holds(true));
        assert!(Approvals::new(true).holds(false));

        let id = approvals.register_parked("s");
        let waiter = {
            let (approvals, id) = (approvals.clone(), id.clone());
            tokio::spawn(async move { approvals.wait(&id, Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(approvals.decide("s", &id, allow()).expect("known"), "delivered");
        assert_eq!(waiter.await.expect("join"), Some(allow()));

        let id = approvals.register_parked("s");
        assert_eq!(
            approvals.wait(&id, Duration::from_millis(20)).await,
            None,
            "no decision in time"
        );
        assert_eq!(approvals.decide("s", &id, allow()).expect("known"), "withdrawn");
        assert_eq!(
            approvals.wait(&id, Duration::from_millis(20)).await,
            None,
            "waiting twice gets nothing"
        );
    }

    #[test]
    fn wrong_session_unknown_id_and_withdrawn_requests() {
        let approvals = Approvals::default();
        let (id, rx) = approvals.register("s");
        assert!(matches!(
            approvals.decide("t", &id, allow()),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            approvals.decide("s", "nope", allow()),
            Err(Error::NotFound(_))
        ));
        drop(rx);
        assert_eq!(approvals.decide("s", &id, allow()).expect("known"), "withdrawn");
        let (id, _rx) = approvals.register("s");
        approvals.withdraw(&id);
        assert_eq!(approvals.decide("s", &id, allow()).expect("known"), "withdrawn");
    }
}
