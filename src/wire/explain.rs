//! The explanation of one session (`ExplainSession`, `GET /api/sessions/{id}/explain`, `amc explain`) in both
//! shapes: the proto `ExplainSessionResponse` and the JSON
//! `{"session_id", "present", "decisions": [{"field", "value", "rule", "evidence": {...}, "at"}], "trash_path"?}`.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{model::Decision, proto as pb};

/// One decision as explained (and as kept in the decision log): [`Decision`] with owned names, so it can be read back
/// from the log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainedDecision {
    /// The field decided (`"status"`, `"is_dead"`, `"removal"`, ...).
    pub field: String,
    /// The value set.
    pub value: Value,
    /// The rule that decided, as its path.
    pub rule: String,
    /// The facts the rule used.
    #[serde(default)]
    pub evidence: Map<String, Value>,
    /// When, in seconds since the Unix epoch.
    pub at: f64,
}

impl From<&Decision> for ExplainedDecision {
    fn from(d: &Decision) -> Self {
        ExplainedDecision {
            field: d.field.to_owned(),
            value: d.value.clone(),
            rule: d.rule.to_owned(),
            evidence: d.evidence.clone(),
            at: d.at,
        }
    }
}

/// Why one session is what it is (see `publisher::decision_log`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The session asked about.
    pub session_id: String,
    /// Whether it is in the latest published state.
    pub present: bool,
    /// The decisions, in the order they were taken; for a removed session, ending with the removal.
    pub decisions: Vec<ExplainedDecision>,
    /// Where a removed session's file went in the trash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trash_path: Option<String>,
    /// When a removed session was removed (or first seen gone), in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<f64>,
}

impl Explanation {
    /// Returns the proto form (values and evidence as JSON text).
    pub fn to_proto(&self) -> pb::ExplainSessionResponse {
        pb::ExplainSessionResponse {
            session_id: self.session_id.clone(),
            present: self.present,
            decisions: self
                .decisions
                .iter()
                .map(|d| pb::Decision {
                    field: d.field.clone(),
                    value_json: d.value.to_string(),
                    rule: d.rule.clone(),
                    evidence_json: Value::Object(d.evidence.clone()).to_string(),
                    at: Some(epoch_timestamp(d.at)),
                })
                .collect(),
            trash_path: self.trash_path.clone().unwrap_or_default(),
            removed_at: self.removed_at.map(epoch_timestamp),
        }
    }

    /// Reads the proto form back (`amc explain` talking to a server); JSON text that does not parse is kept as a
    /// string.
    pub fn from_proto(response: pb::ExplainSessionResponse) -> Self {
        let parse = |text: &str| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
        Explanation {
            session_id: response.session_id,
            present: response.present,
            decisions: response
                .decisions
                .into_iter()
                .map(|d| ExplainedDecision {
                    field: d.field,
                    value: parse(&d.value_json),
                    rule: d.rule,
                    evidence: match parse(&d.evidence_json) {
                        Value::Object(map) => map,
                        _ => Map::new(),
                    },
                    at: d.at.as_ref().map_or(0.0, timestamp_seconds),
                })
                .collect(),
            trash_path: Some(response.trash_path).filter(|p| !p.is_empty()),
            removed_at: response.removed_at.as_ref().map(timestamp_seconds),
        }
    }

    /// Returns the JSON form of `/api/sessions/{id}/explain`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Returns `seconds` since the Unix epoch as a proto timestamp (negative or non-finite: the epoch).
fn epoch_timestamp(seconds: f64) -> prost_types::Timestamp {
    let since = Duration::try_from_secs_f64(seconds).unwrap_or_default();
    super::system_time(UNIX_EPOCH + since)
}

/// Returns a proto timestamp in seconds since the Unix epoch.
fn timestamp_seconds(t: &prost_types::Timestamp) -> f64 {
    t.seconds as f64 + f64::from(t.nanos) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn explanation() -> Explanation {
        let decision = Decision::new("removal", "rules::dedupe::losers", "same pane", 1_700_000_000.25)
            .with("winner", "b")
            .with("pane", 3);
        Explanation {
            session_id: "a".into(),
            present: false,
            decisions: vec![ExplainedDecision::from(&decision)],
            trash_path: Some("/d/trash/a.json.1700000000".into()),
            removed_at: Some(1_700_000_000.25),
        }
    }

    #[test]
    fn the_json_shape_is_the_routes() {
        assert_eq!(
            explanation().to_json(),
            json!({
                "session_id": "a",
                "present": false,
                "decisions": [{"field": "removal", "value": "same pane", "rule": "rules::dedupe::losers",
                               "evidence": {"winner": "b", "pane": 3}, "at": 1_700_000_000.25}],
                "trash_path": "/d/trash/a.json.1700000000",
                "removed_at": 1_700_000_000.25
            })
        );
        let mut present = explanation();
        present.present = true;
        present.trash_path = None;
        present.removed_at = None;
        let json = present.to_json();
        assert!(
            json.get("trash_path").is_none() && json.get("removed_at").is_none(),
            "{json}"
        );
    }

    #[test]
    fn the_proto_carries_json_text_and_timestamps() {
        let proto = explanation().to_proto();
        assert_eq!(proto.decisions.len(), 1);
        let d = &proto.decisions[0];
        assert_eq!(
            serde_json::from_str::<Value>(&d.value_json).ok(),
            Some(json!("same pane"))
        );
        assert_eq!(
            serde_json::from_str::<Value>(&d.evidence_json).ok(),
            Some(json!({"winner": "b", "pane": 3}))
        );
        let at = d.at.expect("a time");
        assert_eq!((at.seconds, at.nanos), (1_700_000_000, 250_000_000));
        assert_eq!(proto.trash_path, "/d/trash/a.json.1700000000");
        assert_eq!(proto.removed_at.map(|t| t.seconds), Some(1_700_000_000));
        assert_eq!(Explanation::from_proto(proto), explanation(), "read back as it was");
        assert_eq!(epoch_timestamp(-5.0).seconds, 0);
        assert_eq!(epoch_timestamp(f64::NAN).seconds, 0);
    }
}
