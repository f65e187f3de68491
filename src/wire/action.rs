//! An action on a session in both shapes: the HTTP route's name and JSON body or the `amc.v1.ActionService`
//! request → [`Action`]; what it did, [`ActionResult`] → JSON or `amc.v1.ActionResult`.

use crate::{error::Error, proto as pb};

/// A decision for a held permission request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow (else deny).
    pub allow: bool,
    /// Shown to Claude with a denial.
    pub message: Option<String>,
}

/// An action and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Allow or deny the held permission request `request_id`.
    Decide {
        /// The session's `attention.request_id`.
        request_id: String,
        /// The decision.
        decision: Decision,
    },
    /// Type `text`, then Enter.
    SendText {
        /// Printable text.
        text: String,
    },
    /// Answer the pending question: option numbers (1-based) or free text.
    Answer {
        /// The options picked.
        options: Vec<u32>,
        /// Free text instead.
        text: String,
    },
    /// Turn remote approval on or off: while on, the session's PermissionRequest hooks wait for `decide`.
    SetRemoteApproval {
        /// On or off.
        enabled: bool,
    },
    /// Move a dead, done or ended session's file to the trash.
    Dismiss,
    /// Bring the newest trashed file of a session back.
    Restore,
    /// Focus the session's own Zellij pane.
    Focus,
}

impl Action {
    /// The action's name in routes and audit lines.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Decide { .. } => "decide",
            Action::SendText { .. } => "send_text",
            Action::Answer { .. } => "answer",
            Action::SetRemoteApproval { .. } => "remote_approval",
            Action::Dismiss => "dismiss",
            Action::Restore => "restore",
            Action::Focus => "focus",
        }
    }

    /// Parses an HTTP action name and JSON body (`Null` for none): `decide` `{"request_id", "behavior":
    /// "allow"|"deny", "message"?}`, `send_text` `{"text"}`, `answer` `{"options": [n, …]}` or `{"text"}`,
    /// `remote_approval` `{"enabled": bool}`, `dismiss`, `restore`, `focus`.
    pub fn from_json(name: &str, body: &serde_json::Value) -> Result<Action, Error> {
        let text = |key: &str| body.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
        match name {
            "decide" => {
                let request_id = text("request_id")
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| Error::InvalidArgument("decide needs a request_id".into()))?;
                let allow = match text("behavior").as_deref() {
                    Some("allow") => true,
                    Some("deny") => false,
                    _ => return Err(Error::InvalidArgument("behavior must be \"allow\" or \"deny\"".into())),
                };
                Ok(Action::Decide {
                    request_id,
                    decision: Decision {
                        allow,
                        message: text("message").filter(|m| !m.is_empty()),
                    },
                })
            }
            "send_text" => Ok(Action::SendText {
                text: text("text").ok_or_else(|| Error::InvalidArgument("send_text needs a text".into()))?,
            }),
            "answer" => {
                let options = match body.get("options") {
                    None | Some(serde_json::Value::Null) => Vec::new(),
                    Some(serde_json::Value::Array(items)) => items
                        .iter()
                        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
                        .collect::<Option<Vec<u32>>>()
                        .ok_or_else(|| Error::InvalidArgument("options must be option numbers".into()))?,
                    Some(_) => return Err(Error::InvalidArgument("options must be a list".into())),
                };
                Ok(Action::Answer {
                    options,
                    text: text("text").unwrap_or_default(),
                })
            }
            "remote_approval" => Ok(Action::SetRemoteApproval {
                enabled: body
                    .get("enabled")
                    .and_then(serde_json::Value::as_bool)
                    .ok_or_else(|| Error::InvalidArgument("remote_approval needs \"enabled\": true or false".into()))?,
            }),
            "dismiss" => Ok(Action::Dismiss),
            "restore" => Ok(Action::Restore),
            "focus" => Ok(Action::Focus),
            other => Err(Error::NotFound(format!("no action {other:?}"))),
        }
    }
}

impl Action {
    /// The HTTP route's JSON body of this action ([`Action::from_json`] parses it back).
    pub fn to_json_body(&self) -> serde_json::Value {
        match self {
            Action::Decide { request_id, decision } => serde_json::json!({
                "request_id": request_id,
                "behavior": if decision.allow { "allow" } else { "deny" },
                "message": decision.message,
            }),
            Action::SendText { text } => serde_json::json!({ "text": text }),
            Action::Answer { options, text } => serde_json::json!({ "options": options, "text": text }),
            Action::SetRemoteApproval { enabled } => serde_json::json!({ "enabled": enabled }),
            Action::Dismiss | Action::Restore | Action::Focus => serde_json::Value::Null,
        }
    }

    /// `amc.v1.DecideRequest` → (session id, action).
    pub fn from_decide(request: pb::DecideRequest) -> Result<(String, Action), Error> {
        let allow = match pb::Behavior::try_from(request.behavior) {
            Ok(pb::Behavior::Allow) => true,
            Ok(pb::Behavior::Deny) => false,
            _ => {
                return Err(Error::InvalidArgument(
                    "behavior must be BEHAVIOR_ALLOW or BEHAVIOR_DENY".into(),
                ))
            }
        };
        if request.request_id.is_empty() {
            return Err(Error::InvalidArgument("decide needs a request_id".into()));
        }
        let decision = Decision {
            allow,
            message: request.message.filter(|m| !m.is_empty()),
        };
        Ok((
            request.session_id,
            Action::Decide {
                request_id: request.request_id,
                decision,
            },
        ))
    }

    /// `amc.v1.SendTextRequest` → (session id, action).
    pub fn from_send_text(request: pb::SendTextRequest) -> (String, Action) {
        (request.session_id, Action::SendText { text: request.text })
    }

    /// `amc.v1.SetRemoteApprovalRequest` → (session id, action).
    pub fn from_set_remote_approval(request: pb::SetRemoteApprovalRequest) -> (String, Action) {
        (
            request.session_id,
            Action::SetRemoteApproval {
                enabled: request.enabled,
            },
        )
    }

    /// `amc.v1.AnswerRequest` → (session id, action).
    pub fn from_answer(request: pb::AnswerRequest) -> (String, Action) {
        (
            request.session_id,
            Action::Answer {
                options: request.options,
                text: request.text,
            },
        )
    }
}

/// What an action did, for its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResult {
    /// The session acted on.
    pub session_id: String,
    /// The action's name.
    pub action: String,
    /// `delivered`, `already_answered`, `withdrawn`, `pane_gone`, `dismissed`, …
    pub outcome: String,
    /// For people.
    pub detail: String,
}

impl ActionResult {
    /// The HTTP body: `{"session_id", "action", "outcome", "detail"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "session_id": self.session_id,
            "action": self.action,
            "outcome": self.outcome,
            "detail": self.detail,
        })
    }

    /// The gRPC answer.
    pub fn to_proto(&self) -> pb::ActionResult {
        pb::ActionResult {
            session_id: self.session_id.clone(),
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            detail: self.detail.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_parse_to_the_same_action() {
        let json = serde_json::json!({"request_id": "r1", "behavior": "deny", "message": "no"});
        let from_json = Action::from_json("decide", &json).expect("valid");
        let (session, from_proto) = Action::from_decide(pb::DecideRequest {
            session_id: "s".into(),
            request_id: "r1".into(),
            behavior: pb::Behavior::Deny.into(),
            message: Some("no".into()),
        })
        .expect("valid");
        assert_eq!((session.as_str(), &from_proto), ("s", &from_json));
        for bad in [
            serde_json::json!({"request_id": "r1", "behavior": "maybe"}),
            serde_json::json!({"behavior": "allow"}),
        ] {
            assert!(
                matches!(Action::from_json("decide", &bad), Err(Error::InvalidArgument(_))),
                "{bad}"
            );
        }
        assert!(Action::from_decide(pb::DecideRequest {
            request_id: "r".into(),
            ..Default::default()
        })
        .is_err());
        assert_eq!(
            Action::from_json("answer", &serde_json::json!({"options": [1, 3]})).expect("valid"),
            Action::from_answer(pb::AnswerRequest {
                session_id: "s".into(),
                options: vec![1, 3],
                text: String::new()
            })
            .1
        );
        assert!(Action::from_json("answer", &serde_json::json!({"options": [-1]})).is_err());
        assert!(matches!(
            Action::from_json("launch", &serde_json::Value::Null),
            Err(Error::NotFound(_))
        ));
        let result = ActionResult {
            session_id: "s".into(),
            action: "decide".into(),
            outcome: "delivered".into(),
            detail: String::new(),
        };
        assert_eq!(result.to_json()["outcome"], result.to_proto().outcome);
        // Every action survives its JSON body (the fleet sends actions to other hosts that way).
        for action in [
            from_json.clone(),
            Action::SendText { text: "hi".into() },
            Action::Answer {
                options: vec![2],
                text: String::new(),
            },
            Action::Answer {
                options: Vec::new(),
                text: "free".into(),
            },
            Action::SetRemoteApproval { enabled: true },
            Action::Dismiss,
            Action::Restore,
        ] {
            assert_eq!(
                Action::from_json(action.name(), &action.to_json_body()).expect("parses"),
                action
            );
        }
    }
}
