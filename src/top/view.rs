//! What `amc top` shows, as plain data: the dashboard's groups, each session's columns in words, the filter, and the
//! `--once` table. Pure functions of (sessions, now); the terminal drawing is in `tui`.

use std::time::{Duration, SystemTime};

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

use crate::proto as pb;

/// The dashboard's groups, in its order (what needs you first; dead last, folded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// The agent waits for the user.
    Attention,
    /// The agent works.
    Active,
    /// Started, nothing happened yet.
    Starting,
    /// The turn ended.
    Done,
    /// A status amc does not know.
    Other,
    /// The agent is gone (`is_dead`).
    Dead,
}

impl Group {
    /// Every group, in order.
    pub const ALL: [Group; 6] = [
        Group::Attention,
        Group::Active,
        Group::Starting,
        Group::Done,
        Group::Other,
        Group::Dead,
    ];

    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::Attention => "Needs attention",
            Group::Active => "Active",
            Group::Starting => "Starting",
            Group::Done => "Done",
            Group::Other => "Other",
            Group::Dead => "Dead",
        }
    }

    /// The group of a session, as the dashboard decides it.
    pub fn of(session: &pb::Session) -> Group {
        if session.is_dead {
            return Group::Dead;
        }
        match session.status() {
            pb::SessionStatus::NeedsAttention => Group::Attention,
            pb::SessionStatus::Active => Group::Active,
            pb::SessionStatus::Starting => Group::Starting,
            pb::SessionStatus::Done => Group::Done,
            pb::SessionStatus::Unspecified => Group::Other,
        }
    }
}

/// The sessions matching `filter`, grouped in the dashboard's order (empty groups left out), each group sorted by
/// session id as the state is.
pub fn grouped<'a>(sessions: &'a [pb::Session], filter: &str) -> Vec<(Group, Vec<&'a pb::Session>)> {
    let mut groups: Vec<(Group, Vec<&pb::Session>)> = Group::ALL.iter().map(|g| (*g, Vec::new())).collect();
    for session in sessions.iter().filter(|s| matches(s, filter)) {
        let group = Group::of(session);
        if let Some(slot) = groups.iter_mut().find(|(g, _)| *g == group) {
            slot.1.push(session);
        }
    }
    groups.retain(|(_, members)| !members.is_empty());
    groups
}

/// Whether `session` matches the filter text: any part (case-insensitive) of its project, session id, agent, Zellij
/// session or status. An empty filter matches everything.
pub fn matches(session: &pb::Session, filter: &str) -> bool {
    let filter = filter.trim().to_lowercase();
    if filter.is_empty() {
        return true;
    }
    [
        session.project_dir.as_str(),
        session.cwd.as_str(),
        session.session_id.as_str(),
        session.raw_agent.as_str(),
        session.zellij_session.as_str(),
        session.raw_status.as_str(),
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(&filter))
}

/// The project: the last part of `project_dir` (or `cwd`), `-` when neither is known.
pub fn project(session: &pb::Session) -> String {
    let dir = if session.project_dir.is_empty() {
        &session.cwd
    } else {
        &session.project_dir
    };
    let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if name.is_empty() {
        "-".into()
    } else {
        clean(name)
    }
}

/// The agent's short name.
pub fn agent(session: &pb::Session) -> String {
    match session.agent() {
        pb::Agent::Claude => "claude".into(),
        pb::Agent::Codex => "codex".into(),
        pb::Agent::Unspecified if session.raw_agent.is_empty() => "?".into(),
        pb::Agent::Unspecified => clean(&session.raw_agent),
    }
}

/// The status in a word: `dead`, `attention`, `active`, `starting`, `done`, or the raw status.
pub fn status(session: &pb::Session) -> String {
    match Group::of(session) {
        Group::Attention => "attention".into(),
        Group::Active => "active".into(),
        Group::Starting => "starting".into(),
        Group::Done => "done".into(),
        Group::Dead => "dead".into(),
        Group::Other if session.raw_status.is_empty() => "?".into(),
        Group::Other => clean(&session.raw_status),
    }
}

/// The Zellij session and pane (`work:3`), `-` outside Zellij.
pub fn pane(session: &pb::Session) -> String {
    match (session.zellij_session.is_empty(), session.zellij_pane.is_empty()) {
        (true, _) => "-".into(),
        (false, true) => clean(&session.zellij_session),
        (false, false) => clean(&format!("{}:{}", session.zellij_session, session.zellij_pane)),
    }
}

/// How long the session has been in its status: since its last event.
pub fn in_state(session: &pb::Session, now: SystemTime) -> Option<Duration> {
    let at = session.last_event_time.as_ref()?;
    let at = SystemTime::UNIX_EPOCH + Duration::new(u64::try_from(at.seconds).ok()?, at.nanos.max(0) as u32);
    Some(now.duration_since(at).unwrap_or_default())
}

/// A duration in its largest unit: `42s`, `5m`, `3h`, `2d`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A token count: `950`, `90K`, `1.2M`.
pub fn tokens(n: i64) -> String {
    match n {
        ..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{}K", n / 1_000),
        _ if n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// The context in numbers: percent, then `used/window` (`≈` marks an inferred window), `None` without usage.
pub fn context(session: &pb::Session) -> Option<(f64, String)> {
    let usage = session.context_usage.as_ref()?;
    let inferred = usage.window_inferred
        || matches!(
            usage.window_source(),
            pb::WindowSource::ObservedOver200k | pb::WindowSource::Default
        );
    let used = usage.current_tokens.map_or_else(|| "?".to_owned(), tokens);
    let mark = if inferred { "≈" } else { "" };
    Some((usage.percent, format!("{used}/{mark}{}", tokens(usage.window_tokens))))
}

/// Text safe for a terminal: control characters (escape sequences included) become spaces, runs of whitespace one
/// space. (The server sends UTF-8; bytes it could not read arrive as U+FFFD.)
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.trim_end().to_owned()
}

/// The last message on one line.
pub fn preview(session: &pb::Session) -> String {
    clean(&session.last_message_preview)
}

/// What a waiting session waits for, in words (`Permission · Bash: ls`), `None` when nothing is held.
pub fn attention(session: &pb::Session) -> Option<String> {
    let a = session.attention.as_ref()?;
    let kind = match a.kind() {
        pb::AttentionKind::Permission => "Permission",
        pb::AttentionKind::Question => "Question",
        pb::AttentionKind::Elicitation => "Input requested",
        pb::AttentionKind::Unspecified => "Waiting",
    };
    let what = match (a.tool_name.is_empty(), a.tool_input_summary.is_empty()) {
        (false, false) => format!("{}: {}", a.tool_name, a.tool_input_summary),
        (false, true) => a.tool_name.clone(),
        _ => a.message.clone(),
    };
    Some(clean(&format!("{kind} · {what}")))
}

/// `text` cut to at most `width` terminal columns (an ellipsis marks the cut), padded to `width` when `pad`.
pub fn fit(text: &str, width: usize, pad: bool) -> String {
    let mut out = String::new();
    if text.width() <= width {
        out.push_str(text);
    } else if width > 0 {
        let mut used = 0;
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width - 1 {
                break;
            }
            used += w;
            out.push(c);
        }
        out.push('…');
    }
    if pad {
        let w = out.width();
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    }
    out
}

/// The columns of one session row, in the order shown: status, time in state, agent, project, pane, context,
/// preview (fixed widths but the last).
pub fn row(session: &pb::Session, now: SystemTime) -> [String; 7] {
    let context = context(session).map_or_else(|| "-".to_owned(), |(pct, used)| format!("{pct:>3.0}% {used}"));
    [
        fit(&status(session), 9, true),
        fit(&in_state(session, now).map_or_else(|| "-".into(), duration), 4, true),
        fit(&agent(session), 6, true),
        fit(&project(session), 16, true),
        fit(&pane(session), 12, true),
        fit(&context, 17, true),
        preview(session),
    ]
}

/// The `--once` table: a summary line, then each group's heading and rows (dead sessions included), each line at most
/// `width` columns.
pub fn table(sessions: &[pb::Session], revision: u64, now: SystemTime, width: usize) -> String {
    let mut out = String::new();
    let attention = sessions.iter().filter(|s| Group::of(s) == Group::Attention).count();
    out.push_str(&fit(
        &format!(
            "amc: {} sessions, {attention} need attention (revision {revision})",
            sessions.len()
        ),
        width,
        false,
    ));
    out.push('\n');
    if sessions.is_empty() {
        out.push_str("no sessions (install the hook: amc hooks install)\n");
        return out;
    }
    let header = [
        fit("STATUS", 9, true),
        fit("FOR", 4, true),
        fit("AGENT", 6, true),
        fit("PROJECT", 16, true),
        fit("PANE", 12, true),
        fit("CONTEXT", 17, true),
        "MESSAGE".to_owned(),
    ];
    out.push_str(&fit(&format!("  {}", header.join(" ")), width, false));
    out.push('\n');
    for (group, members) in grouped(sessions, "") {
        out.push_str(&fit(&format!("{} ({})", group.title(), members.len()), width, false));
        out.push('\n');
        for session in members {
            out.push_str(fit(&format!("  {}", row(session, now).join(" ")), width, false).trim_end_matches(' '));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, status: pb::SessionStatus, dead: bool) -> pb::Session {
        pb::Session {
            session_id: id.into(),
            status: status as i32,
            is_dead: dead,
            project_dir: format!("/home/me/src/{id}"),
            ..Default::default()
        }
    }

    #[test]
    fn groups_follow_the_dashboard_order_and_dead_wins() {
        let sessions = [
            session("a", pb::SessionStatus::Done, false),
            session("b", pb::SessionStatus::NeedsAttention, true),
            session("c", pb::SessionStatus::Active, false),
            session("d", pb::SessionStatus::NeedsAttention, false),
            session("e", pb::SessionStatus::Unspecified, false),
        ];
        let groups: Vec<(Group, Vec<&str>)> = grouped(&sessions, "")
            .into_iter()
            .map(|(g, m)| (g, m.iter().map(|s| s.session_id.as_str()).collect()))
            .collect();
        assert_eq!(
            groups,
            [
                (Group::Attention, vec!["d"]),
                (Group::Active, vec!["c"]),
                (Group::Done, vec!["a"]),
                (Group::Other, vec!["e"]),
                (Group::Dead, vec!["b"]),
            ]
        );
        assert_eq!(grouped(&sessions, "SRC/C").len(), 1);
    }

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        assert_eq!(clean("a\x1b[2Jb\n\n c\u{7}"), "a [2Jb c");
        assert_eq!(clean("\u{fffd}ok"), "\u{fffd}ok");
    }

    #[test]
    fn fit_cuts_by_columns_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4, false), "abc…");
        assert_eq!(fit("ab", 4, true), "ab  ");
        // Wide characters take two columns.
        assert_eq!(fit("日本語です", 5, false), "日本…");
        assert_eq!(fit("abc", 0, false), "");
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(tokens(950), "950");
        assert_eq!(tokens(90_500), "90K");
        assert_eq!(tokens(1_000_000), "1M");
        assert_eq!(tokens(1_250_000), "1.2M");
        assert_eq!(duration(Duration::from_secs(59)), "59s");
        assert_eq!(duration(Duration::from_secs(61)), "1m");
        assert_eq!(duration(Duration::from_secs(7300)), "2h");
        assert_eq!(duration(Duration::from_secs(200_000)), "2d");
    }

    #[test]
    fn context_marks_an_inferred_window() {
        let mut s = session("a", pb::SessionStatus::Active, false);
        s.context_usage = Some(pb::ContextUsage {
            current_tokens: Some(90_000),
            window_tokens: 200_000,
            percent: 45.0,
            window_source: pb::WindowSource::Default as i32,
            ..Default::default()
        });
        assert_eq!(context(&s), Some((45.0, "90K/≈200K".to_owned())));
    }
}
