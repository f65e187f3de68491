//! The opt-in OTLP receiver (`AMC_OTLP=on`): OpenTelemetry logs and metrics from Claude Code and Codex, over
//! OTLP/gRPC (`opentelemetry.proto.collector.{logs,metrics}.v1` services, the `opentelemetry-proto` crate's tonic
//! types) and OTLP/HTTP protobuf (`POST /v1/logs`, `POST /v1/metrics`) on amc's own port, behind the same token
//! check as everything else.
//!
//! What is kept, per session (the `session.id` attribute, Codex's `conversation.id`), in the session file's `otlp`
//! object: `cost_usd` (the `claude_code.cost.usage` metric: delta points added, cumulative points summed per series;
//! else the `cost_usd` of the `api_request` events), `input_tokens`, `output_tokens`, `cache_read_tokens`,
//! `cache_creation_tokens` (`claude_code.token.usage` by its `type`), `api_requests` (`*.api_request` events),
//! `compactions` (events whose name mentions `compact`), `user_seconds` (`claude_code.active_time.total` of `type`
//! `user`: time the user spent, the agent waiting on them) and `updated_at`.
//!
//! Bounded: a request is at most [`MAX_REQUEST_BYTES`]; figures for a session without a session file yet are kept
//! in memory for [`PENDING_TTL`] (at most [`MAX_PENDING`] sessions), applied when the file appears, then dropped.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use axum::{body::Bytes, extract::State, http::header, response::IntoResponse, routing::post, Router};
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::{
            logs_service_server::{LogsService, LogsServiceServer},
            ExportLogsServiceRequest, ExportLogsServiceResponse,
        },
        metrics::v1::{
            metrics_service_server::{MetricsService, MetricsServiceServer},
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
        },
    },
    common::v1::{any_value::Value as AnyValue, KeyValue},
    metrics::v1::{metric::Data, number_data_point::Value as Number, AggregationTemporality},
};
use prost::Message;
use serde_json::{json, Map, Value};

use crate::{config::Paths, sources::session_file, store};

/// The largest OTLP request accepted (gRPC message or HTTP body).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// How long figures for a session without a session file are kept.
pub const PENDING_TTL: Duration = Duration::from_secs(300);
/// How many such sessions are kept at most (the oldest go first).
pub const MAX_PENDING: usize = 256;

/// What one export says about one session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Cost added (delta points, `api_request` events).
    pub cost_delta: f64,
    /// Cost totals per series (cumulative points): replace the kept value of the series.
    pub cost_series: HashMap<String, f64>,
    /// Tokens added, by kind (`input`, `output`, `cache_read`, `cache_creation`).
    pub tokens: HashMap<String, f64>,
    /// `api_request` events.
    pub api_requests: u64,
    /// Compaction events.
    pub compactions: u64,
    /// User active seconds added.
    pub user_seconds: f64,
    /// Whether a cost metric (rather than events) gave the cost.
    pub metric_cost: bool,
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

fn attr_str(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attr(attributes, key)? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        _ => None,
    }
}

fn attr_f64(attributes: &[KeyValue], key: &str) -> Option<f64> {
    let v = match attr(attributes, key)? {
        AnyValue::DoubleValue(d) => *d,
        AnyValue::IntValue(i) => *i as f64,
        AnyValue::StringValue(s) => s.parse().ok()?,
        _ => return None,
    };
    (v.is_finite() && v >= 0.0).then_some(v)
}

fn session_of(attributes: &[KeyValue], resource: &[KeyValue]) -> Option<String> {
    ["session.id", "conversation.id"]
        .iter()
        .find_map(|k| attr_str(attributes, k).or_else(|| attr_str(resource, k)))
        .filter(|id| store::is_safe_session_id(id))
}

/// Maps an OTLP metrics export to per-session facts.
pub fn from_metrics(request: &ExportMetricsServiceRequest) -> HashMap<String, Facts> {
    let mut out: HashMap<String, Facts> = HashMap::new();
    for rm in &request.resource_metrics {
        let resource = rm.resource.as_ref().map(|r| &r.attributes[..]).unwrap_or(&[]);
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let (points, temporality) = match &metric.data {
                Some(Data::Sum(sum)) => (&sum.data_points, sum.aggregation_temporality),
                Some(Data::Gauge(gauge)) => (&gauge.data_points, AggregationTemporality::Cumulative as i32),
                _ => continue,
            };
            let cumulative = temporality == AggregationTemporality::Cumulative as i32;
            for point in points {
                let Some(session) = session_of(&point.attributes, resource) else {
                    continue;
                };
                let value = match point.value {
                    Some(Number::AsDouble(d)) => d,
                    Some(Number::AsInt(i)) => i as f64,
                    None => continue,
                };
                if !value.is_finite() || value < 0.0 {
                    continue;
                }
                let facts = out.entry(session).or_default();
                let kind = attr_str(&point.attributes, "type").unwrap_or_default();
                match metric.name.as_str() {
                    "claude_code.cost.usage" | "codex.cost.usage" => {
                        facts.metric_cost = true;
                        if cumulative {
                            let series = attr_str(&point.attributes, "model").unwrap_or_default();
                            *facts.cost_series.entry(series).or_default() += value;
                        } else {
                            facts.cost_delta += value;
                        }
                    }
                    "claude_code.token.usage" | "codex.token.usage" if !cumulative => {
                        let kind = match kind.as_str() {
                            "cacheRead" => "cache_read",
                            "cacheCreation" => "cache_creation",
                            other => other,
                        };
                        *facts.tokens.entry(kind.to_owned()).or_default() += value;
                    }
                    "claude_code.active_time.total" if kind == "user" && !cumulative => facts.user_seconds += value,
                    _ => {}
                }
            }
        }
    }
    out
}

/// Maps an OTLP logs export (the agents' events) to per-session facts.
pub fn from_logs(request: &ExportLogsServiceRequest) -> HashMap<String, Facts> {
    let mut out: HashMap<String, Facts> = HashMap::new();
    for rl in &request.resource_logs {
        let resource = rl.resource.as_ref().map(|r| &r.attributes[..]).unwrap_or(&[]);
        for record in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let Some(session) = session_of(&record.attributes, resource) else {
                continue;
            };
            let name = attr_str(&record.attributes, "event.name")
                .or_else(|| match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                    Some(AnyValue::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let facts = out.entry(session).or_default();
            if name.ends_with("api_request") {
                facts.api_requests += 1;
                facts.cost_delta += attr_f64(&record.attributes, "cost_usd").unwrap_or(0.0);
            }
            if name.contains("compact") {
                facts.compactions += 1;
            }
        }
    }
    out
}

/// Merges `facts` into a session file's `otlp` object at `now` (RFC 3339).
pub fn merge(otlp: &mut Map<String, Value>, facts: &Facts, now: &str) {
    let get = |o: &Map<String, Value>, k: &str| o.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    // Cost: the metric wins over events once seen; cumulative series replace their kept value.
    if facts.metric_cost && otlp.get("cost_from") != Some(&json!("metric")) {
        otlp.insert("cost_from".into(), "metric".into());
        otlp.insert("cost_events_usd".into(), json!(get(otlp, "cost_usd")));
        otlp.insert("cost_usd".into(), json!(0.0));
    }
    if facts.metric_cost || otlp.get("cost_from") != Some(&json!("metric")) {
        let mut series = otlp
            .get("cost_series")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, value) in &facts.cost_series {
            series.insert(name.clone(), json!(value));
        }
        let cumulative: f64 = series.values().filter_map(Value::as_f64).sum();
        let deltas = get(otlp, "cost_delta_usd") + facts.cost_delta;
        otlp.insert("cost_delta_usd".into(), json!(deltas));
        otlp.insert("cost_series".into(), Value::Object(series));
        otlp.insert("cost_usd".into(), json!(((cumulative + deltas) * 1e6).round() / 1e6));
    }
    for (kind, value) in &facts.tokens {
        let key = format!("{kind}_tokens");
        let total = get(otlp, &key) + value;
        otlp.insert(key, json!(total as u64));
    }
    let count = |o: &Map<String, Value>, k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0);
    let requests = count(otlp, "api_requests") + facts.api_requests;
    let compactions = count(otlp, "compactions") + facts.compactions;
    let user = get(otlp, "user_seconds") + facts.user_seconds;
    otlp.insert("api_requests".into(), requests.into());
    otlp.insert("compactions".into(), compactions.into());
    otlp.insert("user_seconds".into(), json!((user * 10.0).round() / 10.0));
    otlp.insert("updated_at".into(), now.into());
}

/// Facts of sessions without a session file yet: when first kept, and the facts.
type Pending = HashMap<String, (Instant, Vec<Facts>)>;

/// The receiver: applies facts to session files, keeping those of unknown sessions briefly.
#[derive(Debug, Clone)]
pub struct Receiver {
    paths: Arc<Paths>,
    pending: Arc<Mutex<Pending>>,
}

impl Receiver {
    /// A receiver writing into the session files under `paths`.
    pub fn new(paths: Arc<Paths>) -> Self {
        Receiver {
            paths,
            pending: Arc::default(),
        }
    }

    /// Applies one export's facts (and any pending ones whose session file now exists).
    pub fn apply(&self, facts: HashMap<String, Facts>) {
        let now = Instant::now();
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.retain(|_, (at, _)| now.duration_since(*at) < PENDING_TTL);
        for (session, facts) in facts {
            pending
                .entry(session)
                .or_insert_with(|| (now, Vec::new()))
                .1
                .push(facts);
        }
        let ids: Vec<String> = pending.keys().cloned().collect();
        for id in ids {
            let Some(path) = store::session_file(&self.paths, &id).filter(|p| p.is_file()) else {
                continue;
            };
            if let Some((_, list)) = pending.remove(&id) {
                if let Err(error) = self.write(&id, &path, &list) {
                    tracing::warn!(session = %id, %error, "OTLP figures not recorded");
                }
            }
        }
        while pending.len() > MAX_PENDING {
            let oldest = pending.iter().min_by_key(|(_, (at, _))| *at).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => {
                    tracing::debug!(session = %id, "OTLP figures for an unknown session dropped");
                    pending.remove(&id);
                }
                None => break,
            }
        }
    }

    fn write(&self, id: &str, path: &std::path::Path, list: &[Facts]) -> std::io::Result<()> {
        let _lock = store::SessionLock::acquire(&self.paths, id)?;
        let Some(raw) = session_file::read_raw(path)? else {
            return Ok(());
        };
        let session_file::Parsed::Object(mut session) = raw.parse() else {
            return Ok(());
        };
        let now = chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut otlp = session
            .get("otlp")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for facts in list {
            merge(&mut otlp, facts, &now);
        }
        session.insert("otlp".into(), Value::Object(otlp));
        store::write_atomic(path, &session_file::session_bytes(&session))
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.apply(from_logs(request.get_ref()));
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.apply(from_metrics(request.get_ref()));
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// The two OTLP/gRPC services.
pub fn grpc_services(receiver: Receiver) -> (LogsServiceServer<Receiver>, MetricsServiceServer<Receiver>) {
    (
        LogsServiceServer::new(receiver.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
        MetricsServiceServer::new(receiver).max_decoding_message_size(MAX_REQUEST_BYTES),
    )
}

fn protobuf(bytes: Vec<u8>) -> axum::response::Response {
    ([(header::CONTENT_TYPE, "application/x-protobuf")], bytes).into_response()
}

async fn http_logs(
    State(receiver): State<Receiver>,
    body: Bytes,
) -> Result<axum::response::Response, crate::error::Error> {
    let request = ExportLogsServiceRequest::decode(body)
        .map_err(|e| crate::error::Error::InvalidArgument(format!("not an OTLP logs request: {e}")))?;
    receiver.apply(from_logs(&request));
    Ok(protobuf(ExportLogsServiceResponse::default().encode_to_vec()))
}

async fn http_metrics(
    State(receiver): State<Receiver>,
    body: Bytes,
) -> Result<axum::response::Response, crate::error::Error> {
    let request = ExportMetricsServiceRequest::decode(body)
        .map_err(|e| crate::error::Error::InvalidArgument(format!("not an OTLP metrics request: {e}")))?;
    receiver.apply(from_metrics(&request));
    Ok(protobuf(ExportMetricsServiceResponse::default().encode_to_vec()))
}

/// OTLP/HTTP protobuf: `POST /v1/logs` and `POST /v1/metrics`.
pub fn http_router(receiver: Receiver) -> Router {
    Router::new()
        .route("/v1/logs", post(http_logs))
        .route("/v1/metrics", post(http_metrics))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(receiver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::{
        common::v1::AnyValue as Any,
        metrics::v1::{Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum},
    };

    fn cumulative(session: &str, model: &str, value: f64) -> ExportMetricsServiceRequest {
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: Some(Any {
                value: Some(AnyValue::StringValue(v.into())),
            }),
            ..KeyValue::default()
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "claude_code.cost.usage".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: vec![NumberDataPoint {
                                attributes: vec![kv("session.id", session), kv("model", model)],
                                value: Some(Number::AsDouble(value)),
                                ..NumberDataPoint::default()
                            }],
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Metric::default()
                    }],
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        }
    }

    #[test]
    fn cumulative_series_replace_their_value_and_unsafe_ids_are_ignored() {
        let mut otlp = Map::new();
        for (model, value) in [("opus", 1.0), ("opus", 1.5), ("haiku", 0.25)] {
            for (_, facts) in from_metrics(&cumulative("s-1", model, value)) {
                merge(&mut otlp, &facts, "t");
            }
        }
        assert_eq!(otlp["cost_usd"], 1.75);
        assert!(from_metrics(&cumulative("../etc", "m", 1.0)).is_empty());
        assert!(from_metrics(&cumulative("s-1", "m", f64::NAN)).is_empty());
    }
}
