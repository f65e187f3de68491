//! The held PermissionRequest: `amc hook` registers the request with the running server, records the request id on
//! the session (`attention.request_id`), and, when the server says to hold (`AMC_APPROVALS_HOLD=always` or the
//! session's remote approval is on), waits for a decision and prints Claude Code's decision JSON.
//!
//! The server is found through `<data dir>/addr` (written by `amc serve`); the token is `AMC_TOKEN` (when its scope
//! is `act`), else `<data dir>/token`. Plain HTTP/1.1 over a loopback `TcpStream`, synchronous, every step with a
//! timeout. Fail-open: no server, no decision in time, a server restart while waiting, any error: nothing is printed,
//! and Claude Code shows its own dialog.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use serde_json::Value;

use crate::{config::Paths, model::Attention, store};

/// How long connecting, registering and each read before the wait may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// The largest answer read from the server.
const MAX_ANSWER: u64 = 64 * 1024;

/// Where the server is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Server {
    addr: SocketAddr,
    token: String,
}

impl Server {
    /// The server of `paths`' data dir, when its address and a token are known.
    pub fn find(paths: &Paths) -> Option<Server> {
        let addr = paths.written_addr()?;
        // `AMC_TOKEN` (env or config file) when it may act, else the server's `local` token.
        let layers = crate::config::Layers::from_process_lenient();
        let config = crate::config::Config::from_paths_and_lookup(paths.clone(), |key| layers.lookup(key));
        let token = config
            .has_act_token()
            .then_some(config.token)
            .flatten()
            .map(|t| t.trim().to_owned())
            .or_else(|| paths.local_token())?;
        Some(Server { addr, token })
    }

    /// POSTs `body` to `path`; returns the status and the body, reading for at most `read_timeout`.
    fn post(&self, path: &str, body: &str, read_timeout: Duration) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect_timeout(&self.addr, STEP_TIMEOUT)?;
        stream.set_write_timeout(Some(STEP_TIMEOUT))?;
        stream.set_read_timeout(Some(read_timeout))?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.take(MAX_ANSWER).read_to_end(&mut answer)?;
        parse_response(&answer).ok_or_else(|| std::io::Error::other("not an HTTP response"))
    }
}

/// Status and body of a `Connection: close` HTTP/1.1 response with a Content-Length body (or none).
fn parse_response(answer: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&answer[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, answer[end + 4..].to_vec()))
}

/// A registered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The server's id for it; `None` when the server does not hold this session's requests.
    pub request_id: Option<String>,
    /// For how long to wait for a decision.
    pub wait: Duration,
}

/// Registers a PermissionRequest of `session_id`; `None` when there is no server or it refuses. The server gives an
/// id only when it holds the session's requests.
pub fn register(server: &Server, session_id: &str) -> Option<Registered> {
    let body = serde_json::json!({ "session_id": session_id }).to_string();
    let (status, answer) = server.post("/api/hook/permission", &body, STEP_TIMEOUT).ok()?;
    if status != 200 {
        return None;
    }
    let answer: Value = serde_json::from_slice(&answer).ok()?;
    Some(Registered {
        request_id: answer["request_id"].as_str().map(str::to_owned),
        wait: Duration::from_millis(answer["wait_ms"].as_u64()?),
    })
}

/// Writes `request_id` into the session's attention, when it still holds a permission request.
pub fn record_request_id(paths: &Paths, session_id: &str, request_id: &str) -> std::io::Result<()> {
    let Some(path) = store::session_file(paths, session_id) else {
        return Ok(());
    };
    let _lock = store::SessionLock::acquire(paths, session_id)?;
    let Ok((text, _)) = crate::bounded::read(&path, crate::sources::session_file::DEFAULT_MAX_BYTES) else {
        return Ok(());
    };
    let Ok(Value::Object(mut session)) = serde_json::from_slice::<Value>(&text) else {
        return Ok(());
    };
    let key = crate::model::key::ATTENTION;
    let Some(mut attention) = Attention::from_value(session.get(key)) else {
        return Ok(());
    };
    if attention.kind != crate::model::AttentionKind::Permission {
        return Ok(());
    }
    attention.request_id = Some(request_id.to_owned());
    session.insert(key.to_owned(), attention.to_value());
    store::write_atomic(&path, &crate::sources::session_file::session_bytes(&session))
}

/// Waits for the decision; the decision JSON Claude Code reads on stdout, or `None`.
pub fn wait(server: &Server, registered: &Registered) -> Option<String> {
    let path = format!("/api/hook/permission/{}/wait", registered.request_id.as_deref()?);
    let (status, answer) = server.post(&path, "", registered.wait + STEP_TIMEOUT).ok()?;
    if status != 200 {
        return None;
    }
    let answer: Value = serde_json::from_slice(&answer).ok()?;
    decision_json(answer["behavior"].as_str()?, answer["message"].as_str())
}

/// Claude Code's PermissionRequest decision:
/// `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"|"deny","message"?}}}`.
pub fn decision_json(behavior: &str, message: Option<&str>) -> Option<String> {
    if behavior != "allow" && behavior != "deny" {
        return None;
    }
    let mut decision = serde_json::json!({ "behavior": behavior });
    if let Some(message) = message.filter(|m| !m.is_empty() && behavior == "deny") {
        decision["message"] = message.into();
    }
    let output = serde_json::json!({
        "hookSpecificOutput": { "hookEventName": "PermissionRequest", "decision": decision }
    });
    Some(output.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_has_claude_codes_shape() {
        assert_eq!(
            decision_json("allow", Some("ignored")).expect("allow"),
            r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}"#
        );
        assert_eq!(
            decision_json("deny", Some("not now")).expect("deny"),
            r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"not now"}}}"#
        );
        assert_eq!(decision_json("maybe", None), None);
    }

    #[test]
    fn responses_parse() {
        assert_eq!(
            parse_response(b"HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n"),
            Some((204, Vec::new()))
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"),
            Some((200, b"{}".to_vec()))
        );
        assert_eq!(parse_response(b"garbage"), None);
    }
}
