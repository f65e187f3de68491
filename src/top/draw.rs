//! The screen of `amc top` as ratatui lines: the top bar, the grouped list with its expanded session, the bottom bar.
//! Nothing here does I/O.

use std::time::SystemTime;

use ratatui::{
    style::{Color, Modifier, Style},
    text::{Line, Span},
};

use super::view::{self, Group};
use crate::proto as pb;

/// What a line of the list stands for, when it can be selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sel {
    /// A session's row.
    Session(String),
    /// The dead group's heading (Enter folds and unfolds it).
    DeadHeading,
}

/// The explanation of a session, as far as it came.
#[derive(Debug, Clone)]
pub enum Explained {
    /// Asked, no answer yet.
    Loading,
    /// The decisions, one line each.
    Lines(Vec<String>),
    /// Why there is none.
    Failed(String),
}

/// What the list needs from the app.
pub struct ListInput<'a> {
    /// The sessions.
    pub sessions: &'a [pb::Session],
    /// The filter text.
    pub filter: &'a str,
    /// The expanded session.
    pub expanded: Option<&'a str>,
    /// Whether the dead group is open.
    pub dead_open: bool,
    /// The expanded session's explanation.
    pub explained: Option<&'a Explained>,
    /// Whether actions can be sent (a token is present).
    pub can_act: bool,
    /// The width of the screen.
    pub width: usize,
    /// Now.
    pub now: SystemTime,
}

/// The status colour of a group.
pub fn colour(group: Group) -> Color {
    match group {
        Group::Attention => Color::LightRed,
        Group::Active => Color::LightGreen,
        Group::Starting => Color::LightCyan,
        Group::Done => Color::LightBlue,
        Group::Other => Color::White,
        Group::Dead => Color::DarkGray,
    }
}

/// The colour of a context bar at `percent` (amber from 60 %, red from 80 %, as the dashboard).
fn bar_colour(percent: f64) -> Color {
    match percent {
        p if p >= 80.0 => Color::Red,
        p if p >= 60.0 => Color::Yellow,
        _ => Color::Green,
    }
}

/// Every line of the list, with what each stands for when selectable.
pub fn list(input: &ListInput<'_>) -> Vec<(Line<'static>, Option<Sel>)> {
    let mut lines = Vec::new();
    for (group, members) in view::grouped(input.sessions, input.filter) {
        let heading_style = Style::default().fg(colour(group)).add_modifier(Modifier::BOLD);
        if group == Group::Dead {
            let arrow = if input.dead_open { "▾" } else { "▸" };
            let text = format!("{arrow} {} ({})", group.title(), members.len());
            lines.push((Line::from(Span::styled(text, heading_style)), Some(Sel::DeadHeading)));
            if !input.dead_open {
                continue;
            }
        } else {
            let text = format!("{} ({})", group.title(), members.len());
            lines.push((Line::from(Span::styled(text, heading_style)), None));
        }
        for session in members {
            lines.push((
                row(session, group, input),
                Some(Sel::Session(session.session_id.clone())),
            ));
            if input.expanded == Some(session.session_id.as_str()) {
                lines.extend(details(session, input).into_iter().map(|line| (line, None)));
            }
        }
    }
    if lines.is_empty() {
        let text = match input.sessions.is_empty() {
            true => "no sessions (install the hook: amc hooks install)",
            false => "no session matches the filter",
        };
        lines.push((Line::from(Span::styled(text, Style::default().fg(Color::Gray))), None));
    }
    lines
}

/// One session's row: status, time in state, project, context bar, pane, agent, preview (what does not fit is cut
/// at the right edge; a narrow screen keeps the first columns).
fn row(session: &pb::Session, group: Group, input: &ListInput<'_>) -> Line<'static> {
    let dim = Style::default().fg(Color::Gray);
    let mut spans = vec![
        Span::styled(
            format!(" {} ", view::fit(&view::status(session), 9, true)),
            Style::default().fg(colour(group)).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "{} ",
            view::fit(
                &view::in_state(session, input.now).map_or_else(|| "-".into(), view::duration),
                4,
                true
            )
        )),
        Span::styled(
            format!("{} ", view::fit(&view::project(session), 16, true)),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ];
    match view::context(session) {
        Some((percent, used)) => {
            let filled = ((percent / 100.0 * 8.0).round() as usize).min(8);
            spans.push(Span::styled(
                "█".repeat(filled),
                Style::default().fg(bar_colour(percent)),
            ));
            spans.push(Span::styled("░".repeat(8 - filled), dim));
            spans.push(Span::raw(format!(" {percent:>3.0}% {} ", view::fit(&used, 10, true))));
        }
        None => spans.push(Span::styled(format!("{} ", view::fit("-", 23, true)), dim)),
    }
    spans.push(Span::styled(
        format!("{} ", view::fit(&view::pane(session), 12, true)),
        dim,
    ));
    // The agent where there is room (it is in the details too).
    if input.width >= 100 {
        spans.push(Span::raw(format!("{} ", view::fit(&view::agent(session), 6, true))));
    }
    spans.push(Span::styled(view::preview(session), dim));
    Line::from(spans)
}

/// The lines under an expanded session: where it runs, what it waits for, its questions, the whole last message, its
/// context, the actions it takes, and the rules behind it.
fn details(session: &pb::Session, input: &ListInput<'_>) -> Vec<Line<'static>> {
    let width = input.width.saturating_sub(6).max(10);
    let label = Style::default().fg(Color::Gray);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut field = |name: &str, value: String| {
        for (i, chunk) in wrap(&value, width.saturating_sub(name.len() + 1).max(8))
            .into_iter()
            .enumerate()
        {
            let name = if i == 0 {
                name.to_owned()
            } else {
                " ".repeat(name.len())
            };
            out.push(Line::from(vec![
                Span::styled(format!("      {name} "), label),
                Span::raw(chunk),
            ]));
        }
    };
    field("id     ", view::clean(&session.session_id));
    let dir = if session.project_dir.is_empty() {
        &session.cwd
    } else {
        &session.project_dir
    };
    field("dir    ", view::clean(dir));
    if let Some(attention) = view::attention(session) {
        field("waits  ", attention);
    }
    if !session.status_reason.is_empty() {
        field("why    ", view::clean(&session.status_reason));
    }
    if !session.liveness_reason.is_empty() {
        field("dead   ", view::clean(&session.liveness_reason));
    }
    for question in &session.pending_questions {
        let header = if question.header.is_empty() {
            String::new()
        } else {
            format!("[{}] ", question.header)
        };
        let several = if question.multi_select {
            " (several may be chosen)"
        } else {
            ""
        };
        field(
            "asks   ",
            view::clean(&format!("{header}{}{several}", question.question)),
        );
        for (n, option) in question.options.iter().enumerate() {
            let description = match option.description.is_empty() {
                true => String::new(),
                false => format!(" — {}", option.description),
            };
            field(
                "       ",
                view::clean(&format!("{}. {}{description}", n + 1, option.label)),
            );
        }
    }
    if !session.last_message_preview.is_empty() {
        field("said   ", view::preview(session));
    }
    if let Some(usage) = &session.context_usage {
        let (percent, used) = view::context(session).unwrap_or_default();
        let compacted = if usage.compacted { ", compacted since" } else { "" };
        field(
            "context",
            view::clean(&format!("{percent:.0}% {used} tokens, {}{compacted}", usage.model)),
        );
    }
    if session.running_subagents > 0 {
        field("agents ", format!("{} sub-agents running", session.running_subagents));
    }
    let actions = actions(session);
    if !actions.is_empty() {
        let text = match input.can_act {
            true => actions.join(" · "),
            false => format!("{} (need a token: AMC_TOKEN)", actions.join(" · ")),
        };
        field("keys   ", text);
    }
    match input.explained {
        Some(Explained::Loading) => field("rules  ", "asking the server…".into()),
        Some(Explained::Failed(why)) => field("rules  ", view::clean(why)),
        Some(Explained::Lines(lines)) if lines.is_empty() => field("rules  ", "no decisions recorded".into()),
        Some(Explained::Lines(lines)) => {
            for (i, line) in lines.iter().enumerate() {
                field(if i == 0 { "rules  " } else { "       " }, line.clone());
            }
        }
        None => {}
    }
    out
}

/// The action keys a session takes now.
pub fn actions(session: &pb::Session) -> Vec<String> {
    let mut keys = Vec::new();
    if session.attention.as_ref().is_some_and(|a| !a.request_id.is_empty()) {
        keys.push("a approve".to_owned());
        keys.push("d deny".to_owned());
    }
    if let Some(question) = session.pending_questions.first().filter(|q| !q.options.is_empty()) {
        keys.push(format!("1-{} answer", question.options.len().min(9)));
    }
    if session.is_dead || Group::of(session) == Group::Done {
        keys.push("x dismiss".to_owned());
    }
    keys
}

/// `text` in pieces of at most `width` columns (by characters; a long word is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar as _;
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
        if used > 0 && used + 1 + w > width {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if used > 0 {
            line.push(' ');
            used += 1;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn the_dead_group_is_folded_until_opened() {
        let sessions = [
            pb::Session {
                session_id: "a".into(),
                status: pb::SessionStatus::Active as i32,
                ..Default::default()
            },
            pb::Session {
                session_id: "b".into(),
                is_dead: true,
                ..Default::default()
            },
        ];
        let mut input = ListInput {
            sessions: &sessions,
            filter: "",
            expanded: None,
            dead_open: false,
            explained: None,
            can_act: false,
            width: 80,
            now: SystemTime::now(),
        };
        let sels = |input: &ListInput<'_>| list(input).into_iter().filter_map(|(_, s)| s).collect::<Vec<_>>();
        assert_eq!(sels(&input), [Sel::Session("a".into()), Sel::DeadHeading]);
        input.dead_open = true;
        assert_eq!(
            sels(&input),
            [Sel::Session("a".into()), Sel::DeadHeading, Sel::Session("b".into())]
        );
    }
}
