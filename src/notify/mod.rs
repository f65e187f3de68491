//! Notifications: the events that need a person, delivered once, at the right moment, to the configured sinks.
//!
//! One policy task reads the event ring ([`crate::publisher::EventLog`]) and applies [`policy::Policy`] (dwell,
//! cooldown, acknowledgement); what it decides goes into each sink's durable [`outbox::Outbox`], and one delivery task
//! per sink sends it ([`sinks::Sink`]: webhook, ntfy, desktop), retrying with exponential backoff (0.5 s doubling up
//! to 30 s) until it is delivered, the receiver answers 410 Gone, or it is older than `notify.max_age_ms`. A restart
//! resumes the outbox; a slow or absent receiver delays only its own sink.

pub mod outbox;
pub mod policy;
pub mod sinks;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use self::{
    outbox::{Delivery, Outbox},
    policy::{Decision, Policy},
    sinks::{Outcome, Sink},
};
use crate::{
    config::NotifyConfig,
    event::{Event, EventKind},
    publisher::StateHandle,
};

/// The first retry delay; it doubles per failed attempt up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A handle to the running notifier (cheap to clone).
#[derive(Debug, Clone)]
pub struct NotifyHandle {
    commands: mpsc::Sender<String>,
    dwell: Duration,
    cooldown: Duration,
}

impl NotifyHandle {
    /// The dwell and the cooldown of the policy (the dashboard's browser notifications use the same).
    pub fn policy(&self) -> (Duration, Duration) {
        (self.dwell, self.cooldown)
    }

    /// Acknowledges `session_id`: no notification of it until its next attention (a notification already out is
    /// withdrawn where the sink can). Returns false when the notifier is gone or too busy.
    pub fn ack(&self, session_id: &str) -> bool {
        self.commands.try_send(session_id.to_owned()).is_ok()
    }
}

/// Returns the configured sinks (the desktop one only when its tool is found).
pub fn sinks(config: &NotifyConfig) -> Vec<Sink> {
    let mut sinks = Vec::new();
    if let Some(webhook) = &config.webhook {
        sinks.push(Sink::Webhook(webhook.clone()));
    }
    if let Some(ntfy) = &config.ntfy {
        sinks.push(Sink::Ntfy(ntfy.clone(), config.dashboard_url.clone()));
    }
    if let Some(tool) = sinks::desktop_tool(config.desktop, config.path.as_deref()) {
        sinks.push(Sink::Desktop(tool));
    }
    sinks
}

/// Starts the notifier: the policy task on `state`'s events, and one delivery task per sink with its outbox in
/// `<data_dir>/notify/`. Everything stops when `shutdown` is cancelled.
pub fn start(config: &NotifyConfig, data_dir: &Path, state: &StateHandle, shutdown: CancellationToken) -> NotifyHandle {
    let (commands, mut acks) = mpsc::channel::<String>(1_024);
    let client = http_client();
    let mut queues = Vec::new();
    for sink in sinks(config) {
        let outbox = Outbox::open(data_dir.join("notify").join(format!("{}.outbox.jsonl", sink.name())));
        let queue = Arc::new(Queue {
            outbox: Mutex::new(outbox),
            wake: Notify::new(),
        });
        tracing::info!(sink = sink.name(), "notification sink ready");
        tokio::spawn(deliver_loop(
            sink.clone(),
            queue.clone(),
            client.clone(),
            config.max_age,
            shutdown.clone(),
        ));
        queues.push((sink, queue));
    }
    let mut policy = Policy::new(config.dwell, config.cooldown);
    let log = state.events().clone();
    let mut cursor = log.cursor(log.newest_id());
    let dashboard = config.dashboard_url.clone();
    tokio::spawn(async move {
        loop {
            let deadline = policy.next_deadline();
            let decisions = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                Some(session) = acks.recv() => {
                    if policy.ack(&session) {
                        vec![Decision::Withdraw(Arc::new(acked_event(&session)))]
                    } else {
                        Vec::new()
                    }
                }
                () = sleep_until(deadline) => policy.on_tick(Instant::now()),
                batch = cursor.next_batch() => {
                    let Some(batch) = batch else { return };
                    let now = Instant::now();
                    let mut decisions: Vec<Decision> = batch.iter().flat_map(|e| policy.on_event(e, now)).collect();
                    // A zero dwell notifies at once.
                    decisions.extend(policy.on_tick(now));
                    decisions
                }
            };
            for decision in decisions {
                enqueue(&queues, &decision, &dashboard);
            }
        }
    });
    NotifyHandle {
        commands,
        dwell: config.dwell,
        cooldown: config.cooldown,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("amc/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// The pending deliveries of one sink and the bell that wakes its delivery task.
#[derive(Debug)]
struct Queue {
    outbox: Mutex<Outbox>,
    wake: Notify,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The event an acknowledgement withdraws with.
fn acked_event(session: &str) -> Event {
    Event {
        reason: Some("acknowledged".into()),
        ..Event::bare(EventKind::AttentionCleared, session, crate::publisher::now_ms())
    }
}

fn enqueue(queues: &[(Sink, Arc<Queue>)], decision: &Decision, dashboard: &str) {
    for (sink, queue) in queues {
        // Only the webhook can withdraw (its receiver gets the clearing event); the others only notify.
        let withdraw = matches!(decision, Decision::Withdraw(_));
        if withdraw && !matches!(sink, Sink::Webhook(_)) {
            continue;
        }
        let delivery = delivery_for(decision, dashboard);
        queue.lock().push(delivery);
        queue.wake.notify_one();
    }
}

/// The message of a decision, the same for every sink.
pub fn delivery_for(decision: &Decision, dashboard: &str) -> Delivery {
    let (event, kind) = match decision {
        Decision::Notify(event) => (event, "attention.raised"),
        Decision::Withdraw(event) if event.reason.as_deref() == Some("acknowledged") => (event, "attention.acked"),
        Decision::Withdraw(event) => (event, "attention.cleared"),
    };
    let project = Path::new(&event.project_dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| event.session_id.clone());
    let what = event.attention_kind.as_deref().unwrap_or("input");
    let title = format!("amc: {project} needs you");
    let mut text = format!(
        "{} waits for {what}",
        if event.agent.is_empty() {
            "the agent"
        } else {
            &event.agent
        }
    );
    if let Some(reason) = &event.reason {
        text.push_str(": ");
        text.push_str(reason);
    }
    let id = match decision {
        Decision::Notify(e) => format!("evt_{}", e.id),
        Decision::Withdraw(e) if e.id == 0 => format!("ack_{}_{}", e.session_id, e.time_ms),
        Decision::Withdraw(e) => format!("evt_{}", e.id),
    };
    let body = webhook_body(kind, event, dashboard);
    Delivery {
        id,
        created_ms: crate::publisher::now_ms(),
        session_id: event.session_id.clone(),
        title,
        text,
        body,
        tags: "bell".into(),
        attempts: 0,
    }
}

/// The webhook's JSON: `{"type", "timestamp", "data": {<the event>, "dashboard_url"}}` (Standard Webhooks' shape).
pub fn webhook_body(kind: &str, event: &Event, dashboard: &str) -> String {
    let mut data = serde_json::to_value(event).unwrap_or_default();
    if let Some(map) = data.as_object_mut() {
        map.insert("dashboard_url".into(), dashboard.into());
    }
    let timestamp = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(event.time_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    serde_json::json!({ "type": kind, "timestamp": timestamp, "data": data }).to_string()
}

/// Returns the delay before attempt `attempts + 1`.
fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

async fn deliver_loop(
    sink: Sink,
    queue: Arc<Queue>,
    client: reqwest::Client,
    max_age: Duration,
    shutdown: CancellationToken,
) {
    let mut not_before: HashMap<String, Instant> = HashMap::new();
    loop {
        let now = Instant::now();
        let (due, next) = {
            let outbox = queue.lock();
            not_before.retain(|id, _| outbox.pending().iter().any(|d| &d.id == id));
            let due = outbox
                .pending()
                .iter()
                .find(|d| not_before.get(&d.id).is_none_or(|t| *t <= now))
                .cloned();
            let next = not_before.values().min().copied();
            (due, next)
        };
        let Some(delivery) = due else {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = queue.wake.notified() => {}
                () = sleep_until(next) => {}
            }
            continue;
        };
        let age_ms = crate::publisher::now_ms().saturating_sub(delivery.created_ms);
        if u128::try_from(age_ms).unwrap_or(0) > max_age.as_millis() {
            tracing::warn!(sink = sink.name(), id = %delivery.id, attempts = delivery.attempts, "giving up on a notification that is too old");
            crate::metrics::notification(sink.name(), "dropped");
            queue.lock().done(&delivery.id);
            continue;
        }
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = sink.deliver(&client, &delivery) => outcome,
        };
        crate::metrics::notification(
            sink.name(),
            match outcome {
                Outcome::Delivered => "delivered",
                Outcome::Gone => "gone",
                Outcome::Retry(_) => "retry",
            },
        );
        match outcome {
            Outcome::Delivered => {
                tracing::debug!(sink = sink.name(), id = %delivery.id, "notification delivered");
                queue.lock().done(&delivery.id);
            }
            Outcome::Gone => {
                tracing::warn!(sink = sink.name(), id = %delivery.id, "receiver answered 410 Gone; dropping the notification");
                queue.lock().done(&delivery.id);
            }
            Outcome::Retry(reason) => {
                let attempts = {
                    let mut outbox = queue.lock();
                    let Some(pending) = outbox.get_mut(&delivery.id) else {
                        continue;
                    };
                    pending.attempts += 1;
                    pending.attempts
                };
                let delay = backoff(attempts);
                tracing::warn!(sink = sink.name(), id = %delivery.id, attempts, %reason, retry_in = ?delay, "notification not delivered");
                not_before.insert(delivery.id.clone(), Instant::now() + delay);
            }
        }
    }
}

/// `amc notify test`: sends one test notification to every configured sink at once (no outbox, no retries) and
/// returns each sink's name and outcome.
pub async fn send_test(config: &NotifyConfig) -> Vec<(&'static str, Outcome)> {
    let client = http_client();
    let event = Event {
        agent: "amc".into(),
        project_dir: "amc notify test".into(),
        attention_kind: Some("test".into()),
        reason: Some("this is a test notification".into()),
        ..Event::bare(
            EventKind::AttentionRaised,
            "amc-notify-test",
            crate::publisher::now_ms(),
        )
    };
    let mut delivery = delivery_for(&Decision::Notify(Arc::new(event.clone())), &config.dashboard_url);
    delivery.id = format!("test_{}", uuid::Uuid::new_v4().simple());
    delivery.body = webhook_body("amc.test", &event, &config.dashboard_url);
    let mut results = Vec::new();
    for sink in sinks(config) {
        let outcome = sink.deliver(&client, &delivery).await;
        results.push((sink.name(), outcome));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
