//! The ground floor: the session record every module shares, the names of its keys and values, and the decision type
//! the rules return.
//!
//! A session is kept in the original's JSON shape ([`SessionJson`]): every key of its session file plus the keys the
//! collector computes. The original reads session files as Python dicts, so several rules depend on Python's
//! truthiness and equality; [`truthy`] and friends reproduce them on `serde_json::Value`.
//!
//! Nothing here does I/O or imports another module of the crate.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A session as the collector builds it: every key of its session file plus the computed keys
/// (`context_usage`, `conversation_mtime_ns`, `is_dead`, ...). This is the original's JSON shape.
pub type SessionJson = Map<String, Value>;

/// The keys of a session file and of a collected session.
pub mod key {
    /// The session id (`sessions/<session_id>.json`).
    pub const SESSION_ID: &str = "session_id";
    /// One of [`super::status`].
    pub const STATUS: &str = "status";
    /// One of [`super::agent`].
    pub const AGENT: &str = "agent";
    /// The project directory the agent runs in.
    pub const PROJECT_DIR: &str = "project_dir";
    /// The agent's working directory.
    pub const CWD: &str = "cwd";
    /// The Claude transcript or Codex rollout.
    pub const TRANSCRIPT_PATH: &str = "transcript_path";
    /// `ZELLIJ_SESSION_NAME` of the agent's pane.
    pub const ZELLIJ_SESSION: &str = "zellij_session";
    /// `ZELLIJ_PANE_ID` of the agent's pane.
    pub const ZELLIJ_PANE: &str = "zellij_pane";
    /// The last hook event's name.
    pub const LAST_EVENT: &str = "last_event";
    /// The last hook event's time.
    pub const LAST_EVENT_AT: &str = "last_event_at";
    /// When the session started.
    pub const STARTED_AT: &str = "started_at";
    /// The questions the agent waits on.
    pub const PENDING_QUESTIONS: &str = "pending_questions";
    /// Computed: the context window's usage.
    pub const CONTEXT_USAGE: &str = "context_usage";
    /// Computed: whether the context window size was inferred rather than known.
    pub const CONTEXT_WINDOW_INFERRED: &str = "context_window_inferred";
    /// Computed: the transcript's mtime in nanoseconds.
    pub const CONVERSATION_MTIME_NS: &str = "conversation_mtime_ns";
    /// The context tokens when the current turn started (written back into the session file).
    pub const TURN_START_TOKENS: &str = "turn_start_tokens";
    /// Computed: whether the agent is gone.
    pub const IS_DEAD: &str = "is_dead";
    /// Computed: why `is_dead` is true.
    pub const LIVENESS_REASON: &str = "liveness_reason";
    /// Why the status is what it is when an event or a rule says so (a StopFailure's error, process evidence).
    pub const STATUS_REASON: &str = "status_reason";
    /// What the agent waits on the user for: an [`super::Attention`] object; absent when nothing is held.
    pub const ATTENTION: &str = "attention";
    /// The sub-agents running, as `[{"agent_id", "agent_type", "since"}]` (SubagentStart adds, SubagentStop removes).
    pub const RUNNING_SUBAGENTS: &str = "running_subagents";
    /// The time of the last hook event (only the hook writes it; Codex discovery compares it with the rollout).
    pub const HOOK_EVENT_AT: &str = "hook_event_at";
    /// When PreCompact fired, until the compaction's transcript boundary was logged (only the hook uses it).
    pub const COMPACTING_SINCE: &str = "compacting_since";
    /// `true` while remote approval is on ("I am away from this pane"): the session's PermissionRequest hooks wait
    /// for a remote decision. Only the server's `remote_approval` action writes it; the hook keeps it.
    pub const REMOTE_APPROVAL: &str = "remote_approval";
}

/// What a session waits on the user for, recorded by the hook as the session file's `attention` object next to
/// `status` (which is then `needs_attention`). Absent (no key) when nothing is held.
///
/// ```json
/// {"kind": "permission", "since": "2026-12-05T18:00:00.123456Z", "event": "PermissionRequest",
///  "tool_name": "Bash", "tool_input_summary": "touch /tmp/x"}
/// ```
///
/// `since` is when the hold began: a later event about the same hold (the `permission_prompt` Notification ~6 s
/// after a PermissionRequest, a duplicated event) keeps it. Everything but `kind`, `since` and `event` is optional;
/// text fields are at most 200 characters. Read leniently: [`Attention::from_value`] returns `None` for anything that
/// is not an object with a known `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// Why the agent is blocked.
    pub kind: AttentionKind,
    /// When the hold began (RFC 3339 UTC).
    pub since: String,
    /// The hook event that raised it: `PermissionRequest`, `Notification`, `PreToolUse` (AskUserQuestion) or `Stop`
    /// (a final message ending in a question).
    pub event: String,
    /// The tool waiting for the user's decision (`Bash`, `AskUserQuestion`, an MCP tool, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// A short form of the tool's input: the command, the file path or URL, else its compact JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_input_summary: Option<String>,
    /// The tool call's id, when the event carries one (PreToolUse does; PermissionRequest does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    /// The id amc's server gave a PermissionRequest the hook registered: what `Decide` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The notification's message or the question asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The Notification's `notification_type`, when a Notification raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_type: Option<String>,
}

/// The kinds of [`Attention`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// A tool waits for the user's permission (PermissionRequest, `permission_prompt`).
    Permission,
    /// The agent asked the user something (AskUserQuestion, a final message ending in `?`, `agent_needs_input`).
    Question,
    /// An MCP server asks the user for input (`elicitation_dialog`, `elicitation_url_dialog`).
    Elicitation,
}

impl AttentionKind {
    /// The kind's name in the session file.
    pub fn as_str(self) -> &'static str {
        match self {
            AttentionKind::Permission => "permission",
            AttentionKind::Question => "question",
            AttentionKind::Elicitation => "elicitation",
        }
    }
}

impl Attention {
    /// Reads a session file's `attention` value; `None` when it is absent, `null` or not a well-formed attention.
    pub fn from_value(value: Option<&Value>) -> Option<Attention> {
        serde_json::from_value(value?.clone()).ok()
    }

    /// Returns the attention as the session file's JSON object.
    pub fn to_value(&self) -> Value {
        // A struct of strings always serializes.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The session statuses (the hook writes them; the collector may override them from process evidence).
pub mod status {
    /// SessionStart: the agent started and no prompt was submitted yet.
    pub const STARTING: &str = "starting";
    /// The agent is working on a prompt.
    pub const ACTIVE: &str = "active";
    /// The agent waits for the user (a question or a permission prompt).
    pub const NEEDS_ATTENTION: &str = "needs_attention";
    /// The agent finished its turn.
    pub const DONE: &str = "done";
    /// Event-log only: SessionEnd moved the session file to the trash.
    pub const ENDED: &str = "ended";
}

/// The agents.
pub mod agent {
    /// Claude Code.
    pub const CLAUDE: &str = "claude";
    /// OpenAI Codex.
    pub const CODEX: &str = "codex";
}

/// Returns Python's truthiness of `value` (`None`/missing, `null`, `false`, `0`, `""`, `[]` and `{}` are false).
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// Returns `session[key]` when it is a string (possibly empty), like `data.get(key) == "..."` comparisons need.
pub fn str_field<'a>(session: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    session.get(key).and_then(Value::as_str)
}

/// Returns the string form of a JSON scalar: a string as itself, anything else as its JSON text (`3` → `"3"`).
pub fn string_form(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Returns the original's sort key, `session.get("session_id", "")`, as a string (a non-string id sorts by its JSON
/// text; the original would have raised on mixed types).
pub fn sort_key(session: &SessionJson) -> String {
    session.get(key::SESSION_ID).map(string_form).unwrap_or_default()
}

/// Returns the string form of a JSON scalar ([`string_form`]), borrowed when it is a string.
pub fn string_form_ref(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// [`sort_key`], borrowed when the id is a string (sorting a pass's sessions copies no id).
pub fn sort_key_ref(session: &SessionJson) -> std::borrow::Cow<'_, str> {
    session
        .get(key::SESSION_ID)
        .map_or(std::borrow::Cow::Borrowed(""), string_form_ref)
}

/// The session field a [`Decision`] is about.
pub mod field {
    /// The session's `status` (and `status_reason`, `pending_questions` with it).
    pub const STATUS: &str = "status";
    /// The session's `is_dead` (and `liveness_reason` with it).
    pub const IS_DEAD: &str = "is_dead";
    /// The session's `context_usage` (its context window).
    pub const CONTEXT_WINDOW: &str = "context_window";
    /// The `turn_start_tokens` recorded for the session (and written back to its file).
    pub const TURN_START_TOKENS: &str = "turn_start_tokens";
    /// The outcome of the same-pane dedupe: the winner's or a loser's.
    pub const DEDUPE: &str = "dedupe";
    /// The removal of a file (session file or event log) to the trash.
    pub const REMOVAL: &str = "removal";
    /// The Zellij pane a Codex session was assigned to.
    pub const PANE: &str = "pane";
}

/// One decision of one rule about one session: which field it set, to what, by which rule, and on what evidence.
///
/// Rules return decisions; the collector applies them and keeps them per session (see `collect::Pass`), so a user
/// asking "why is this session dead / why did it disappear?" gets the rule and its facts, not a guess. A decision is
/// plain data: it serializes to `{"field", "value", "rule", "evidence": {...}, "at"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The field decided, one of [`field`] (`"status"`, `"is_dead"`, `"context_window"`, `"dedupe"`, `"removal"`, …).
    pub field: &'static str,
    /// The value set (for a removal, the reason: the same words as the log line).
    pub value: Value,
    /// The rule that decided, as its path: `"rules::dedupe::losers"`.
    pub rule: &'static str,
    /// The facts the rule used: files and lines, pids, the Zellij line, timestamps and thresholds.
    pub evidence: Map<String, Value>,
    /// When it was decided: the pass's `now`, in seconds since the Unix epoch.
    pub at: f64,
}

impl Decision {
    /// Returns a decision of `rule` setting `field` to `value` at `at`, with no evidence yet.
    pub fn new(field: &'static str, rule: &'static str, value: impl Into<Value>, at: f64) -> Self {
        Decision {
            field,
            value: value.into(),
            rule,
            evidence: Map::new(),
            at,
        }
    }

    /// Adds one piece of evidence.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(name.to_owned(), value.into());
        self
    }
}

/// The decisions that made one session what it is in a pass, in the order they were taken (a later decision on the
/// same field overrides an earlier one).
pub type SessionDecisions = Vec<Decision>;

/// A file a pass moved to the trash (a session file or an event log), with the decisions that made the session what
/// it was and removed it (the last one is the removal, whose value is the reason logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Removed {
    /// The session the file belonged to: its `session_id` (for an event log or a stale file, the file's stem).
    pub session_id: String,
    /// The file removed.
    pub file: std::path::PathBuf,
    /// Where it went in `trash/`.
    pub trash_path: Option<std::path::PathBuf>,
    /// The decisions, ending with the removal.
    pub decisions: SessionDecisions,
    /// When it was decided, in seconds since the Unix epoch.
    pub at: f64,
}

/// Returns `time` in seconds since the Unix epoch (the unit of [`Decision::at`]); 0 before the epoch.
pub fn epoch_seconds(time: std::time::SystemTime) -> f64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Helpers for tests that build sessions.
#[cfg(test)]
pub(crate) mod test_util {
    use super::SessionJson;
    use serde_json::Value;

    /// Returns the JSON object `value` as a session.
    ///
    /// # Panics
    /// When `value` is not an object (a mistake in the test itself).
    pub fn object(value: Value) -> SessionJson {
        match value {
            Value::Object(map) => map,
            other => panic!("a test session must be a JSON object, not {other}"),
        }
    }

    /// Returns a session with just an id, a status and an agent.
    pub fn session(id: &str, status: &str, agent: &str) -> SessionJson {
        object(serde_json::json!({"session_id": id, "status": status, "agent": agent}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_python() {
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(Some(&falsy)), "{falsy} should be falsy");
        }
        for t in [
            json!(true),
            json!(1),
            json!(-2.5),
            json!("x"),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(truthy(Some(&t)), "{t} should be truthy");
        }
        assert!(!truthy(None));
    }

    #[test]
    fn string_form_and_sort_key() {
        assert_eq!(string_form(&json!("3")), "3");
        assert_eq!(string_form(&json!(3)), "3");
        let s = json!({"session_id": "b"}).as_object().cloned().unwrap_or_default();
        assert_eq!(sort_key(&s), "b");
        assert_eq!(sort_key(&SessionJson::new()), "");
        for id in [json!("b"), json!(3), json!(null), json!([1])] {
            let s = json!({"session_id": id}).as_object().cloned().unwrap_or_default();
            assert_eq!(sort_key_ref(&s), sort_key(&s));
        }
        assert_eq!(sort_key_ref(&SessionJson::new()), "");
    }

    #[test]
    fn a_decision_serializes_as_the_explain_shape() {
        let decision =
            Decision::new(field::IS_DEAD, "rules::liveness::dead_reason", true, 12.5).with("zellij_session", "main");
        assert_eq!(
            serde_json::to_value(&decision).ok(),
            Some(json!({
                "field": "is_dead",
                "value": true,
                "rule": "rules::liveness::dead_reason",
                "evidence": {"zellij_session": "main"},
                "at": 12.5
            }))
        );
    }
}
