//! The notification settings (`notify.*`, `AMC_NOTIFY_*`, `AMC_WEBHOOK_*`, `AMC_NTFY_*`), validated once.

use std::time::Duration;

use base64::Engine as _;

use super::settings::Layers;

/// The webhook sink.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// The HMAC key: the base64 part of `whsec_<base64>`, decoded.
    pub secret: Vec<u8>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The ntfy sink.
#[derive(Clone, PartialEq, Eq)]
pub struct NtfyConfig {
    /// The topic URL.
    pub url: String,
    /// An access token, if the server needs one.
    pub token: Option<String>,
    /// The priority of attention notifications (`min`, `low`, `default`, `high`, `urgent`).
    pub priority: String,
}

impl std::fmt::Debug for NtfyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtfyConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("priority", &self.priority)
            .finish()
    }
}

/// Whether to notify on the desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopMode {
    /// When `notify-send` (Linux) or `osascript` (macOS) is on `PATH`.
    Auto,
    /// Always (a missing tool is logged).
    On,
    /// Never.
    Off,
}

/// Everything the notifier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// An attention must hold this long before anyone is notified.
    pub dwell: Duration,
    /// At most one notification per session per this long.
    pub cooldown: Duration,
    /// A delivery still failing after this long is dropped (logged).
    pub max_age: Duration,
    /// The webhook sink, when configured.
    pub webhook: Option<WebhookConfig>,
    /// The ntfy sink, when configured.
    pub ntfy: Option<NtfyConfig>,
    /// The desktop sink.
    pub desktop: DesktopMode,
    /// The dashboard's URL, linked from notifications.
    pub dashboard_url: String,
    /// The `PATH` searched for the desktop tool.
    pub path: Option<String>,
}

impl NotifyConfig {
    /// The defaults: 5 s dwell, 60 s cooldown, no webhook, no ntfy, desktop off (tests and benches).
    pub fn quiet(dashboard_url: String) -> Self {
        NotifyConfig {
            dwell: Duration::from_millis(5_000),
            cooldown: Duration::from_millis(60_000),
            max_age: Duration::from_secs(24 * 60 * 60),
            webhook: None,
            ntfy: None,
            desktop: DesktopMode::Off,
            dashboard_url,
            path: None,
        }
    }

    /// Reads and validates the settings; `dashboard_url` is the default dashboard URL (from the listen address).
    pub fn from_layers(layers: &Layers, dashboard_url: String) -> Result<Self, String> {
        let millis = |key: &str, default: u64| -> Result<Duration, String> {
            match layers.get(key) {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("{key} must be a number of milliseconds, not {v:?}")),
            }
        };
        let webhook = match layers.get("notify.webhook.url") {
            None => None,
            Some(url) => {
                check_url("notify.webhook.url (AMC_WEBHOOK_URL)", &url)?;
                let secret = layers.get("notify.webhook.secret").ok_or(
                    "notify.webhook.url is set but notify.webhook.secret (AMC_WEBHOOK_SECRET, whsec_<base64>) is \
                     missing: webhooks are always signed",
                )?;
                Some(WebhookConfig {
                    url,
                    secret: decode_secret(&secret)?,
                    timeout: millis("notify.webhook.timeout_ms", 10_000)?,
                })
            }
        };
        let ntfy = match layers.get("notify.ntfy.url") {
            None => None,
            Some(url) => {
                check_url("notify.ntfy.url (AMC_NTFY_URL)", &url)?;
                let priority = layers.get("notify.ntfy.priority").unwrap_or_else(|| "high".into());
                if !["min", "low", "default", "high", "urgent", "1", "2", "3", "4", "5"].contains(&priority.as_str()) {
                    return Err(format!(
                        "notify.ntfy.priority must be min, low, default, high or urgent, not {priority:?}"
                    ));
                }
                Some(NtfyConfig {
                    url,
                    token: layers.get("notify.ntfy.token"),
                    priority,
                })
            }
        };
        let desktop = match layers.get("notify.desktop").as_deref().map(str::trim) {
            None | Some("auto") => DesktopMode::Auto,
            Some("on" | "true" | "1") => DesktopMode::On,
            Some("off" | "false" | "0") => DesktopMode::Off,
            Some(other) => return Err(format!("notify.desktop must be auto, on or off, not {other:?}")),
        };
        Ok(NotifyConfig {
            dwell: millis("notify.dwell_ms", 5_000)?,
            cooldown: millis("notify.cooldown_ms", 60_000)?,
            max_age: millis("notify.max_age_ms", 24 * 60 * 60 * 1000)?,
            webhook,
            ntfy,
            desktop,
            dashboard_url: layers.get("dashboard_url").unwrap_or(dashboard_url),
            path: layers.lookup("PATH"),
        })
    }
}

/// Refuses anything but an absolute http(s) URL.
fn check_url(what: &str, url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{what} must be an http:// or https:// URL, not {url:?}"))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(format!("{what} has no host: {url:?}"));
    }
    Ok(())
}

/// Decodes a Standard Webhooks secret, `whsec_<base64>`.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .trim()
        .strip_prefix("whsec_")
        .ok_or("notify.webhook.secret must have the form whsec_<base64>")?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("notify.webhook.secret: the part after whsec_ is not base64 ({e})"))?;
    if key.is_empty() {
        return Err("notify.webhook.secret is empty".into());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{collections::HashMap, sync::Arc};

    fn layers(vars: &[(&str, &str)]) -> Layers {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Layers::load(Arc::new(move |k: &str| map.get(k).cloned()), None, []).expect("no file")
    }

    #[test]
    fn sinks_are_validated() {
        let ok = NotifyConfig::from_layers(
            &layers(&[
                ("AMC_WEBHOOK_URL", "https://example.test/hook"),
                ("AMC_WEBHOOK_SECRET", "whsec_c2VjcmV0"),
                ("AMC_NTFY_URL", "http://127.0.0.1:1/topic"),
                ("AMC_NOTIFY_DWELL_MS", "10"),
                ("AMC_NOTIFY_DESKTOP", "off"),
            ]),
            "http://127.0.0.1:7400/".into(),
        )
        .expect("valid");
        assert_eq!(ok.webhook.as_ref().map(|w| w.secret.as_slice()), Some(&b"secret"[..]));
        assert_eq!(ok.dwell, Duration::from_millis(10));
        assert_eq!(ok.cooldown, Duration::from_millis(60_000));
        assert_eq!(ok.desktop, DesktopMode::Off);
        assert!(!format!("{ok:?}").contains("secret\""), "Debug redacts the secret");
        for bad in [
            vec![("AMC_WEBHOOK_URL", "ftp://x"), ("AMC_WEBHOOK_SECRET", "whsec_c2VjcmV0")],
            vec![("AMC_WEBHOOK_URL", "http://"), ("AMC_WEBHOOK_SECRET", "whsec_c2VjcmV0")],
            vec![("AMC_WEBHOOK_URL", "http://x")],
            vec![("AMC_WEBHOOK_URL", "http://x"), ("AMC_WEBHOOK_SECRET", "plain")],
            vec![("AMC_WEBHOOK_URL", "http://x"), ("AMC_WEBHOOK_SECRET", "whsec_!!")],
            vec![("AMC_NTFY_URL", "localhost/topic")],
            vec![("AMC_NOTIFY_COOLDOWN_MS", "soon")],
            vec![("AMC_NOTIFY_DESKTOP", "maybe")],
        ] {
            assert!(
                NotifyConfig::from_layers(&layers(&bad), String::new()).is_err(),
                "{bad:?}"
            );
        }
    }
}
