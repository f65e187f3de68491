//! `amc usage`: the cost and token totals per project and per day, and the rate-limit windows.

use std::{net::SocketAddr, time::SystemTime};

use anyhow::Context as _;

use crate::{collect::Collector, config::Config, proto as pb, wire};

/// Returns the usage from the server at `addr` when one answers there, else from one collection pass here.
pub fn usage(config: &Config, addr: Option<SocketAddr>) -> anyhow::Result<pb::GetUsageResponse> {
    if let Some(addr) = addr {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?;
        if let Some(answer) = runtime.block_on(remote(addr, config.token.as_deref()))? {
            return Ok(answer);
        }
        tracing::info!(%addr, "no amc server answers there: running one collection pass here");
    }
    let now = SystemTime::now();
    let pass = Collector::new(config).pass(now);
    let protos: Vec<pb::Session> = pass.sessions.iter().map(|s| wire::session_to_proto(s)).collect();
    Ok(wire::spend::usage(&protos, now))
}

async fn remote(addr: SocketAddr, token: Option<&str>) -> anyhow::Result<Option<pb::GetUsageResponse>> {
    let Some((mut client, request)) = super::connect(addr, token, pb::GetUsageRequest {}).await? else {
        return Ok(None);
    };
    match client.get_usage(request).await {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) => anyhow::bail!(
            "the server at {addr} answered {:?}: {}",
            status.code(),
            status.message()
        ),
    }
}

fn tokens(n: i64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.0}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn line(t: &pb::UsageTotal, label: &str) -> String {
    let unpriced = if t.unpriced_sessions > 0 {
        format!(", {} without a price", t.unpriced_sessions)
    } else {
        String::new()
    };
    format!(
        "  {label:<12} ${:>9.2}  {:>7} tokens  {} session(s){unpriced}",
        t.usd,
        tokens(t.tokens),
        t.sessions
    )
}

/// Returns the text `amc usage` prints.
pub fn text(usage: &pb::GetUsageResponse, now: SystemTime) -> String {
    let mut out = Vec::new();
    if let Some(total) = &usage.total {
        out.push(line(total, "total").trim_start().to_owned());
    }
    out.push("by project:".into());
    for t in &usage.by_project {
        let mut l = line(t, "");
        l.push_str(&format!(
            "  {}",
            if t.project_dir.is_empty() {
                "(none)"
            } else {
                &t.project_dir
            }
        ));
        out.push(l);
    }
    out.push("by day (UTC, of the last activity):".into());
    for t in &usage.by_day {
        out.push(line(t, if t.day.is_empty() { "(unknown)" } else { &t.day }));
    }
    if !usage.rate_limits.is_empty() {
        out.push("rate limits:".into());
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        for l in &usage.rate_limits {
            let window = l.window_minutes.map_or(String::new(), |m| format!(" ({m} min)"));
            let reset = match l.reset_time {
                Some(t) if t.seconds <= now => " (window over: reset)".to_owned(),
                Some(t) => chrono::DateTime::from_timestamp(t.seconds, 0).map_or(String::new(), |t| {
                    format!(", resets {}", t.format("%Y-%m-%d %H:%M UTC"))
                }),
                None => String::new(),
            };
            out.push(format!(
                "  {} {}{window}: {:.0}% used{reset}",
                l.agent, l.name, l.used_percent
            ));
        }
    }
    out.join("\n")
}
