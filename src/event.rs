//! The one event type: an edge between two consecutive published states (a session started, waits for the user,
//! finished its turn, died, left, compacted, crossed a context threshold), and [`derive`], which finds the edges.
//!
//! The publisher derives events from each state it publishes and the previous one, numbers them, keeps them in a
//! persisted ring and serves them (`WatchEvents`, `/api/stream/events`); the notification sinks read the same events.
//! An event serializes (serde) to the JSON of `/api/stream/events` and of the ring file:
//! `{"id", "kind", "session_id", "time_ms", "revision", "agent", "project_dir", "is_dead", ...}` with the optional
//! `attention_kind`, `waited_ms`, `threshold`, `percent` and `reason`.
//!
//! Nothing here does I/O; it reads sessions through [`crate::model`] only.

use std::{
    borrow::{Borrow, Cow},
    collections::HashMap,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{key, status, str_field, SessionJson};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The session started waiting for the user (status `needs_attention`).
    AttentionRaised,
    /// The session no longer waits for the user (answered, or the session left).
    AttentionCleared,
    /// The agent finished its turn (status `done` after `active` or `needs_attention`).
    TurnDone,
    /// A session appeared.
    SessionStarted,
    /// The session's agent is gone (`is_dead` became true).
    SessionDead,
    /// The session left the state (its file was removed).
    SessionRemoved,
    /// The context was compacted (`context_usage.compacted` became true).
    Compacted,
    /// The context usage crossed [`CONTEXT_THRESHOLDS`] upwards.
    ContextThreshold,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 8] = [
        EventKind::AttentionRaised,
        EventKind::AttentionCleared,
        EventKind::TurnDone,
        EventKind::SessionStarted,
        EventKind::SessionDead,
        EventKind::SessionRemoved,
        EventKind::Compacted,
        EventKind::ContextThreshold,
    ];

    /// The kind's name, as in JSON and in the SSE `event:` line (`"attention_raised"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AttentionRaised => "attention_raised",
            EventKind::AttentionCleared => "attention_cleared",
            EventKind::TurnDone => "turn_done",
            EventKind::SessionStarted => "session_started",
            EventKind::SessionDead => "session_dead",
            EventKind::SessionRemoved => "session_removed",
            EventKind::Compacted => "compacted",
            EventKind::ContextThreshold => "context_threshold",
        }
    }

    /// Returns the kind named `name` ([`EventKind::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The context usage percentages whose upward crossing is a [`EventKind::ContextThreshold`] event.
pub const CONTEXT_THRESHOLDS: [u8; 2] = [80, 95];

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Grows by one per event, also across restarts (0 until the ring numbers it).
    pub id: u64,
    /// What happened.
    pub kind: EventKind,
    /// The session it happened to.
    pub session_id: String,
    /// When the publisher saw it, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The revision of the state it first shows in.
    pub revision: u64,
    /// The session's agent string (`"claude"`, `"codex"`, or what the session file says).
    #[serde(default)]
    pub agent: String,
    /// The session's project directory.
    #[serde(default)]
    pub project_dir: String,
    /// Whether the session's agent is gone (after the event).
    #[serde(default)]
    pub is_dead: bool,
    /// attention_raised / attention_cleared: the session's `attention.kind` (`"permission"`, `"question"`, …), or
    /// `"unknown"` when the session file has no `attention` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_kind: Option<String>,
    /// attention_cleared: how long the session waited, in milliseconds (0 when the clock went backwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    /// context_threshold: the threshold crossed (80 or 95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// context_threshold: the context usage in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// session_dead: the liveness reason; attention_raised: the attention's message or question, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Event {
    /// An event of `kind` about `session_id` at `time_ms`, with every other field empty (id 0, revision 0).
    pub fn bare(kind: EventKind, session_id: impl Into<String>, time_ms: i64) -> Self {
        Event {
            id: 0,
            kind,
            session_id: session_id.into(),
            time_ms,
            revision: 0,
            agent: String::new(),
            project_dir: String::new(),
            is_dead: false,
            attention_kind: None,
            waited_ms: None,
            threshold: None,
            percent: None,
            reason: None,
        }
    }

    fn new(kind: EventKind, session: &SessionJson, time_ms: i64, revision: u64) -> Self {
        let text = |k: &str| str_field(session, k).unwrap_or_default().to_owned();
        Event {
            revision,
            agent: text(key::AGENT),
            project_dir: text(key::PROJECT_DIR),
            is_dead: session.get(key::IS_DEAD).and_then(Value::as_bool).unwrap_or(false),
            ..Event::bare(kind, crate::model::sort_key(session), time_ms)
        }
    }
}

/// The facts of one session that events are made of, read once.
struct Facts<'a> {
    session: &'a SessionJson,
    id: Cow<'a, str>,
    status: &'a str,
    dead: bool,
    percent: f64,
    compacted: bool,
    attention: Option<&'a serde_json::Map<String, Value>>,
}

impl<'a> Facts<'a> {
    fn of(session: &'a SessionJson) -> Self {
        // One walk over the entries instead of a hashed lookup per key: the derivation runs over every session of
        // every published state, and a session has a few dozen keys at most.
        let mut facts = Facts {
            session,
            id: Cow::Borrowed(""),
            status: "",
            dead: false,
            percent: 0.0,
            compacted: false,
            attention: None,
        };
        for (name, value) in session {
            match name.as_str() {
                key::SESSION_ID => {
                    facts.id = match value {
                        Value::String(id) => Cow::Borrowed(id.as_str()),
                        other => Cow::Owned(crate::model::string_form(other)),
                    }
                }
                key::STATUS => facts.status = value.as_str().unwrap_or_default(),
                key::IS_DEAD => facts.dead = value.as_bool().unwrap_or(false),
                key::CONTEXT_USAGE => {
                    if let Some(usage) = value.as_object() {
                        facts.percent = usage.get("percent").and_then(Value::as_f64).unwrap_or(0.0);
                        facts.compacted = usage.get("compacted").and_then(Value::as_bool).unwrap_or(false);
                    }
                }
                "attention" => facts.attention = value.as_object(),
                _ => {}
            }
        }
        facts
    }

    fn waits(&self) -> bool {
        self.status == status::NEEDS_ATTENTION
    }

    fn attention_kind(&self) -> String {
        self.attention
            .and_then(|a| a.get("kind"))
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .unwrap_or("unknown")
            .to_owned()
    }

    /// When the wait began: `attention.since`, else the last hook event's time (the hook that set the status).
    fn waiting_since_ms(&self) -> Option<i64> {
        self.attention
            .and_then(|a| a.get("since"))
            .and_then(time_ms)
            .or_else(|| self.session.get(key::LAST_EVENT_AT).and_then(time_ms))
    }

    fn hold(&self) -> Option<&Value> {
        self.attention.and_then(|a| a.get("since"))
    }
}

/// Returns a session-file time (RFC 3339 text, or seconds or milliseconds since the epoch) in milliseconds.
fn time_ms(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.timestamp_millis()),
        Value::Number(n) => {
            let f = n.as_f64().filter(|f| f.is_finite() && *f >= 0.0)?;
            Some(if f > 1e11 { f as i64 } else { (f * 1000.0) as i64 })
        }
        _ => None,
    }
}

/// Appends to `out` the events between two consecutive states (`before` published earlier, `after` at `revision`),
/// seen at `now_ms`; their ids are 0 (the ring numbers them). Sessions are matched by `session_id` (a merge of the two
/// lists when both are sorted by it, as the collector publishes them; a map otherwise); the events of the sessions in
/// `after` come first, in its order, then those of the sessions that left.
pub fn derive<B: Borrow<SessionJson>, A: Borrow<SessionJson>>(
    before: &[B],
    after: &[A],
    now_ms: i64,
    revision: u64,
    out: &mut Vec<Event>,
) {
    // Each session's facts (and id) read once, in one walk over its keys.
    let before: Vec<Facts<'_>> = before.iter().map(|s| Facts::of(s.borrow())).collect();
    let after: Vec<Facts<'_>> = after.iter().map(|s| Facts::of(s.borrow())).collect();
    let sorted = |facts: &[Facts<'_>]| facts.windows(2).all(|w| w[0].id < w[1].id);
    if sorted(&before) && sorted(&after) {
        let (mut i, mut j) = (0, 0);
        let mut gone = Vec::new();
        while i < before.len() || j < after.len() {
            let order = match (before.get(i), after.get(j)) {
                (Some(b), Some(a)) => b.id.cmp(&a.id),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    gone.push(&before[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    pair(None, &after[j], now_ms, revision, out);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    pair(Some(&before[i]), &after[j], now_ms, revision, out);
                    i += 1;
                    j += 1;
                }
            }
        }
        for facts in gone {
            left(facts, now_ms, revision, out);
        }
        return;
    }
    let mut previous: HashMap<&str, &Facts<'_>> = before.iter().map(|f| (f.id.as_ref(), f)).collect();
    for facts in &after {
        let prev = previous.remove(facts.id.as_ref());
        pair(prev, facts, now_ms, revision, out);
    }
    for facts in &before {
        if previous.remove(facts.id.as_ref()).is_some() {
            left(facts, now_ms, revision, out);
        }
    }
}

/// The events of one session present in the new state (`before` is its previous form, if it had one).
fn pair(prev: Option<&Facts<'_>>, next: &Facts<'_>, now_ms: i64, revision: u64, out: &mut Vec<Event>) {
    let session = next.session;
    let event = |kind| Event::new(kind, session, now_ms, revision);
    let Some(prev) = prev else {
        out.push(event(EventKind::SessionStarted));
        if next.waits() {
            out.push(raised(event(EventKind::AttentionRaised), next));
        }
        return;
    };
    let new_hold = prev.waits() && next.waits() && prev.hold().is_some() && prev.hold() != next.hold();
    if prev.waits() && (!next.waits() || new_hold) {
        out.push(cleared(event(EventKind::AttentionCleared), prev, now_ms));
    }
    if next.waits() && (!prev.waits() || new_hold) {
        out.push(raised(event(EventKind::AttentionRaised), next));
    }
    if next.status == status::DONE && (prev.status == status::ACTIVE || prev.waits()) {
        out.push(event(EventKind::TurnDone));
    }
    if next.dead && !prev.dead {
        let mut e = event(EventKind::SessionDead);
        e.reason = str_field(session, key::LIVENESS_REASON).map(str::to_owned);
        out.push(e);
    }
    if next.compacted && !prev.compacted {
        out.push(event(EventKind::Compacted));
    }
    for threshold in CONTEXT_THRESHOLDS {
        let t = f64::from(threshold);
        if prev.percent < t && next.percent >= t {
            let mut e = event(EventKind::ContextThreshold);
            e.threshold = Some(threshold);
            e.percent = Some(next.percent);
            out.push(e);
        }
    }
}

/// The events of a session that left the state.
fn left(prev: &Facts<'_>, now_ms: i64, revision: u64, out: &mut Vec<Event>) {
    let session = prev.session;
    if prev.waits() {
        out.push(cleared(
            Event::new(EventKind::AttentionCleared, session, now_ms, revision),
            prev,
            now_ms,
        ));
    }
    out.push(Event::new(EventKind::SessionRemoved, session, now_ms, revision));
}

fn raised(mut event: Event, facts: &Facts<'_>) -> Event {
    event.attention_kind = Some(facts.attention_kind());
    event.reason = facts
        .attention
        .and_then(|a| a.get("message"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    event
}

fn cleared(mut event: Event, before: &Facts<'_>, now_ms: i64) -> Event {
    event.attention_kind = Some(before.attention_kind());
    event.waited_ms = before
        .waiting_since_ms()
        .map(|since| u64::try_from(now_ms.saturating_sub(since)).unwrap_or(0));
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::object;
    use serde_json::json;

    fn kinds(before: &[SessionJson], after: &[SessionJson]) -> Vec<(String, EventKind)> {
        let mut out = Vec::new();
        derive(before, after, 10_000, 7, &mut out);
        out.into_iter().map(|e| (e.session_id, e.kind)).collect()
    }

    fn s(value: Value) -> SessionJson {
        object(value)
    }

    #[test]
    fn each_transition_is_one_event() {
        use EventKind::*;
        let active = s(json!({"session_id": "a", "status": "active", "agent": "claude"}));
        let waiting = s(
            json!({"session_id": "a", "status": "needs_attention", "agent": "claude",
            "attention": {"kind": "permission", "since": 4.0, "message": "Bash: ls"}}),
        );
        let done = s(json!({"session_id": "a", "status": "done", "agent": "claude"}));
        let dead = s(json!({"session_id": "a", "status": "done", "is_dead": true, "liveness_reason": "gone"}));
        assert_eq!(
            kinds(&[], std::slice::from_ref(&active)),
            [("a".into(), SessionStarted)]
        );
        assert_eq!(kinds(std::slice::from_ref(&active), std::slice::from_ref(&active)), []);
        assert_eq!(
            kinds(std::slice::from_ref(&active), std::slice::from_ref(&waiting)),
            [("a".into(), AttentionRaised)]
        );
        assert_eq!(
            kinds(std::slice::from_ref(&waiting), std::slice::from_ref(&done)),
            [("a".into(), AttentionCleared), ("a".into(), TurnDone)]
        );
        assert_eq!(
            kinds(std::slice::from_ref(&active), std::slice::from_ref(&done)),
            [("a".into(), TurnDone)]
        );
        assert_eq!(
            kinds(std::slice::from_ref(&done), std::slice::from_ref(&dead)),
            [("a".into(), SessionDead)]
        );
        assert_eq!(
            kinds(std::slice::from_ref(&waiting), &[]),
            [("a".into(), AttentionCleared), ("a".into(), SessionRemoved)]
        );
        assert_eq!(
            kinds(&[], std::slice::from_ref(&waiting)),
            [("a".into(), SessionStarted), ("a".into(), AttentionRaised)]
        );
        // A new hold while still waiting (a second permission prompt) clears the first and raises the second.
        let mut again = waiting.clone();
        again.insert("attention".into(), json!({"kind": "question", "since": 9.0}));
        assert_eq!(
            kinds(std::slice::from_ref(&waiting), std::slice::from_ref(&again)),
            [("a".into(), AttentionCleared), ("a".into(), AttentionRaised)]
        );
    }

    #[test]
    fn attention_carries_its_kind_and_the_wait() {
        let active = s(json!({"session_id": "a", "status": "active"}));
        let waiting = s(json!({"session_id": "a", "status": "needs_attention",
            "attention": {"kind": "question", "since": "1970-01-01T00:00:04Z", "message": "Proceed?"}}));
        let mut out = Vec::new();
        derive(
            std::slice::from_ref(&active),
            std::slice::from_ref(&waiting),
            10_000,
            7,
            &mut out,
        );
        assert_eq!(out[0].attention_kind.as_deref(), Some("question"));
        assert_eq!(out[0].reason.as_deref(), Some("Proceed?"));
        assert_eq!(out[0].revision, 7);
        out.clear();
        derive(
            std::slice::from_ref(&waiting),
            std::slice::from_ref(&active),
            10_000,
            8,
            &mut out,
        );
        assert_eq!(out[0].kind, EventKind::AttentionCleared);
        assert_eq!(out[0].waited_ms, Some(6_000));
        // Without an attention object (before issue 16's hooks): the kind is unknown, the wait from last_event_at.
        let old = s(json!({"session_id": "a", "status": "needs_attention", "last_event_at": 9.5}));
        out.clear();
        derive(
            std::slice::from_ref(&old),
            std::slice::from_ref(&active),
            10_000,
            8,
            &mut out,
        );
        assert_eq!(out[0].attention_kind.as_deref(), Some("unknown"));
        assert_eq!(out[0].waited_ms, Some(500));
        // The clock went backwards: the wait is 0, not a huge number.
        out.clear();
        derive(
            std::slice::from_ref(&waiting),
            std::slice::from_ref(&active),
            1_000,
            8,
            &mut out,
        );
        assert_eq!(out[0].waited_ms, Some(0));
    }

    #[test]
    fn context_thresholds_and_compaction_fire_on_the_way_up_only() {
        let at = |p: f64, compacted: bool| {
            s(json!({"session_id": "a", "status": "active",
                "context_usage": {"percent": p, "compacted": compacted}}))
        };
        let mut out = Vec::new();
        derive(&[at(70.0, false)], &[at(96.0, false)], 0, 1, &mut out);
        let thresholds: Vec<_> = out.iter().map(|e| e.threshold).collect();
        assert_eq!(thresholds, [Some(80), Some(95)]);
        out.clear();
        derive(&[at(96.0, false)], &[at(20.0, true)], 0, 2, &mut out);
        assert_eq!(out.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::Compacted]);
        out.clear();
        derive(&[at(20.0, true)], &[at(85.0, true)], 0, 3, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].threshold, Some(80));
    }

    #[test]
    fn unsorted_lists_match_by_id_too() {
        let a = s(json!({"session_id": "a", "status": "active"}));
        let b = s(json!({"session_id": "b", "status": "active"}));
        let b_done = s(json!({"session_id": "b", "status": "done"}));
        let c = s(json!({"session_id": "c", "status": "active"}));
        let sorted = kinds(&[a.clone(), b.clone()], &[b_done.clone(), c.clone()]);
        let unsorted = kinds(&[b.clone(), a.clone()], &[c.clone(), b_done.clone()]);
        let mut x = sorted.clone();
        let mut y = unsorted.clone();
        x.sort_by(|p, q| (&p.0, p.1 as u8).cmp(&(&q.0, q.1 as u8)));
        y.sort_by(|p, q| (&p.0, p.1 as u8).cmp(&(&q.0, q.1 as u8)));
        assert_eq!(x, y);
        assert_eq!(x.len(), 3, "{x:?}");
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(json!(kind.as_str())));
        }
        assert_eq!(EventKind::parse("nope"), None);
    }
}
