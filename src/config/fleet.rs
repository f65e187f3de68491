//! The fleet settings (`host`, `nats.*`, `fleet.*`; `AMC_HOST`, `AMC_NATS_*`, `AMC_FLEET_*`), validated once.

use std::{path::PathBuf, time::Duration};

/// How this amc joins a fleet through NATS JetStream (see docs/fleet.md).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct FleetConfig {
    /// The NATS server(s), e.g. `nats://10.0.0.5:4222` (comma list); `None`: no fleet.
    pub nats_url: Option<String>,
    /// This machine's name in the fleet (`host`; default: the system host name).
    pub host: String,
    /// Whether the host name was set explicitly (flag, env, file), else it is the system's.
    pub host_explicit: bool,
    /// A NATS credentials file (JWT + nkey seed).
    pub creds: Option<PathBuf>,
    /// A CA certificate (PEM) to verify the NATS server's TLS certificate with (TLS is then required).
    pub tls_ca: Option<PathBuf>,
    /// User and password.
    pub user: Option<String>,
    /// The password of `user`.
    pub password: Option<String>,
    /// A NATS auth token.
    pub token: Option<String>,
    /// The JetStream key-value bucket (`amc_sessions`).
    pub bucket: String,
    /// Whether this server is a hub: it serves the union of every host in the bucket.
    pub hub: bool,
    /// A host silent for longer than this is unreachable (15 s).
    pub ttl: Duration,
    /// How often a publisher refreshes its host record (3 s).
    pub heartbeat: Duration,
}

impl std::fmt::Debug for FleetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password or token: configs get logged.
        f.debug_struct("FleetConfig")
            .field("nats_url", &self.nats_url)
            .field("host", &self.host)
            .field("bucket", &self.bucket)
            .field("hub", &self.hub)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Returns whether `name` can be a host name in the fleet: 1 to 64 of `A-Z a-z 0-9 - _`, not starting with `_` (a
/// NATS subject token and a key prefix that cannot collide with the `_host.` records).
pub fn is_safe_host(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The system's host name made safe (anything else becomes `-`, cut to 64 bytes), `localhost` when unknown.
pub fn system_host() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let cleaned: String = raw
        .trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let cleaned = cleaned.trim_start_matches('_').to_owned();
    if cleaned.is_empty() {
        "localhost".into()
    } else {
        cleaned
    }
}

impl FleetConfig {
    /// Reads the fleet settings through `lookup` (by environment variable name); an unsafe host name, a hub without
    /// a NATS URL or an unusable TTL is an error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let nonempty = |key: &str| lookup(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let host_set = nonempty("AMC_HOST");
        let host = host_set.clone().unwrap_or_else(system_host);
        if !is_safe_host(&host) {
            return Err(format!(
                "host (AMC_HOST) {host:?} must be 1 to 64 letters, digits, '-' or '_', not starting with '_'"
            ));
        }
        let millis = |key: &str, default: u64| -> Result<Duration, String> {
            match nonempty(key) {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis)
                    .ok_or_else(|| format!("{key} must be a positive number of milliseconds, not {v:?}")),
            }
        };
        let hub = matches!(nonempty("AMC_FLEET").as_deref(), Some("1" | "true" | "yes" | "on"));
        let nats_url = nonempty("AMC_NATS_URL");
        if hub && nats_url.is_none() {
            return Err("a fleet hub (--fleet, AMC_FLEET) needs a NATS URL (--nats, AMC_NATS_URL)".into());
        }
        let bucket = nonempty("AMC_FLEET_BUCKET").unwrap_or_else(|| "amc_sessions".into());
        if !bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "fleet.bucket (AMC_FLEET_BUCKET) {bucket:?}: letters, digits, '-' and '_' only"
            ));
        }
        Ok(FleetConfig {
            nats_url,
            host_explicit: host_set.is_some(),
            host,
            creds: nonempty("AMC_NATS_CREDS").map(PathBuf::from),
            tls_ca: nonempty("AMC_NATS_TLS_CA").map(PathBuf::from),
            user: nonempty("AMC_NATS_USER"),
            password: lookup("AMC_NATS_PASSWORD").filter(|v| !v.is_empty()),
            token: lookup("AMC_NATS_TOKEN").filter(|v| !v.is_empty()),
            bucket,
            hub,
            ttl: millis("AMC_FLEET_TTL_MS", 15_000)?,
            heartbeat: millis("AMC_FLEET_HEARTBEAT_MS", 3_000)?,
        })
    }

    /// The host name this server stamps on its own sessions: set when the fleet is on or `host` was given.
    pub fn stamped_host(&self) -> Option<&str> {
        (self.nats_url.is_some() || self.host_explicit).then_some(self.host.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<FleetConfig, String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        FleetConfig::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn host_names_are_safe_subject_tokens() {
        for ok in ["laptop", "box-1", "a_b", "X"] {
            assert!(is_safe_host(ok), "{ok}");
        }
        for bad in ["", "_host", "a.b", "a b", "a*", "a>", "ä", &"x".repeat(65)] {
            assert!(!is_safe_host(bad), "{bad}");
        }
        assert!(is_safe_host(&system_host()));
    }

    #[test]
    fn settings_are_validated() {
        let c = config(&[("AMC_NATS_URL", "nats://127.0.0.1:4222"), ("AMC_HOST", "box")]).expect("valid");
        assert_eq!(
            (c.host.as_str(), c.bucket.as_str(), c.hub),
            ("box", "amc_sessions", false)
        );
        assert_eq!(c.ttl, Duration::from_secs(15));
        assert_eq!(c.stamped_host(), Some("box"));
        assert!(config(&[("AMC_HOST", "a.b")]).is_err());
        assert!(config(&[("AMC_FLEET", "true")]).is_err(), "a hub needs NATS");
        assert!(config(&[("AMC_FLEET_TTL_MS", "0")]).is_err());
        assert!(config(&[("AMC_FLEET_BUCKET", "a.b")]).is_err());
        let plain = config(&[]).expect("valid");
        assert_eq!(plain.stamped_host(), None, "no fleet, no host given: nothing stamped");
        assert!(!format!("{:?}", config(&[("AMC_NATS_PASSWORD", "pw")]).expect("valid")).contains("pw"));
    }
}
