//! The limits of `amc serve`: how much it reads, holds and accepts. Each is a row of [`super::SETTINGS`] (key
//! `limits.*`, an `AMC_LIMIT_*` variable) with its default here and in the README.

use std::time::Duration;

/// Every bound amc keeps, read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A session file longer than this is skipped (logged, listed as unreadable) until it changes.
    pub session_file_bytes: u64,
    /// `GET /api/events/{id}`: events per page when the request gives no `limit`.
    pub events_page: usize,
    /// `GET /api/events/{id}`: the largest `limit` accepted.
    pub events_page_max: usize,
    /// `GET /api/events/{id}`: a line longer than this is skipped.
    pub event_line_bytes: usize,
    /// Output a subprocess (`zellij`, `lsof`) may print before it is killed and its answer is unknown.
    pub subprocess_output_bytes: usize,
    /// Open connections; more are accepted and closed at once.
    pub max_connections: usize,
    /// A connection that sends no byte within this long after it opens is closed.
    pub header_timeout: Duration,
    /// A connection with no byte in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// Request headers (names, values and the URI) longer than this together are refused with 431.
    pub header_bytes: usize,
    /// A JSON request body longer than this is refused with 413.
    pub body_bytes: usize,
    /// The largest gRPC message decoded (gRPC and gRPC-Web).
    pub grpc_message_bytes: usize,
    /// Concurrent HTTP/2 streams per connection.
    pub streams_per_connection: u32,
    /// Open SSE streams and WatchState/WatchEvents calls per client address.
    pub watches_per_client: usize,
    /// File reads requests may run at once (event logs); more wait their turn.
    pub request_reads: usize,
    /// A collection pass running longer than this makes `/api/health` say `degraded`.
    pub pass_overdue: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self::from_lookup(|_| None)
    }
}

impl Limits {
    /// Reads the limits through `lookup` (environment variable names); a missing, invalid or zero value is the
    /// default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let num = |key: &str, default: u64| {
            lookup(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        let size = |key: &str, default: u64| usize::try_from(num(key, default)).unwrap_or(usize::MAX);
        Limits {
            session_file_bytes: num("AMC_LIMIT_SESSION_FILE_BYTES", 1 << 20),
            events_page: size("AMC_LIMIT_EVENTS_PAGE", 500),
            events_page_max: size("AMC_LIMIT_EVENTS_PAGE_MAX", 5_000),
            event_line_bytes: size("AMC_LIMIT_EVENT_LINE_BYTES", 256 << 10),
            subprocess_output_bytes: size("AMC_LIMIT_SUBPROCESS_OUTPUT_BYTES", 1 << 20),
            max_connections: size("AMC_LIMIT_CONNECTIONS", 4_096),
            header_timeout: Duration::from_millis(num("AMC_LIMIT_HEADER_TIMEOUT_MS", 10_000)),
            idle_timeout: Duration::from_millis(num("AMC_LIMIT_IDLE_TIMEOUT_MS", 900_000)),
            header_bytes: size("AMC_LIMIT_HEADER_BYTES", 64 << 10),
            body_bytes: size("AMC_LIMIT_BODY_BYTES", 1 << 20),
            grpc_message_bytes: size("AMC_LIMIT_GRPC_MESSAGE_BYTES", 4 << 20),
            streams_per_connection: u32::try_from(num("AMC_LIMIT_STREAMS_PER_CONNECTION", 256)).unwrap_or(u32::MAX),
            watches_per_client: size("AMC_LIMIT_WATCHES_PER_CLIENT", 2_048),
            request_reads: size("AMC_LIMIT_REQUEST_READS", 8),
            pass_overdue: Duration::from_millis(num("AMC_LIMIT_PASS_OVERDUE_MS", 30_000)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_rows_and_env_overrides() {
        let d = Limits::default();
        assert_eq!(d.session_file_bytes, 1 << 20);
        let rows: Vec<_> = super::super::SETTINGS
            .iter()
            .filter(|s| s.key.starts_with("limits."))
            .collect();
        assert_eq!(rows.len(), 15);
        for row in rows {
            let (key, env, default) = (row.key, row.env, row.default);
            let value = "7";
            let changed = Limits::from_lookup(|k| (k == env).then(|| value.to_owned()));
            assert_ne!(changed, d, "{key} ({env}) is read");
            let same = Limits::from_lookup(|k| (k == env).then(|| default.to_owned()));
            assert_eq!(same, d, "{key}'s documented default {default} is the default");
        }
        assert_eq!(Limits::from_lookup(|_| Some("0".into())), d, "zero keeps the default");
    }
}
