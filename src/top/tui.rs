//! The terminal side of `amc top`: the event loop (keys, resizes, the feed, a one-second clock), what each key does,
//! and the calls it makes (ExplainSession, ActionService, `zellij action focus-pane-id`). It draws only when
//! something changed or the clock ticked.

use std::{collections::HashMap, path::PathBuf, time::Duration, time::SystemTime};

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::StreamExt as _;
use ratatui::{
    layout::Rect,
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::Paragraph,
    DefaultTerminal, Frame,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{
    draw::{self, Explained, Sel},
    feed::{self, Feed},
    Target,
};
use crate::{proto as pb, wire::Explanation};

/// How often the clock redraws (the time-in-state column).
pub const TICK: Duration = Duration::from_secs(1);

/// Runs the screen until `q`.
pub fn run(target: Target, zellij: Option<PathBuf>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let mut terminal = ratatui::try_init().context("preparing the terminal")?;
        let result = App::new(target, zellij).main(&mut terminal).await;
        ratatui::restore();
        result
    })
}

/// What a finished background call reports.
enum Done {
    Explained(String, Explained),
    Said(String, bool),
}

struct App {
    target: Target,
    zellij: Option<PathBuf>,
    feed: Feed,
    selected: Option<Sel>,
    /// The index of the selection among the selectable lines, to fall back on when the selected session leaves.
    selected_index: usize,
    offset: usize,
    expanded: Option<String>,
    dead_open: bool,
    filter: String,
    editing: bool,
    explained: HashMap<String, Explained>,
    message: Option<(String, bool)>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    quit: bool,
}

impl App {
    fn new(target: Target, zellij: Option<PathBuf>) -> App {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        App {
            target,
            zellij,
            feed: Feed::default(),
            selected: None,
            selected_index: 0,
            offset: 0,
            expanded: None,
            dead_open: false,
            filter: String::new(),
            editing: false,
            explained: HashMap::new(),
            message: None,
            done_tx,
            done_rx,
            quit: false,
        }
    }

    async fn main(&mut self, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let (tx, mut rx) = watch::channel(Feed::default());
        let watcher = tokio::spawn(feed::run(self.target.clone(), tx, stop.clone()));
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        terminal.draw(|frame| self.draw(frame))?;
        while !self.quit {
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => {
                        self.on_event(event);
                        // A burst (a paste, a storm of resizes) is taken whole before one draw. (Polled within
                        // this task, so the stream keeps this task's waker: a no-op waker would leave the next key
                        // unread until the clock ticks.)
                        while let Ok(Some(Ok(event))) = tokio::time::timeout(Duration::ZERO, events.next()).await {
                            self.on_event(event);
                        }
                    }
                    Some(Err(e)) => return Err(e).context("reading the terminal"),
                    None => break,
                },
                changed = rx.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    self.feed = rx.borrow_and_update().clone();
                }
                _ = tick.tick() => {}
                Some(done) = self.done_rx.recv() => self.on_done(done),
            }
            if !self.quit {
                terminal.draw(|frame| self.draw(frame))?;
            }
        }
        stop.cancel();
        let _ = watcher.await;
        Ok(())
    }

    fn sessions(&self) -> &[pb::Session] {
        self.feed.state.as_ref().map_or(&[], |held| held.sessions.as_slice())
    }

    fn session(&self, id: &str) -> Option<&pb::Session> {
        self.sessions().iter().find(|s| s.session_id == id)
    }

    fn lines(&self, width: usize) -> Vec<(Line<'static>, Option<Sel>)> {
        let expanded = self.expanded.as_deref();
        draw::list(&draw::ListInput {
            sessions: self.sessions(),
            filter: &self.filter,
            expanded,
            dead_open: self.dead_open,
            explained: expanded.and_then(|id| self.explained.get(id)),
            can_act: self.target.has_token(),
            width,
            now: SystemTime::now(),
        })
    }

    /// The selectable lines, in order.
    fn selectable(&self) -> Vec<Sel> {
        self.lines(80).into_iter().filter_map(|(_, sel)| sel).collect()
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            // A resize needs nothing but the draw that follows.
            _ => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        if self.editing {
            match key.code {
                KeyCode::Esc => {
                    self.filter.clear();
                    self.editing = false;
                }
                KeyCode::Enter | KeyCode::Down => self.editing = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if !c.is_control() => self.filter.push(c),
                _ => {}
            }
            self.offset = 0;
            return;
        }
        self.message = None;
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Up | KeyCode::Char('k') => self.step(-1),
            KeyCode::Down | KeyCode::Char('j') => self.step(1),
            KeyCode::PageUp => self.step(-10),
            KeyCode::PageDown => self.step(10),
            KeyCode::Home => self.step(isize::MIN / 2),
            KeyCode::End => self.step(isize::MAX / 2),
            KeyCode::Enter | KeyCode::Char(' ') => self.toggle(),
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Esc if self.expanded.take().is_none() => self.filter.clear(),
            KeyCode::Char('g') => self.jump(),
            KeyCode::Char('a') => self.decide(pb::Behavior::Allow),
            KeyCode::Char('d') => self.decide(pb::Behavior::Deny),
            KeyCode::Char('x') => self.dismiss(),
            KeyCode::Char(c @ '1'..='9') => self.answer(c as u32 - '0' as u32),
            _ => {}
        }
    }

    /// Moves the selection by `by` selectable lines.
    fn step(&mut self, by: isize) {
        let all = self.selectable();
        if all.is_empty() {
            self.selected = None;
            return;
        }
        let at = self.current(&all);
        let next = (at as isize).saturating_add(by).clamp(0, all.len() as isize - 1) as usize;
        self.selected = Some(all[next].clone());
        self.selected_index = next;
    }

    /// The index of the selection among `all`: where it is, else where it was.
    fn current(&self, all: &[Sel]) -> usize {
        match &self.selected {
            Some(sel) => all
                .iter()
                .position(|s| s == sel)
                .unwrap_or(self.selected_index.min(all.len().saturating_sub(1))),
            None => 0,
        }
    }

    fn selected_session(&self) -> Option<&pb::Session> {
        match &self.selected {
            Some(Sel::Session(id)) => self.session(id),
            _ => None,
        }
    }

    fn toggle(&mut self) {
        match self.selected.clone() {
            Some(Sel::DeadHeading) => self.dead_open = !self.dead_open,
            Some(Sel::Session(id)) => {
                if self.expanded.as_deref() == Some(id.as_str()) {
                    self.expanded = None;
                } else {
                    self.expanded = Some(id.clone());
                    self.explain(id);
                }
            }
            None => self.step(0),
        }
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some((text.into(), error));
    }

    fn explain(&mut self, id: String) {
        self.explained.insert(id.clone(), Explained::Loading);
        let target = self.target.clone();
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let answer = async {
                let mut client = pb::state_service_client::StateServiceClient::new(target.lazy());
                let request = target.unary(pb::ExplainSessionRequest { session_id: id.clone() })?;
                let response = client
                    .explain_session(request)
                    .await
                    .map_err(|status| anyhow::anyhow!(feed::status_text(&status)))?;
                anyhow::Ok(Explanation::from_proto(response.into_inner()))
            };
            let explained = match answer.await {
                Ok(e) => Explained::Lines(
                    e.decisions
                        .iter()
                        .map(|d| format!("{} = {}  ({})", d.field, crate::model::string_form(&d.value), d.rule))
                        .collect(),
                ),
                Err(e) => Explained::Failed(e.to_string()),
            };
            let _ = tx.send(Done::Explained(id, explained));
        });
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Explained(id, explained) => {
                self.explained.insert(id, explained);
            }
            Done::Said(text, error) => self.say(text, error),
        }
    }

    /// The session an action applies to: the selected one, expanded when `expanded_only` (so what is approved or
    /// answered was on screen).
    fn acting_on(&mut self, expanded_only: bool) -> Option<pb::Session> {
        if !self.target.has_token() {
            self.say(
                "actions need a token: set AMC_TOKEN (the local server's token file is read by itself)",
                true,
            );
            return None;
        }
        let session = self.selected_session().cloned();
        let Some(session) = session else {
            self.say("select a session first", true);
            return None;
        };
        if expanded_only && self.expanded.as_deref() != Some(session.session_id.as_str()) {
            self.say(
                "press Enter to open the session first: actions act on what you see",
                true,
            );
            return None;
        }
        Some(session)
    }

    fn decide(&mut self, behavior: pb::Behavior) {
        let Some(session) = self.acting_on(true) else { return };
        let Some(request_id) = session
            .attention
            .as_ref()
            .map(|a| a.request_id.clone())
            .filter(|r| !r.is_empty())
        else {
            self.say("no held permission request to decide for this session", true);
            return;
        };
        self.call("decide", move |target, mut client| async move {
            let request = target.unary(pb::DecideRequest {
                session_id: session.session_id,
                request_id,
                behavior: behavior as i32,
                message: None,
            })?;
            Ok(client.decide(request).await?.into_inner().result)
        });
    }

    fn answer(&mut self, option: u32) {
        let Some(session) = self.acting_on(true) else { return };
        let offered = session.pending_questions.first().map_or(0, |q| q.options.len());
        if option as usize > offered {
            self.say(format!("no option {option} to answer with"), true);
            return;
        }
        self.call("answer", move |target, mut client| async move {
            let request = target.unary(pb::AnswerRequest {
                session_id: session.session_id,
                options: vec![option],
                text: String::new(),
            })?;
            Ok(client.answer(request).await?.into_inner().result)
        });
    }

    fn dismiss(&mut self) {
        let Some(session) = self.acting_on(false) else { return };
        self.call("dismiss", move |target, mut client| async move {
            let request = target.unary(pb::DismissRequest {
                session_id: session.session_id,
            })?;
            Ok(client.dismiss(request).await?.into_inner().result)
        });
    }

    /// Sends one ActionService call in the background; its outcome goes to the bottom bar.
    fn call<F, Fut>(&mut self, action: &'static str, make: F)
    where
        F: FnOnce(Target, pb::action_service_client::ActionServiceClient<tonic::transport::Channel>) -> Fut
            + Send
            + 'static,
        Fut: std::future::Future<Output = Result<Option<pb::ActionResult>, ActionError>> + Send,
    {
        self.say(format!("{action}: sending…"), false);
        let target = self.target.clone();
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let client = pb::action_service_client::ActionServiceClient::new(target.lazy());
            let said = match make(target, client).await {
                Ok(Some(result)) => {
                    let detail = if result.detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", result.detail)
                    };
                    Done::Said(format!("{action}: {}{detail}", result.outcome), false)
                }
                Ok(None) => Done::Said(format!("{action}: done"), false),
                Err(ActionError::Status(status)) if status.code() == tonic::Code::Unimplemented => {
                    Done::Said(format!("{action}: this server offers no actions"), true)
                }
                Err(ActionError::Status(status)) => {
                    Done::Said(format!("{action}: {}", feed::status_text(&status)), true)
                }
                Err(ActionError::Other(e)) => Done::Said(format!("{action}: {e}"), true),
            };
            let _ = tx.send(said);
        });
    }

    /// `g`: focuses the session's pane with `zellij --session S action focus-pane-id P` (Zellij ≥ 0.44, on this
    /// machine).
    fn jump(&mut self) {
        let Some(session) = self.selected_session() else {
            self.say("select a session first", true);
            return;
        };
        if session.zellij_session.is_empty() || session.zellij_pane.is_empty() {
            self.say("this session runs outside Zellij", true);
            return;
        }
        let (zsession, pane) = (session.zellij_session.clone(), session.zellij_pane.clone());
        let zellij = self.zellij.clone();
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let said = match focus(zellij, &zsession, &pane).await {
                Ok(()) => Done::Said(format!("focused pane {pane} of Zellij session {zsession}"), false),
                Err(e) => Done::Said(e, true),
            };
            let _ = tx.send(said);
        });
    }

    fn draw(&mut self, frame: &mut Frame<'_>) {
        let area = frame.area();
        if area.height == 0 || area.width == 0 {
            return;
        }
        let width = usize::from(area.width);
        frame.render_widget(Paragraph::new(self.top_bar()), Rect { height: 1, ..area });
        let body_height = usize::from(area.height.saturating_sub(2));
        let lines = self.lines(width);
        // Keep the selection (falling back to where it was) and scroll it into view.
        let selectable: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.1.is_some())
            .map(|(i, _)| i)
            .collect();
        let sels: Vec<Sel> = lines.iter().filter_map(|l| l.1.clone()).collect();
        let chosen = if sels.is_empty() {
            None
        } else {
            Some(self.current(&sels))
        };
        if let Some(at) = chosen {
            self.selected = Some(sels[at].clone());
            self.selected_index = at;
        }
        let line_at = chosen.map(|at| selectable[at]);
        if let Some(line) = line_at {
            // The selected line and, when it is expanded, as much of its details as fit.
            let details = lines[line + 1..].iter().take_while(|l| l.1.is_none()).count();
            let bottom = if self.expanded.is_some() { line + details } else { line };
            if bottom >= self.offset + body_height {
                self.offset = (bottom + 1).saturating_sub(body_height).min(line);
            }
            if line < self.offset {
                self.offset = line;
            }
        }
        self.offset = self.offset.min(lines.len().saturating_sub(1));
        let selected_style = Style::default().add_modifier(Modifier::REVERSED);
        let body: Vec<Line<'static>> = lines
            .into_iter()
            .enumerate()
            .skip(self.offset)
            .take(body_height)
            .map(|(i, (line, _))| {
                if Some(i) == line_at {
                    line.patch_style(selected_style)
                } else {
                    line
                }
            })
            .collect();
        if body_height > 0 {
            let body_area = Rect {
                y: area.y + 1,
                height: area.height.saturating_sub(2),
                ..area
            };
            frame.render_widget(Paragraph::new(body), body_area);
        }
        if area.height >= 2 {
            let bottom = Rect {
                y: area.y + area.height - 1,
                height: 1,
                ..area
            };
            frame.render_widget(Paragraph::new(self.bottom_bar()), bottom);
        }
    }

    fn top_bar(&self) -> Line<'static> {
        let bar = Style::default().fg(Color::Black).bg(Color::Gray);
        if let Some(reason) = &self.feed.away {
            let warn = Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD);
            return Line::from(vec![
                Span::styled(" reconnecting… ", warn),
                Span::styled(format!(" {} ", super::view::clean(reason)), bar),
            ])
            .style(bar);
        }
        let Some(held) = &self.feed.state else {
            return Line::from(Span::styled(
                format!(" amc top · connecting to {}…", self.target.url),
                bar,
            ))
            .style(bar);
        };
        let attention = held
            .sessions
            .iter()
            .filter(|s| super::view::Group::of(s) == super::view::Group::Attention)
            .count();
        let mut spans = vec![Span::styled(" amc top ", bar.add_modifier(Modifier::BOLD))];
        if attention > 0 {
            spans.push(Span::styled(
                format!(" {attention} need attention "),
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        spans.push(Span::styled(
            format!(
                " {} sessions · {} · rev {}",
                held.sessions.len(),
                self.target.url,
                held.revision
            ),
            bar,
        ));
        Line::from(spans).style(bar)
    }

    fn bottom_bar(&self) -> Line<'static> {
        if self.editing {
            return Line::from(vec![
                Span::styled("/", Style::default().add_modifier(Modifier::BOLD)),
                Span::raw(format!("{}█", self.filter)),
                Span::styled("  Enter keep · Esc clear", Style::default().fg(Color::Gray)),
            ]);
        }
        if let Some((text, error)) = &self.message {
            let colour = if *error { Color::LightRed } else { Color::LightGreen };
            return Line::from(Span::styled(super::view::clean(text), Style::default().fg(colour)));
        }
        let mut help = String::new();
        if !self.filter.is_empty() {
            help.push_str(&format!("filter: {} · ", self.filter));
        }
        help.push_str("↑↓/jk move · Enter open · / filter · g go to pane · q quit");
        if self.target.has_token() {
            help.push_str(" · a/d/1-9/x act");
        }
        Line::from(Span::styled(help, Style::default().fg(Color::Gray)))
    }
}

/// Why an action call failed.
enum ActionError {
    Status(tonic::Status),
    Other(anyhow::Error),
}

impl From<tonic::Status> for ActionError {
    fn from(status: tonic::Status) -> Self {
        ActionError::Status(status)
    }
}

impl From<anyhow::Error> for ActionError {
    fn from(error: anyhow::Error) -> Self {
        ActionError::Other(error)
    }
}

/// Focuses `pane` of the Zellij session `session` (Zellij 0.44 or newer, checked first).
async fn focus(zellij: Option<PathBuf>, session: &str, pane: &str) -> Result<(), String> {
    let checker = crate::server::pane::Zellij::new(zellij.clone());
    checker.check_version().await.map_err(|e| e.to_string())?;
    let bin = zellij.ok_or("zellij is not installed")?;
    let run = tokio::process::Command::new(&bin)
        .args(["--session", session, "action", "focus-pane-id", pane])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(crate::server::pane::COMMAND_TIMEOUT, run).await {
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => Err(format!(
            "zellij could not focus pane {pane}: {}",
            super::view::clean(&String::from_utf8_lossy(&output.stderr))
        )),
        Ok(Err(e)) => Err(format!("cannot run {}: {e}", bin.display())),
        Err(_) => Err("zellij did not answer in time".into()),
    }
}
