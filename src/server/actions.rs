//! The action layer every way of acting goes through (HTTP `POST /api/sessions/{id}/{action}` now, the gRPC
//! `ActionService` on the same functions): the session id checked, the rate limit per token and per session, the
//! action run, and one audit line whatever happened. Also `GET /api/audit`.
//!
//! Actions so far: `dismiss` (a dead, done or ended session's file goes to the trash and the session leaves the
//! list) and `restore` (the newest trashed file of the session comes back).

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

use super::{audit::AuditLog, auth::Caller, limit::RateLimiter};
use crate::{
    config::Paths,
    error::Error,
    model::{self, status},
    publisher::StateHandle,
    store,
};

/// An action and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Move a dead, done or ended session's file to the trash.
    Dismiss,
    /// Bring the newest trashed file of a session back.
    Restore,
}

impl Action {
    /// The action's name in routes and audit lines.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Dismiss => "dismiss",
            Action::Restore => "restore",
        }
    }

    /// Parses an HTTP action name and JSON body (`Null` for none).
    pub fn from_json(name: &str, _body: &serde_json::Value) -> Result<Action, Error> {
        match name {
            "dismiss" => Ok(Action::Dismiss),
            "restore" => Ok(Action::Restore),
            other => Err(Error::NotFound(format!("no action {other:?}"))),
        }
    }

    /// The arguments as written to the audit log.
    fn summary(&self) -> serde_json::Value {
        serde_json::json!({})
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

/// Everything the actions need; one per server.
#[derive(Debug)]
pub struct Actions {
    paths: Arc<Paths>,
    state: StateHandle,
    /// The audit log (also used by the auth middleware for refusals).
    pub audit: Arc<AuditLog>,
    limiter: RateLimiter,
}

impl Actions {
    /// The action layer over `state`, writing to `audit`, allowing `rate` actions a second per token and per session.
    pub fn new(paths: Arc<Paths>, state: StateHandle, audit: Arc<AuditLog>, rate: u32) -> Self {
        Actions {
            paths,
            state,
            audit,
            limiter: RateLimiter::new(rate),
        }
    }

    /// Runs `action` on `session` for `caller`, rate-limited, and audits it.
    pub async fn perform(&self, caller: &Caller, session: &str, action: Action) -> Result<Outcome, Error> {
        let entry = caller.audit_entry(session, action.name(), action.summary());
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
            Action::Dismiss => self.dismiss(session, file),
            Action::Restore => self.restore(session, file),
        }
    }

    fn dismiss(&self, session: &str, file: PathBuf) -> Result<Outcome, Error> {
        let snapshot = self.state.current();
        let listed = snapshot
            .sessions
            .iter()
            .find(|s| model::str_field(s, model::key::SESSION_ID) == Some(session))
            .ok_or_else(|| Error::NotFound(format!("no session {session}")))?;
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

/// The action routes: `POST /api/sessions/{id}/{action}` and `GET /api/audit`.
pub fn router(actions: Arc<Actions>) -> Router {
    Router::new()
        .route("/api/sessions/{id}/{action}", post(api_action))
        .route("/api/audit", get(api_audit))
        .with_state(actions)
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
    let done = actions.perform(&caller, &id, action.clone()).await?;
    Ok(Json(serde_json::json!({
        "session_id": id,
        "action": action.name(),
        "outcome": done.outcome,
        "detail": done.detail,
    })))
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
