//! The action layer every way of acting goes through (HTTP `POST /api/sessions/{id}/{action}` now, the gRPC
//! `ActionService` on the same functions): the session id checked, the rate limit per token and per session, the
//! action run, and one audit line whatever happened. Also `GET /api/audit`.
//!
//! Actions: `decide` (a held permission request, see [`super::approvals`]), `send_text` and `answer` (typed into the
//! session's own Zellij pane, see [`super::pane`]), `focus` (the session's own Zellij pane gets the focus),
//! `remote_approval` (the session file's `remote_approval` key, read by [`hook_register`]: the session file owns it,
//! so it survives a server restart), `dismiss` (a dead, done or ended session's file goes to the trash and the
//! session leaves the list) and `restore` (the newest trashed file of the session comes back).

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Instant, SystemTime},
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    routing::{get, post},
    Extension, Json, Router,
};

use super::{
    approvals::Approvals,
    audit::{summarize, AuditLog},
    auth::Caller,
    limit::RateLimiter,
    pane::{self, Pane, Piece, Typed, Zellij},
};
use crate::{
    config::Paths,
    error::Error,
    fleet,
    model::{self, status, Attention, AttentionKind},
    publisher::StateHandle,
    sources::session_file,
    store,
    wire::{Action, ActionResult},
};

/// The most text `send_text` and `answer` type (16 KiB).
pub const MAX_TEXT: usize = 16 * 1024;

/// The arguments of `action` as written to the audit log (text cut short).
fn summary(action: &Action) -> serde_json::Value {
    match action {
        Action::Decide { request_id, decision } => serde_json::json!({
            "request_id": request_id,
            "behavior": if decision.allow { "allow" } else { "deny" },
            "message": decision.message.as_deref().map(summarize),
        }),
        Action::SendText { text } => serde_json::json!({ "text": summarize(text), "bytes": text.len() }),
        Action::Answer { options, text } => serde_json::json!({ "options": options, "text": summarize(text) }),
        Action::SetRemoteApproval { enabled } => serde_json::json!({ "enabled": enabled }),
        Action::Dismiss | Action::Restore | Action::Focus => serde_json::json!({}),
    }
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `dismissed`, `restored`, `already_present`, …
    pub outcome: &'static str,
    /// A detail for people (where the file went).
    pub detail: String,
}

impl Outcome {
    /// The answer to `action` on `session`, in both shapes.
    pub fn result(&self, session: &str, action: &Action) -> ActionResult {
        ActionResult {
            session_id: session.to_owned(),
            action: action.name().to_owned(),
            outcome: self.outcome.to_owned(),
            detail: self.detail.clone(),
        }
    }
}

/// Everything the actions need; one per server.
#[derive(Debug)]
pub struct Actions {
    paths: Arc<Paths>,
    state: StateHandle,
    /// The audit log (also used by the auth middleware for refusals).
    pub audit: Arc<AuditLog>,
    /// The held permission requests.
    pub approvals: Arc<Approvals>,
    limiter: RateLimiter,
    zellij: Zellij,
    /// How long a held PermissionRequest hook waits for a decision.
    approval_wait: std::time::Duration,
    /// Ends held waits on shutdown (the hooks then fall back to Claude Code's dialog).
    shutdown: tokio_util::sync::CancellationToken,
    /// On a fleet hub: how to reach the host that owns a session.
    fleet: Option<FleetRouting>,
}

/// A hub's routing of actions to other hosts.
#[derive(Debug, Clone)]
pub struct FleetRouting {
    /// The NATS request/reply to the owning host.
    pub router: fleet::act::Router,
    /// Who owns which session.
    pub view: fleet::hub::HubView,
    /// This server's own host (its sessions are acted on here).
    pub own_host: String,
}

impl Actions {
    /// The action layer over `state`, writing to `audit`, allowing `rate` actions a second per token and per session,
    /// holding every session's permission requests when `hold_always`.
    pub fn new(paths: Arc<Paths>, state: StateHandle, audit: Arc<AuditLog>, rate: u32, hold_always: bool) -> Self {
        Actions {
            zellij: Zellij::new(paths.zellij_bin.clone()),
            paths,
            state,
            audit,
            approvals: Arc::new(Approvals::new(hold_always)),
            limiter: RateLimiter::new(rate),
            approval_wait: std::time::Duration::from_secs(600),
            shutdown: tokio_util::sync::CancellationToken::new(),
            fleet: None,
        }
    }

    /// Routes actions on other hosts' sessions through the fleet (a hub).
    #[must_use]
    pub fn with_fleet(mut self, fleet: Option<FleetRouting>) -> Self {
        self.fleet = fleet;
        self
    }

    /// Runs `action` on `session` for `caller`: here, or on a hub on the host that owns the session (by NATS
    /// request/reply; audited here with the host, and there with the hub and the token name).
    pub async fn act(&self, caller: &Caller, session: &str, action: Action) -> Result<ActionResult, Error> {
        if let Some(fleet) = &self.fleet {
            let owners = fleet.view.owners(session);
            let remote = match owners.as_slice() {
                [host] if *host != fleet.own_host => Some(Ok(host.clone())),
                [_, _, ..] => Some(Err(Error::FailedPrecondition(format!(
                    "session {session} is reported by several hosts ({}); act on it on its own host",
                    owners.join(", ")
                )))),
                _ => None,
            };
            if let Some(host) = remote {
                let mut args = summary(&action);
                if let (Some(map), Ok(host)) = (args.as_object_mut(), &host) {
                    map.insert("host".into(), host.clone().into());
                }
                let entry = caller.audit_entry(session, action.name(), args);
                let result = match host {
                    Ok(host) => self.act_remote(fleet, &host, caller, session, &action).await,
                    Err(error) => Err(error),
                };
                self.audit.append(&match &result {
                    Ok(done) => entry.done(&done.outcome),
                    Err(error) => entry.refused(error),
                });
                return result;
            }
        }
        let done = self.perform(caller, session, action.clone()).await?;
        Ok(done.result(session, &action))
    }

    async fn act_remote(
        &self,
        fleet: &FleetRouting,
        host: &str,
        caller: &Caller,
        session: &str,
        action: &Action,
    ) -> Result<ActionResult, Error> {
        let token_key = format!("token:{}", caller.token.as_deref().unwrap_or("-"));
        let session_key = format!("session:{host}/{session}");
        if !self.limiter.allow(&[&token_key, &session_key], Instant::now()) {
            return Err(Error::ResourceExhausted(format!(
                "too many actions for this token or session {session}; retry in a second"
            )));
        }
        let client = caller.remote.map(|a| a.to_string());
        fleet
            .router
            .act(host, caller.token.as_deref(), client, session, action)
            .await
    }

    /// Ends held waits when `shutdown` fires.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: tokio_util::sync::CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Sets how long a held PermissionRequest hook waits for a decision (10 min by default).
    #[must_use]
    pub fn with_approval_wait(mut self, wait: std::time::Duration) -> Self {
        self.approval_wait = wait;
        self
    }

    /// Runs `action` on `session` for `caller`, rate-limited, and audits it.
    pub async fn perform(&self, caller: &Caller, session: &str, action: Action) -> Result<Outcome, Error> {
        let entry = caller.audit_entry(session, action.name(), summary(&action));
        let result = self.run(caller, session, &action).await;
        self.audit.append(&match &result {
            Ok(outcome) => entry.done(outcome.outcome),
            Err(error) => entry.refused(error),
        });
        result
    }

    async fn run(&self, caller: &Caller, session: &str, action: &Action) -> Result<Outcome, Error> {
        let file = store::session_file(&self.paths, session)
            .ok_or_else(|| Error::InvalidArgument(format!("unsafe session id {session:?}")))?;
        let token_key = format!("token:{}", caller.token.as_deref().unwrap_or("-"));
        let session_key = format!("session:{session}");
        if !self.limiter.allow(&[&token_key, &session_key], Instant::now()) {
            return Err(Error::ResourceExhausted(format!(
                "too many actions for this token or session {session}; retry in a second"
            )));
        }
        match action {
            Action::Decide { request_id, decision } => {
                let outcome = self.approvals.decide(session, request_id, decision.clone())?;
                Ok(Outcome {
                    outcome,
                    detail: String::new(),
                })
            }
            Action::SendText { text } => {
                pane::check_text(text, MAX_TEXT)?;
                self.type_into(session, &[Piece::Text(text), Piece::Key("Enter")], None)
                    .await
            }
            Action::Answer { options, text } => self.answer(session, options, text).await,
            Action::SetRemoteApproval { enabled } => self.set_remote_approval(session, *enabled).await,
            Action::Dismiss => self.dismiss(session, file),
            Action::Restore => self.restore(session, file),
            Action::Focus => {
                let (target, detail) = match self.pane_of(session)? {
                    Ok(found) => found,
                    Err(gone) => return Ok(gone),
                };
                let outcome = match self.zellij.focus(&target).await? {
                    Typed::Delivered => "focused",
                    Typed::PaneGone => "pane_gone",
                };
                Ok(Outcome { outcome, detail })
            }
        }
    }

    /// Turns remote approval on or off in the session's file (under its lock, as the hook writes it): the file owns
    /// the switch, so it lasts as long as the session, across server restarts.
    async fn set_remote_approval(&self, id: &str, enabled: bool) -> Result<Outcome, Error> {
        let listed = self.listed(id)?;
        if model::str_field(&listed, model::key::AGENT) == Some(model::agent::CODEX) {
            return Err(Error::FailedPrecondition(format!(
                "session {id} is a Codex session; remote approval holds Claude Code's PermissionRequest hook"
            )));
        }
        let (paths, owned) = (self.paths.clone(), id.to_owned());
        let wrote = tokio::task::spawn_blocking(move || {
            session_file::upsert_session(&paths, &owned, |existing| {
                let mut session = existing?.clone();
                if enabled {
                    session.insert(model::key::REMOTE_APPROVAL.to_owned(), serde_json::Value::Bool(true));
                } else {
                    session.shift_remove(model::key::REMOTE_APPROVAL);
                }
                Some(session)
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("writing remote approval: {e}")))?
        .map_err(|e| Error::Internal(format!("writing the session file of {id}: {e}")))?;
        if !wrote {
            return Err(Error::FailedPrecondition(format!(
                "session {id} has no session file to keep remote approval in"
            )));
        }
        Ok(Outcome {
            outcome: if enabled { "enabled" } else { "disabled" },
            detail: String::new(),
        })
    }

    /// The listed session `id`.
    fn listed(&self, id: &str) -> Result<model::SessionJson, Error> {
        self.state
            .current()
            .sessions
            .iter()
            .find(|s| model::str_field(s, model::key::SESSION_ID) == Some(id))
            .map(|s| (**s).clone())
            .ok_or_else(|| Error::NotFound(format!("no session {id}")))
    }

    /// The Zellij pane of the listed session `id` and a detail naming it, or the `pane_gone` outcome of a dead
    /// session.
    fn pane_of(&self, id: &str) -> Result<Result<(Pane, String), Outcome>, Error> {
        Self::pane_in(id, &self.listed(id)?)
    }

    fn pane_in(id: &str, session: &model::SessionJson) -> Result<Result<(Pane, String), Outcome>, Error> {
        let field = |key| {
            model::str_field(session, key)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (Some(zellij_session), Some(pane_id)) = (field(model::key::ZELLIJ_SESSION), field(model::key::ZELLIJ_PANE))
        else {
            return Err(Error::FailedPrecondition(format!(
                "session {id} has no Zellij pane amc knows of"
            )));
        };
        let target = Pane {
            session: zellij_session,
            pane: pane_id,
        };
        let detail = format!("zellij session {} pane {}", target.session, target.pane);
        if session.get(model::key::IS_DEAD).and_then(serde_json::Value::as_bool) == Some(true) {
            return Ok(Err(Outcome {
                outcome: "pane_gone",
                detail,
            }));
        }
        Ok(Ok((target, detail)))
    }

    /// Types `pieces` into the session's pane; with `need`, only while the session waits for that kind.
    async fn type_into(&self, id: &str, pieces: &[Piece<'_>], need: Option<AttentionKind>) -> Result<Outcome, Error> {
        let session = self.listed(id)?;
        if let Some(kind) = need {
            // AskUserQuestion's own PermissionRequest (~80 ms after its PreToolUse) turns the attention into
            // `permission` with the tool name: still the question's dialog.
            let attention = Attention::from_value(session.get(model::key::ATTENTION));
            let waiting = attention
                .is_some_and(|a| a.kind == kind || a.tool_name.as_deref() == Some("AskUserQuestion"))
                || session
                    .get(model::key::PENDING_QUESTIONS)
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|q| !q.is_empty());
            if !waiting {
                return Ok(Outcome {
                    outcome: "already_answered",
                    detail: format!("session {id} waits for no {}", kind.as_str()),
                });
            }
        }
        let (target, detail) = match Self::pane_in(id, &session)? {
            Ok(found) => found,
            Err(gone) => return Ok(gone),
        };
        let outcome = match self.zellij.type_into(&target, pieces).await? {
            Typed::Delivered => "delivered",
            Typed::PaneGone => "pane_gone",
        };
        Ok(Outcome { outcome, detail })
    }

    /// Answers a question: each option's number as a key (then Enter for several: a multi-select), or the text and
    /// Enter.
    async fn answer(&self, id: &str, options: &[u32], text: &str) -> Result<Outcome, Error> {
        if options.is_empty() == text.is_empty() {
            return Err(Error::InvalidArgument("answer needs either options or a text".into()));
        }
        if let Some(bad) = options.iter().find(|n| !(1..=9).contains(*n)) {
            return Err(Error::InvalidArgument(format!("option {bad} is not 1 to 9")));
        }
        let keys: Vec<String> = options.iter().map(u32::to_string).collect();
        let mut pieces: Vec<Piece<'_>> = keys.iter().map(|k| Piece::Key(k)).collect();
        if !text.is_empty() {
            pane::check_text(text, MAX_TEXT)?;
            pieces.push(Piece::Text(text));
        }
        if options.len() != 1 {
            pieces.push(Piece::Key("Enter"));
        }
        self.type_into(id, &pieces, Some(AttentionKind::Question)).await
    }

    fn dismiss(&self, session: &str, file: PathBuf) -> Result<Outcome, Error> {
        let listed = &self.listed(session)?;
        let dead = listed.get(model::key::IS_DEAD).and_then(serde_json::Value::as_bool) == Some(true);
        let finished = matches!(
            model::str_field(listed, model::key::STATUS),
            Some(status::DONE | status::ENDED)
        );
        if !dead && !finished {
            return Err(Error::FailedPrecondition(format!(
                "session {session} is live and not done; only dead, done or ended sessions can be dismissed"
            )));
        }
        match store::move_to_trash(&self.paths, &file) {
            Ok(Some(to)) => Ok(Outcome {
                outcome: "dismissed",
                detail: to.display().to_string(),
            }),
            Ok(None) => Ok(Outcome {
                outcome: "already_dismissed",
                detail: String::new(),
            }),
            Err(e) => Err(Error::Internal(format!("moving {} to the trash: {e}", file.display()))),
        }
    }

    fn restore(&self, session: &str, file: PathBuf) -> Result<Outcome, Error> {
        if file.exists() {
            return Ok(Outcome {
                outcome: "already_present",
                detail: file.display().to_string(),
            });
        }
        let prefix = format!("{session}.json.");
        let newest = std::fs::read_dir(self.paths.trash_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)))
            .max_by_key(|e| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            })
            .ok_or_else(|| Error::NotFound(format!("no trashed file of session {session}")))?;
        // A hard link fails if the session file appeared meanwhile: nothing is overwritten.
        std::fs::hard_link(newest.path(), &file)
            .and_then(|()| std::fs::remove_file(newest.path()))
            .map_err(|e| Error::Internal(format!("restoring {}: {e}", newest.path().display())))?;
        Ok(Outcome {
            outcome: "restored",
            detail: file.display().to_string(),
        })
    }
}

/// The action routes: `POST /api/sessions/{id}/{action}`, `GET /api/audit`, and the held hook's
/// `POST /api/hook/permission` and `POST /api/hook/permission/{request_id}/wait`.
pub fn router(actions: Arc<Actions>) -> Router {
    Router::new()
        .route("/api/sessions/{id}/{action}", post(api_action))
        .route("/api/audit", get(api_audit))
        .route("/api/hook/permission", post(hook_register))
        .route("/api/hook/permission/{request_id}/wait", post(hook_wait))
        .with_state(actions)
}

/// `amc hook` on PermissionRequest registers the request: `{"session_id"}` →
/// `{"request_id": id|null, "hold": bool, "wait_ms"}`; with `hold` it then waits on [`hook_wait`].
async fn hook_register(
    State(actions): State<Arc<Actions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Error> {
    let json = parse_body(&headers, &body)?;
    let session = json
        .get("session_id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| store::is_safe_session_id(id))
        .ok_or_else(|| Error::InvalidArgument("a safe session_id is needed".into()))?;
    // Not held (AMC_APPROVALS_HOLD=never and remote approval off): no id, Claude Code asks in the pane at once.
    let remote = store::session_file(&actions.paths, session)
        .and_then(|file| session_file::read_object(&file))
        .is_some_and(|s| s.get(model::key::REMOTE_APPROVAL).and_then(serde_json::Value::as_bool) == Some(true));
    let request_id = actions
        .approvals
        .holds(remote)
        .then(|| actions.approvals.register_parked(session));
    Ok(Json(serde_json::json!({
        "request_id": request_id,
        "hold": request_id.is_some(),
        "wait_ms": u64::try_from(actions.approval_wait.as_millis()).unwrap_or(u64::MAX),
    })))
}

/// Waits for the decision of a registered request: `{"behavior": "allow"|"deny", "message"?}`, or 204 when none came
/// in time (or the request is unknown); the hook then prints nothing and Claude Code shows its dialog.
async fn hook_wait(State(actions): State<Arc<Actions>>, Path(request_id): Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let decided = tokio::select! {
        decided = actions.approvals.wait(&request_id, actions.approval_wait) => decided,
        () = actions.shutdown.cancelled() => return Error::ShuttingDown.into_response(),
    };
    match decided {
        Some(decision) => Json(serde_json::json!({
            "behavior": if decision.allow { "allow" } else { "deny" },
            "message": decision.message,
        }))
        .into_response(),
        None => axum::http::StatusCode::NO_CONTENT.into_response(),
    }
}

/// `POST /api/sessions/{id}/{action}` with an optional JSON body: `{"session_id", "action", "outcome", "detail"}`.
async fn api_action(
    State(actions): State<Arc<Actions>>,
    caller: Option<Extension<Caller>>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Error> {
    let caller = caller.map(|Extension(c)| c).unwrap_or_default();
    let parsed = parse_body(&headers, &body).and_then(|json| Action::from_json(&name, &json));
    let action = match parsed {
        Ok(action) => action,
        Err(error) => {
            actions
                .audit
                .append(&caller.audit_entry(&id, &name, serde_json::Value::Null).refused(&error));
            return Err(error);
        }
    };
    let done = actions.act(&caller, &id, action).await?;
    Ok(Json(done.to_json()))
}

/// An empty body is `null`; any other must be JSON sent as `application/json` (a form post is not).
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    if !json_type {
        return Err(Error::InvalidArgument("the body must be application/json".into()));
    }
    serde_json::from_slice(body).map_err(|e| Error::InvalidArgument(format!("bad JSON body: {e}")))
}

/// `GET /api/audit?limit=N` (default 100, at most 10 000): `{"entries": [...]}`, oldest first.
#[derive(Debug, serde::Deserialize)]
struct AuditQuery {
    limit: Option<usize>,
}

async fn api_audit(State(actions): State<Arc<Actions>>, Query(query): Query<AuditQuery>) -> Json<serde_json::Value> {
    let limit = query.limit.unwrap_or(100).min(10_000);
    Json(serde_json::json!({ "entries": actions.audit.tail(limit) }))
}
