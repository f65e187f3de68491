//! The process's counters for `GET /metrics` (Prometheus/OpenMetrics text, the `prometheus-client` crate).
//!
//! On the ground floor so that every module can count without knowing the server: the publisher counts passes (by
//! trigger, with their duration), revisions and watched directories, the watcher counts file events, the transcript
//! reader the bytes it read, the notifier its deliveries, the action layer its actions, the server's request layer
//! requests and open streams. [`encode`] writes them, with whatever the caller adds (the server adds the gauges it
//! reads from the published state at scrape time), in one exposition. Every label has a bounded set of values.
//!
//! Counting is a few atomic adds; nothing here does I/O or takes a lock longer than a map lookup.

use std::{
    sync::{atomic::AtomicU64, LazyLock},
    time::Duration,
};

use prometheus_client::{
    encoding::text::{encode_eof, encode_registry},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

/// A label set: (name, value) pairs.
pub type Labels = Vec<(&'static str, String)>;

/// What started a collection pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first pass after start.
    First,
    /// File events (debounced), or a catch-up after new watches.
    Event,
    /// The liveness timer.
    Liveness,
    /// The reconcile timer.
    Reconcile,
    /// A one-off pass (`amc snapshot`, `amc explain --local`).
    Manual,
}

impl Trigger {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::First => "first",
            Trigger::Event => "event",
            Trigger::Liveness => "liveness",
            Trigger::Reconcile => "reconcile",
            Trigger::Manual => "manual",
        }
    }
}

/// The kinds of long-lived streams counted by [`stream_opened`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `GET /api/stream` (SSE).
    Sse,
    /// `GET /api/events/stream` and other SSE event feeds.
    SseEvents,
    /// `amc.v1.StateService/WatchState`.
    GrpcWatchState,
    /// `amc.v1.StateService/WatchEvents`.
    GrpcWatchEvents,
}

impl Stream {
    fn as_str(self) -> &'static str {
        match self {
            Stream::Sse => "sse_state",
            Stream::SseEvents => "sse_events",
            Stream::GrpcWatchState => "grpc_watch_state",
            Stream::GrpcWatchEvents => "grpc_watch_events",
        }
    }
}

struct Metrics {
    passes: Family<Labels, Counter>,
    pass_seconds: Family<Labels, Histogram>,
    file_events: Counter,
    watched_dirs: Gauge,
    revisions: Counter,
    transcript_bytes: Counter,
    streams: Family<Labels, Gauge>,
    http_requests: Family<Labels, Counter>,
    notifications: Family<Labels, Counter>,
    actions: Family<Labels, Counter>,
}

fn pass_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let metrics = Metrics {
        passes: Family::default(),
        pass_seconds: Family::new_with_constructor(pass_histogram),
        file_events: Counter::default(),
        watched_dirs: Gauge::default(),
        revisions: Counter::default(),
        transcript_bytes: Counter::default(),
        streams: Family::default(),
        http_requests: Family::default(),
        notifications: Family::default(),
        actions: Family::default(),
    };
    // Every stream kind is there from the start, at 0.
    for kind in [
        Stream::Sse,
        Stream::SseEvents,
        Stream::GrpcWatchState,
        Stream::GrpcWatchEvents,
    ] {
        let _ = metrics.streams.get_or_create(&vec![("kind", kind.as_str().to_owned())]);
    }
    metrics
});

/// Counts one finished collection pass and its duration.
pub fn pass_done(trigger: Trigger, took: Duration) {
    let labels = vec![("trigger", trigger.as_str().to_owned())];
    METRICS.passes.get_or_create(&labels).inc();
    METRICS.pass_seconds.get_or_create(&labels).observe(took.as_secs_f64());
}

/// Returns how many passes `trigger` started so far (tests and `/api/health` use the total instead).
pub fn passes(trigger: Trigger) -> u64 {
    METRICS
        .passes
        .get_or_create(&vec![("trigger", trigger.as_str().to_owned())])
        .get()
}

/// Counts one file event that woke the publisher.
pub fn file_event() {
    METRICS.file_events.inc();
}

/// Sets how many directories are watched.
pub fn set_watched_dirs(n: usize) {
    METRICS.watched_dirs.set(i64::try_from(n).unwrap_or(i64::MAX));
}

/// Counts one published revision.
pub fn revision_published() {
    METRICS.revisions.inc();
}

/// Adds `n` bytes read from transcripts and rollouts.
pub fn transcript_bytes(n: u64) {
    METRICS.transcript_bytes.inc_by(n);
}

/// Counts one notification delivery attempt of `sink` (`webhook`, `ntfy`, `desktop`) with its `outcome`
/// (`delivered`, `retry`, `gone`, `dropped`).
pub fn notification(sink: &'static str, outcome: &'static str) {
    METRICS
        .notifications
        .get_or_create(&vec![("sink", sink.to_owned()), ("outcome", outcome.to_owned())])
        .inc();
}

/// Counts one audited action (`decide`, `answer`, ...) by outcome: `refused`, `failed`, or `done` (every accepted
/// outcome). Unknown action names are counted as `other` (the label set stays bounded).
pub fn action(action: &str, outcome: &str) {
    const ACTIONS: &[&str] = &[
        "decide",
        "send_text",
        "answer",
        "remote_approval",
        "dismiss",
        "restore",
        "focus",
        "ack",
    ];
    let action = if ACTIONS.contains(&action) { action } else { "other" };
    let outcome = match outcome {
        "refused" | "failed" => outcome,
        _ => "done",
    };
    METRICS
        .actions
        .get_or_create(&vec![("action", action.to_owned()), ("outcome", outcome.to_owned())])
        .inc();
}

/// Counts one HTTP or gRPC request by its route (the matched route pattern, never a raw path) and status code.
pub fn http_request(route: &str, status: u16) {
    METRICS
        .http_requests
        .get_or_create(&vec![("route", route.to_owned()), ("code", status.to_string())])
        .inc();
}

/// Counts a stream as open until the returned guard is dropped.
pub fn stream_opened(kind: Stream) -> StreamGuard {
    METRICS
        .streams
        .get_or_create(&vec![("kind", kind.as_str().to_owned())])
        .inc();
    StreamGuard(kind)
}

/// Decrements the open-stream gauge when dropped.
#[derive(Debug)]
pub struct StreamGuard(Stream);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        METRICS
            .streams
            .get_or_create(&vec![("kind", self.0.as_str().to_owned())])
            .dec();
    }
}

/// Encodes every counter of this module, then `extra`, as one OpenMetrics text exposition (ending in `# EOF`).
pub fn encode(extra: &Registry) -> Result<String, std::fmt::Error> {
    let m = &*METRICS;
    let mut registry = Registry::with_prefix("amc");
    registry.register(
        "passes",
        "Collection passes run, by what triggered them",
        m.passes.clone(),
    );
    registry.register(
        "pass_duration_seconds",
        "How long collection passes took, by trigger",
        m.pass_seconds.clone(),
    );
    registry.register(
        "file_events",
        "File events that woke the publisher",
        m.file_events.clone(),
    );
    registry.register(
        "watched_directories",
        "Directories watched for changes (inotify/FSEvents)",
        m.watched_dirs.clone(),
    );
    registry.register(
        "revisions_published",
        "State revisions published (a pass that changed nothing publishes none)",
        m.revisions.clone(),
    );
    registry.register(
        "transcript_read_bytes",
        "Bytes read from Claude transcripts and Codex rollouts",
        m.transcript_bytes.clone(),
    );
    registry.register(
        "stream_clients",
        "Streams open now: SSE clients and gRPC watchers",
        m.streams.clone(),
    );
    registry.register(
        "http_requests",
        "HTTP and gRPC requests answered, by route and status code",
        m.http_requests.clone(),
    );
    registry.register(
        "notifications",
        "Notification deliveries, by sink and outcome",
        m.notifications.clone(),
    );
    registry.register(
        "actions",
        "Actions on sessions, by action and outcome",
        m.actions.clone(),
    );
    let mut out = String::with_capacity(4096);
    encode_registry(&mut out, &registry)?;
    encode_registry(&mut out, extra)?;
    encode_eof(&mut out)?;
    Ok(out)
}

/// A scrape-time gauge family keyed by label sets, for the caller's registry of [`encode`].
pub type GaugeFamily = Family<Labels, Gauge>;

/// A scrape-time float gauge family (ratios).
pub type RatioFamily = Family<Labels, Gauge<f64, AtomicU64>>;

/// A scrape-time counter whose total is read from somewhere else (the hook's logs): set, not incremented.
pub type CounterFamily = Family<Labels, Counter>;

/// Sets a counter obtained from [`CounterFamily`] to `total` (a fresh one per scrape starts at 0).
pub fn set_counter(counter: &Counter, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family_and_ends_in_eof() {
        pass_done(Trigger::Event, Duration::from_millis(3));
        action("decide", "delivered");
        action("no-such-action", "refused");
        let guard = stream_opened(Stream::Sse);
        let text = encode(&Registry::default()).expect("encodes");
        drop(guard);
        for name in [
            "# TYPE amc_passes counter",
            "amc_passes_total{trigger=\"event\"}",
            "# TYPE amc_pass_duration_seconds histogram",
            "amc_pass_duration_seconds_bucket{",
            "amc_file_events_total",
            "amc_watched_directories",
            "amc_revisions_published_total",
            "amc_transcript_read_bytes_total",
            "amc_stream_clients{kind=\"sse_state\"}",
            "amc_actions_total{action=\"decide\",outcome=\"done\"}",
            "amc_actions_total{action=\"other\",outcome=\"refused\"}",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(passes(Trigger::Event) >= 1);
    }
}
