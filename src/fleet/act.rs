//! Actions across hosts: a hub sends an action on another host's session as a NATS request on that host's subject
//! (`amc.fleet.act.<host>`); the host runs it through its own action layer (rate limit, audit) and replies with the
//! result or the error. The hub has already checked the caller's token scope; the host trusts its subject (restrict
//! who may publish on `amc.fleet.act.>` with NATS permissions, docs/fleet.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{
    error::Error,
    wire::{Action, ActionResult},
};

/// How long a hub waits for the owning host's answer.
pub const ACT_TIMEOUT: Duration = Duration::from_secs(15);

/// One action request, hub → host (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActRequest {
    /// The hub's host name (for the host's audit line).
    pub hub: String,
    /// The name of the token the caller used on the hub, if any.
    pub token: Option<String>,
    /// The caller's address as the hub saw it.
    pub client: Option<String>,
    /// The session acted on.
    pub session_id: String,
    /// The action's name (`decide`, `send_text`, ...).
    pub action: String,
    /// The action's arguments, as the HTTP route's JSON body.
    pub body: serde_json::Value,
}

/// The host's answer (JSON): the result, or an error's code and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActReply {
    /// What the action did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Its detail.
    #[serde(default)]
    pub detail: String,
    /// The error's code name (`NOT_FOUND`, ...), when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error's message.
    #[serde(default)]
    pub error: String,
}

impl ActReply {
    /// The reply for `result`.
    pub fn from_result(result: &Result<ActionResult, Error>) -> Self {
        match result {
            Ok(done) => ActReply {
                outcome: Some(done.outcome.clone()),
                detail: done.detail.clone(),
                error_code: None,
                error: String::new(),
            },
            Err(error) => ActReply {
                outcome: None,
                detail: String::new(),
                error_code: Some(error.code_name().to_owned()),
                error: error.to_string(),
            },
        }
    }

    /// The result for the hub's caller, for `action` on `session_id` of `host`.
    pub fn into_result(self, host: &str, session_id: &str, action: &Action) -> Result<ActionResult, Error> {
        match (self.outcome, self.error_code) {
            (Some(outcome), None) => Ok(ActionResult {
                session_id: session_id.to_owned(),
                action: action.name().to_owned(),
                outcome,
                detail: self.detail,
            }),
            (_, code) => Err(Error::from_code_name(
                code.as_deref().unwrap_or("INTERNAL"),
                format!("host {host}: {}", self.error),
            )),
        }
    }
}

/// A hub's way to other hosts.
#[derive(Debug, Clone)]
pub struct Router {
    client: async_nats::Client,
    hub: String,
}

impl Router {
    /// Routes through `client`; `hub` is this server's host name.
    pub fn new(client: async_nats::Client, hub: String) -> Self {
        Router { client, hub }
    }

    /// Runs `action` on `session_id` of `host` and returns its result; a host that does not answer is
    /// [`Error::FailedPrecondition`].
    pub async fn act(
        &self,
        host: &str,
        token: Option<&str>,
        client: Option<String>,
        session_id: &str,
        action: &Action,
    ) -> Result<ActionResult, Error> {
        let request = ActRequest {
            hub: self.hub.clone(),
            token: token.map(str::to_owned),
            client,
            session_id: session_id.to_owned(),
            action: action.name().to_owned(),
            body: action.to_json_body(),
        };
        let payload = serde_json::to_vec(&request).map_err(|e| Error::Internal(e.to_string()))?;
        let sent = self
            .client
            .send_request(
                super::act_subject(host),
                async_nats::Request::new()
                    .payload(payload.into())
                    .timeout(Some(ACT_TIMEOUT)),
            )
            .await;
        let message = sent.map_err(|error| {
            use async_nats::RequestErrorKind as K;
            match error.kind() {
                K::NoResponders => Error::FailedPrecondition(format!(
                    "host {host} is not connected to the fleet (no amc answers on its subject)"
                )),
                K::TimedOut => {
                    Error::FailedPrecondition(format!("host {host} did not answer within {} s", ACT_TIMEOUT.as_secs()))
                }
                K::Other => Error::FailedPrecondition(format!("reaching host {host} through NATS: {error}")),
            }
        })?;
        let reply: ActReply = serde_json::from_slice(&message.payload)
            .map_err(|e| Error::Internal(format!("host {host} answered something that is no reply: {e}")))?;
        reply.into_result(host, session_id, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_results_and_errors_across() {
        let action = Action::Dismiss;
        let ok = ActReply::from_result(&Ok(ActionResult {
            session_id: "s".into(),
            action: "dismiss".into(),
            outcome: "dismissed".into(),
            detail: "/trash/x".into(),
        }));
        let json = serde_json::to_vec(&ok).expect("json");
        let back: ActReply = serde_json::from_slice(&json).expect("parses");
        let done = back.into_result("h", "s", &action).expect("ok");
        assert_eq!((done.outcome.as_str(), done.detail.as_str()), ("dismissed", "/trash/x"));
        let failed = ActReply::from_result(&Err(Error::NotFound("no session s".into())));
        let error = failed.into_result("h", "s", &action).expect_err("an error");
        assert!(
            matches!(&error, Error::NotFound(m) if m.contains("host h") && m.contains("no session s")),
            "{error}"
        );
    }
}
