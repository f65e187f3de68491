//! When to tell a person: the dwell, the cooldown and the acknowledgement, as plain logic over explicit instants.
//!
//! - An `attention_raised` is held for the dwell; if the attention is cleared (answered) within it, nothing is sent.
//! - At most one notification per session per cooldown; a raise that ends its dwell inside the cooldown is dropped.
//! - An acknowledged session is silent until its next `attention_raised`.
//! - An `attention_cleared` of a session that was notified becomes a withdrawal (sinks that can, update or remove).
//!
//! Memory is bounded: at most one pending raise per session (a new raise replaces it: 1 000 raises in a second are
//! one notification per session), and the maps forget sessions whose cooldown has passed or that were removed.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::event::{Event, EventKind};

/// The most sessions the policy tracks at once; beyond that new raises are dropped (and logged).
pub const MAX_TRACKED: usize = 10_000;

/// What the policy decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Notify of this raise (its dwell ended, no cooldown, no ack).
    Notify(Arc<Event>),
    /// Withdraw the notification of this session: its attention was cleared (the clearing event).
    Withdraw(Arc<Event>),
}

/// The policy's state.
#[derive(Debug)]
pub struct Policy {
    dwell: Duration,
    cooldown: Duration,
    /// Raises waiting for their dwell to end, per session.
    pending: HashMap<String, (Arc<Event>, Instant)>,
    /// When each session was last notified.
    last_sent: HashMap<String, Instant>,
    /// Sessions notified whose attention still holds.
    notified: HashSet<String>,
    /// Sessions the user acknowledged, silent until their next raise.
    acked: HashSet<String>,
}

impl Policy {
    /// A policy with this dwell and cooldown.
    pub fn new(dwell: Duration, cooldown: Duration) -> Self {
        Policy {
            dwell,
            cooldown,
            pending: HashMap::new(),
            last_sent: HashMap::new(),
            notified: HashSet::new(),
            acked: HashSet::new(),
        }
    }

    /// Takes one event seen at `now`.
    pub fn on_event(&mut self, event: &Arc<Event>, now: Instant) -> Vec<Decision> {
        let session = &event.session_id;
        match event.kind {
            EventKind::AttentionRaised => {
                self.acked.remove(session);
                if self.pending.len() >= MAX_TRACKED && !self.pending.contains_key(session) {
                    tracing::warn!(%session, "too many pending attentions; this one is not notified");
                    return Vec::new();
                }
                self.pending.insert(session.clone(), (event.clone(), now + self.dwell));
                Vec::new()
            }
            EventKind::AttentionCleared => {
                // Answered within the dwell: nothing was sent, nothing will be.
                self.pending.remove(session);
                if self.notified.remove(session) {
                    vec![Decision::Withdraw(event.clone())]
                } else {
                    Vec::new()
                }
            }
            EventKind::SessionRemoved => {
                self.pending.remove(session);
                self.acked.remove(session);
                self.notified.remove(session);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The user answered `session` elsewhere: drop its pending raise and silence it until its next raise. Returns
    /// whether a notification of it is out (so the caller can withdraw it).
    pub fn ack(&mut self, session: &str) -> bool {
        self.pending.remove(session);
        if self.acked.len() < MAX_TRACKED {
            self.acked.insert(session.to_owned());
        }
        self.notified.remove(session)
    }

    /// Returns whether `session` is acknowledged (silent until its next raise).
    pub fn is_acked(&self, session: &str) -> bool {
        self.acked.contains(session)
    }

    /// Returns the raises whose dwell ended by `now` and that pass the cooldown and the acks.
    pub fn on_tick(&mut self, now: Instant) -> Vec<Decision> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(session, _)| session.clone())
            .collect();
        let mut decisions = Vec::new();
        for session in due {
            let Some((event, _)) = self.pending.remove(&session) else {
                continue;
            };
            if self.acked.contains(&session) {
                continue;
            }
            let cooling = self
                .last_sent
                .get(&session)
                .is_some_and(|sent| now.saturating_duration_since(*sent) < self.cooldown);
            if cooling {
                tracing::debug!(%session, "attention within the cooldown; not notified");
                continue;
            }
            self.last_sent.insert(session.clone(), now);
            self.notified.insert(session);
            decisions.push(Decision::Notify(event));
        }
        // Forget cooldowns that are over (bounded memory).
        let cooldown = self.cooldown;
        self.last_sent
            .retain(|_, sent| now.saturating_duration_since(*sent) < cooldown);
        decisions
    }

    /// Returns when the next dwell ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|(_, deadline)| *deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, session: &str, id: u64) -> Arc<Event> {
        Arc::new(Event {
            id,
            attention_kind: Some("permission".into()),
            ..Event::bare(kind, session, 0)
        })
    }

    fn ids(decisions: &[Decision]) -> Vec<(bool, u64)> {
        decisions
            .iter()
            .map(|d| match d {
                Decision::Notify(e) => (true, e.id),
                Decision::Withdraw(e) => (false, e.id),
            })
            .collect()
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn an_attention_answered_within_the_dwell_sends_nothing() {
        let t0 = Instant::now();
        let mut policy = Policy::new(5 * S, 60 * S);
        policy.on_event(&event(EventKind::AttentionRaised, "a", 1), t0);
        assert_eq!(policy.next_deadline(), Some(t0 + 5 * S));
        assert!(policy.on_tick(t0 + 4 * S).is_empty());
        assert!(policy
            .on_event(&event(EventKind::AttentionCleared, "a", 2), t0 + 4 * S)
            .is_empty());
        assert!(policy.on_tick(t0 + 6 * S).is_empty());
        assert_eq!(policy.next_deadline(), None);
    }

    #[test]
    fn a_held_attention_is_notified_once_per_cooldown_and_withdrawn_when_cleared() {
        let t0 = Instant::now();
        let mut policy = Policy::new(5 * S, 60 * S);
        policy.on_event(&event(EventKind::AttentionRaised, "a", 1), t0);
        assert_eq!(ids(&policy.on_tick(t0 + 5 * S)), [(true, 1)]);
        assert_eq!(
            ids(&policy.on_event(&event(EventKind::AttentionCleared, "a", 2), t0 + 6 * S)),
            [(false, 2)]
        );
        // Raised again within the cooldown: held for the dwell, then dropped.
        policy.on_event(&event(EventKind::AttentionRaised, "a", 3), t0 + 10 * S);
        assert!(policy.on_tick(t0 + 15 * S).is_empty());
        // After the cooldown it is notified again.
        policy.on_event(&event(EventKind::AttentionRaised, "a", 4), t0 + 70 * S);
        assert_eq!(ids(&policy.on_tick(t0 + 75 * S)), [(true, 4)]);
        // Other sessions have their own cooldown.
        policy.on_event(&event(EventKind::AttentionRaised, "b", 5), t0 + 71 * S);
        assert_eq!(ids(&policy.on_tick(t0 + 76 * S)), [(true, 5)]);
    }

    #[test]
    fn an_ack_silences_until_the_next_attention() {
        let t0 = Instant::now();
        let mut policy = Policy::new(5 * S, Duration::ZERO);
        policy.on_event(&event(EventKind::AttentionRaised, "a", 1), t0);
        assert!(!policy.ack("a"), "nothing was sent yet");
        assert!(policy.on_tick(t0 + 5 * S).is_empty(), "acked within the dwell");
        assert!(policy.is_acked("a"));
        policy.on_event(&event(EventKind::AttentionRaised, "a", 2), t0 + 10 * S);
        assert!(!policy.is_acked("a"), "the next attention ends the ack");
        assert_eq!(ids(&policy.on_tick(t0 + 15 * S)), [(true, 2)]);
        assert!(policy.ack("a"), "a notification is out: the caller withdraws it");
        assert!(policy
            .on_event(&event(EventKind::AttentionCleared, "a", 3), t0 + 16 * S)
            .is_empty());
    }

    #[test]
    fn a_storm_of_raises_is_one_pending_notification_per_session() {
        let t0 = Instant::now();
        let mut policy = Policy::new(S, 60 * S);
        for i in 0..1_000 {
            policy.on_event(&event(EventKind::AttentionRaised, &format!("s{}", i % 10), i), t0);
        }
        assert_eq!(policy.pending.len(), 10);
        assert_eq!(policy.on_tick(t0 + S).len(), 10);
        // The clock going backwards (an Instant cannot, but a tick with an earlier time) sends nothing twice.
        assert!(policy.on_tick(t0).is_empty());
    }
}
