//! The opt-in OTLP receiver against payloads built with the official OpenTelemetry proto types (the
//! `opentelemetry-proto` crate): OTLP/gRPC metrics, OTLP/HTTP protobuf logs, unknown sessions kept briefly, bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use amc::proto as pb;
use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest,
        metrics::v1::{metrics_service_client::MetricsServiceClient, ExportMetricsServiceRequest},
    },
    common::v1::{any_value::Value as Any, AnyValue, KeyValue},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        metric::Data, number_data_point::Value, AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics,
        ScopeMetrics, Sum,
    },
};
use prost::Message;
use serde_json::{json, Value as Json};
use support::{spawn_server, TestEnv};

const A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(v: &str) -> Any {
    Any::StringValue(v.into())
}

/// Claude Code's metrics: `claude_code.cost.usage` (USD) and `claude_code.token.usage` by type, delta temporality.
fn metrics(session: &str, cost: f64, input: i64) -> ExportMetricsServiceRequest {
    let sum = |name: &str, points: Vec<NumberDataPoint>| Metric {
        name: name.into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        })),
        ..Metric::default()
    };
    let point = |attrs: Vec<KeyValue>, value: Value| NumberDataPoint {
        attributes: attrs,
        value: Some(value),
        ..NumberDataPoint::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    sum(
                        "claude_code.cost.usage",
                        vec![point(
                            vec![kv("session.id", s(session)), kv("model", s("claude-opus-4-6"))],
                            Value::AsDouble(cost),
                        )],
                    ),
                    sum(
                        "claude_code.token.usage",
                        vec![point(
                            vec![kv("session.id", s(session)), kv("type", s("input"))],
                            Value::AsInt(input),
                        )],
                    ),
                ],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

/// Claude Code's events: `claude_code.api_request` and a compaction.
fn logs(session: &str) -> ExportLogsServiceRequest {
    let record = |name: &str, extra: Vec<KeyValue>| LogRecord {
        body: Some(AnyValue { value: Some(s(name)) }),
        attributes: [vec![kv("event.name", s(name)), kv("session.id", s(session))], extra].concat(),
        ..LogRecord::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record("claude_code.api_request", vec![kv("cost_usd", Any::DoubleValue(0.25))]),
                    record("claude_code.compaction", vec![]),
                ],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn otlp_of(env: &TestEnv, id: &str) -> Json {
    let bytes = std::fs::read(env.paths.sessions_dir().join(format!("{id}.json"))).unwrap();
    serde_json::from_slice::<Json>(&bytes).unwrap()["otlp"].clone()
}

#[tokio::test]
async fn otlp_metrics_and_logs_reach_their_sessions() {
    let env = TestEnv::new();
    env.write_session(
        &format!("{A}.json"),
        &json!({"session_id": A, "agent": "claude", "status": "active", "project_dir": "/a"}).to_string(),
    );
    let mut config = env.config();
    config.otlp = true;
    let running = spawn_server(config).await;

    // OTLP/gRPC metrics, twice: delta points add up.
    let mut client = MetricsServiceClient::connect(running.url()).await.unwrap();
    client.export(metrics(A, 0.5, 1000)).await.unwrap();
    client.export(metrics(A, 0.25, 500)).await.unwrap();
    let otlp = otlp_of(&env, A);
    assert_eq!(otlp["cost_usd"], 0.75);
    assert_eq!(otlp["input_tokens"], 1500);

    // OTLP/HTTP protobuf logs: events count; the metric's cost is kept over the events' cost.
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/v1/logs", running.url()))
        .header("content-type", "application/x-protobuf")
        .body(logs(A).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let otlp = otlp_of(&env, A);
    assert_eq!(
        (otlp["api_requests"].as_u64(), otlp["compactions"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(otlp["cost_usd"], 0.75);

    // An unknown session is kept briefly, then recorded once its session file appears.
    http.post(format!("{}/v1/logs", running.url()))
        .body(logs(B).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert!(
        !env.paths.sessions_dir().join(format!("{B}.json")).exists(),
        "no file is made up"
    );
    env.write_session(
        &format!("{B}.json"),
        &json!({"session_id": B, "agent": "claude", "status": "active", "project_dir": "/b"}).to_string(),
    );
    client.export(metrics(A, 0.0, 0)).await.unwrap();
    let otlp = otlp_of(&env, B);
    assert_eq!(otlp["api_requests"], 1);
    assert_eq!(otlp["cost_usd"], 0.25, "without a cost metric, the events' cost");

    // The session's cost comes from OTLP when nothing else states it.
    let state = support::eventually(std::time::Duration::from_secs(5), || {
        let url = running.url();
        async move {
            let mut grpc = pb::state_service_client::StateServiceClient::connect(url).await.ok()?;
            let state = grpc
                .get_state(pb::GetStateRequest::default())
                .await
                .ok()?
                .into_inner()
                .state?;
            let a = state.sessions.iter().find(|s| s.session_id == A)?.cost.clone()?;
            (a.source == "otlp").then_some(a)
        }
    })
    .await
    .expect("cost from OTLP");
    assert_eq!(state.usd, Some(0.75));

    // Bounded: garbage is refused, an oversized body too.
    let bad = http
        .post(format!("{}/v1/metrics", running.url()))
        .body(vec![0xff; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let big = http
        .post(format!("{}/v1/logs", running.url()))
        .body(vec![0u8; amc::server::otlp::MAX_REQUEST_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    running.stop().await;
}

#[tokio::test]
async fn otlp_is_off_unless_asked_for() {
    let env = TestEnv::new();
    let running = spawn_server(env.config()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/logs", running.url()))
        .body(logs(A).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    running.stop().await;
}
