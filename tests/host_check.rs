//! The Host check (no DNS rebinding) on every route family — the JSON API, SSE, the dashboard, gRPC-Web and gRPC —
//! over HTTP/1.1 and HTTP/2, with the real server on 127.0.0.1:0. A rebinding page is played by a client that resolves
//! `evil.example` to the server's address, so its requests carry `Host: evil.example:<port>` (HTTP/1.1) or that
//! `:authority` (HTTP/2), exactly as a browser's would.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{net::SocketAddr, time::Duration};

use support::{spawn_server_with_access, Running, TestEnv};

/// The HTTP versions a client speaks.
#[derive(Debug, Clone, Copy)]
enum Version {
    Http1,
    Http2,
}

/// A client that resolves `evil.example` and `amc.example` to `addr`.
fn client(addr: SocketAddr, version: Version) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .resolve("evil.example", addr)
        .resolve("amc.example", addr)
        .timeout(Duration::from_secs(10));
    match version {
        Version::Http1 => builder.http1_only(),
        Version::Http2 => builder.http2_prior_knowledge(),
    }
    .build()
    .expect("a client")
}

/// An empty gRPC-Web message frame (GetStateRequest has no fields).
const EMPTY_FRAME: [u8; 5] = [0, 0, 0, 0, 0];

/// The status of `route` asked with `host` (a name resolving to the server) over `version`.
async fn status(client: &reqwest::Client, host: &str, port: u16, route: &str) -> (u16, String, Option<String>) {
    let url = format!("http://{host}:{port}{route}");
    let request = if route.starts_with("/amc.v1.") {
        client
            .post(&url)
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(EMPTY_FRAME.to_vec())
    } else {
        client.get(&url)
    };
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let code = response.status().as_u16();
    let grpc_status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // SSE streams do not end: read only what a refusal would say.
    let body = if code == 200 {
        String::new()
    } else {
        response.text().await.unwrap_or_default()
    };
    (code, body, grpc_status)
}

const ROUTES: [&str; 6] = [
    "/api/state",
    "/api/health",
    "/api/stream",
    "/",
    "/app.js",
    "/amc.v1.StateService/GetState",
];

async fn server(env: &TestEnv, allowed: &[&str]) -> Running {
    let config = env.config();
    let access = amc::server::auth::Access::from_config(&config, None, &[])
        .with_names(allowed.iter().map(|h| (*h).to_owned()).collect(), vec![]);
    spawn_server_with_access(config, access).await
}

#[tokio::test]
async fn every_route_family_refuses_a_foreign_host_over_http1_and_http2() {
    let env = TestEnv::new();
    let running = server(&env, &["amc.example"]).await;
    let port = running.addr.port();
    for version in [Version::Http1, Version::Http2] {
        let client = client(running.addr, version);
        for route in ROUTES {
            for good in ["127.0.0.1", "localhost", "amc.example"] {
                let (code, body, _) = status(&client, good, port, route).await;
                assert_eq!(code, 200, "{version:?} {good} {route}: {body}");
            }
            let (code, body, grpc_status) = status(&client, "evil.example", port, route).await;
            assert_eq!(code, 421, "{version:?} evil.example {route}: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(json["code"], "PERMISSION_DENIED", "{body}");
            assert!(
                json["error"].as_str().is_some_and(|e| e.contains("evil.example")),
                "{body}"
            );
            if route.starts_with("/amc.v1.") {
                assert_eq!(grpc_status.as_deref(), Some("7"), "{version:?} {route}");
            }
        }
    }
    running.stop().await;
}

#[tokio::test]
async fn a_loopback_name_with_another_port_is_refused() {
    let env = TestEnv::new();
    let running = server(&env, &[]).await;
    let port = running.addr.port();
    let other = if port == 65535 { 65534 } else { port + 1 };
    for version in [Version::Http1, Version::Http2] {
        let client = client(running.addr, version);
        let response = client
            .get(format!("http://127.0.0.1:{port}/api/state"))
            .header("host", format!("localhost:{other}"))
            .send()
            .await
            .expect("GET");
        // HTTP/2 carries the URL's authority; a Host header next to it must also name this server.
        assert_eq!(response.status().as_u16(), 421, "{version:?}");
        let response = client
            .get(format!("http://127.0.0.1:{port}/api/state"))
            .header("host", "evil.example")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 421, "{version:?}");
    }
    running.stop().await;
}

#[tokio::test]
async fn grpc_over_http2_checks_the_authority() {
    let env = TestEnv::new();
    let running = server(&env, &[]).await;
    let port = running.addr.port();
    let channel = |authority: String| {
        tonic::transport::Endpoint::from_shared(running.url())
            .expect("an endpoint")
            .origin(authority.parse().expect("a uri"))
            .connect_lazy()
    };
    let mut good =
        amc::proto::state_service_client::StateServiceClient::new(channel(format!("http://localhost:{port}")));
    good.get_state(amc::proto::GetStateRequest::default())
        .await
        .expect("localhost with the bound port is answered");
    let mut evil =
        amc::proto::state_service_client::StateServiceClient::new(channel(format!("http://evil.example:{port}")));
    let status = evil
        .get_state(amc::proto::GetStateRequest::default())
        .await
        .expect_err("a foreign authority is refused");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("evil.example"), "{status:?}");
    // The health service, public otherwise, too.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel(format!("http://evil.example:{port}")));
    let status = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect_err("a foreign authority is refused");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    running.stop().await;
}
