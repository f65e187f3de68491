//! The sinks: a signed webhook (Standard Webhooks), ntfy, and the desktop (`notify-send` / `osascript`).

use std::{path::PathBuf, time::Duration};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::outbox::Delivery;
use crate::config::{DesktopMode, NtfyConfig, WebhookConfig};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (2xx, or the desktop tool ran).
    Delivered,
    /// The receiver does not want it any more (HTTP 410 Gone): dropped, not retried.
    Gone,
    /// Failed; retry later (a network error, a timeout, any other status).
    Retry(String),
}

/// One configured sink.
#[derive(Debug, Clone)]
pub enum Sink {
    /// POST the JSON body, signed.
    Webhook(WebhookConfig),
    /// POST the text to an ntfy topic.
    Ntfy(NtfyConfig, String),
    /// Run `notify-send` or `osascript`.
    Desktop(PathBuf),
}

impl Sink {
    /// The sink's name (its outbox file is `<name>.outbox.jsonl`).
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Webhook(_) => "webhook",
            Sink::Ntfy(..) => "ntfy",
            Sink::Desktop(_) => "desktop",
        }
    }

    /// Makes one attempt.
    pub async fn deliver(&self, client: &reqwest::Client, delivery: &Delivery) -> Outcome {
        match self {
            Sink::Webhook(config) => {
                let timestamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let signature = sign(&config.secret, &delivery.id, timestamp, delivery.body.as_bytes());
                let request = client
                    .post(&config.url)
                    .timeout(config.timeout)
                    .header("content-type", "application/json")
                    .header("webhook-id", &delivery.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(delivery.body.clone());
                http_outcome(request.send().await)
            }
            Sink::Ntfy(config, click) => {
                let mut request = client
                    .post(&config.url)
                    .timeout(Duration::from_secs(10))
                    .header("Title", header_text(&delivery.title))
                    .header("Priority", &config.priority)
                    .header("Click", click)
                    .body(delivery.text.clone());
                if !delivery.tags.is_empty() {
                    request = request.header("Tags", &delivery.tags);
                }
                if let Some(token) = &config.token {
                    request = request.bearer_auth(token);
                }
                http_outcome(request.send().await)
            }
            Sink::Desktop(tool) => {
                let mut command = tokio::process::Command::new(tool);
                if tool.file_name().is_some_and(|n| n == "osascript") {
                    let script = format!(
                        "display notification {} with title {}",
                        applescript_string(&delivery.text),
                        applescript_string(&delivery.title)
                    );
                    command.arg("-e").arg(script);
                } else {
                    command.args(["--app-name=amc", "--urgency=normal", "--"]);
                    command.arg(&delivery.title).arg(&delivery.text);
                }
                command.kill_on_drop(true).stdin(std::process::Stdio::null());
                match tokio::time::timeout(Duration::from_secs(10), command.output()).await {
                    Ok(Ok(output)) if output.status.success() => Outcome::Delivered,
                    Ok(Ok(output)) => Outcome::Retry(format!("{} exited with {}", tool.display(), output.status)),
                    Ok(Err(error)) => Outcome::Retry(format!("running {}: {error}", tool.display())),
                    Err(_) => Outcome::Retry(format!("{} did not finish in 10 s", tool.display())),
                }
            }
        }
    }
}

/// The Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the
/// secret's bytes.
pub fn sign(secret: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn http_outcome(result: reqwest::Result<reqwest::Response>) -> Outcome {
    match result {
        Ok(response) if response.status().is_success() => Outcome::Delivered,
        Ok(response) if response.status() == reqwest::StatusCode::GONE => Outcome::Gone,
        Ok(response) => Outcome::Retry(format!("HTTP {}", response.status())),
        Err(error) if error.is_timeout() => Outcome::Retry("timed out".into()),
        Err(error) => Outcome::Retry(error.to_string()),
    }
}

/// A header value: one line, printable ASCII (ntfy decodes RFC 2047 for more; a plain fallback is enough).
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .take(200)
        .collect()
}

fn applescript_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Finds the desktop tool on `path` (a `PATH` value): `notify-send`, else `osascript`.
pub fn desktop_tool(mode: DesktopMode, path: Option<&str>) -> Option<PathBuf> {
    if mode == DesktopMode::Off {
        return None;
    }
    let found = ["notify-send", "osascript"].iter().find_map(|name| {
        std::env::split_paths(path.unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        tracing::info!("no notify-send or osascript on PATH: desktop notifications skipped");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks spec's reference implementations.
        let secret = crate::config::notify::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn header_text_is_one_ascii_line() {
        assert_eq!(header_text("a\nb – c"), "a?b ? c");
    }
}
