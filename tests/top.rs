//! `amc top` as a user runs it, against `amc serve` as a process with fixture sessions: `--once` tables, and the
//! screen inside tmux driven by send-keys and read by capture-pane (navigation, filter, expand, an action, the jump
//! to a pane, a narrow terminal, 1 000 sessions, reconnecting after a server restart). The tmux tests say so and
//! pass when tmux is missing (scripts/test-tui installs it).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use support::{Served, TestEnv};

const AMC: &str = env!("CARGO_BIN_EXE_amc");

/// A stand-in for zellij: `list-sessions` prints Zellij's real line for a running session named `work`,
/// `--version` a version that takes `--pane-id`, and every call is logged to `zellij.log` beside it.
const FAKE_ZELLIJ: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/zellij.log"
case "$1" in
  --version) echo "zellij 0.45.1" ;;
  list-sessions) echo "work [Created 1h 2m ago] "; echo "bulk [Created 5m ago] " ;;
  --session) [ "$3" = action ] || exit 2 ;;
  *) exit 2 ;;
esac
"#;

struct Fixture {
    env: TestEnv,
    zellij: PathBuf,
}

impl Fixture {
    /// A data dir with a session that asks a question (in pane work:3, 45 % of its context used, an escape sequence
    /// in its preview), one that works (work:4), one that is done, and one dead (its Zellij session is gone).
    fn new() -> Fixture {
        let env = TestEnv::new();
        let zellij = env.home().join("bin/zellij");
        std::fs::create_dir_all(zellij.parent().unwrap()).unwrap();
        support::write_executable(&zellij, FAKE_ZELLIJ);
        let transcript = env.home().join("ask.jsonl");
        std::fs::write(
            &transcript,
            concat!(
                r#"{"type":"assistant","uuid":"u1","parentUuid":null,"sessionId":"ask","timestamp":"2026-01-01T00:00:01.000Z","#,
                r#""message":{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"#,
                r#""usage":{"input_tokens":10,"cache_creation_input_tokens":40000,"cache_read_input_tokens":49990,"output_tokens":5}}}"#,
                "\n"
            ),
        )
        .unwrap();
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let ask = serde_json::json!({
            "session_id": "ask-1111", "status": "needs_attention", "agent": "claude",
            "project_dir": "/home/me/src/api", "zellij_session": "work", "zellij_pane": "3",
            "last_event_at": now, "transcript_path": transcript,
            "last_message_preview": "Run the \u{1b}[31mmigrations\u{1b}[0m now?",
            "attention": {"kind": "question", "event": "PreToolUse", "tool_name": "AskUserQuestion",
                          "message": "Which database?"},
            "pending_questions": [{"question": "Which database?", "header": "DB",
                "options": [{"label": "Postgres", "description": "the main one"}, {"label": "SQLite"}]}],
        });
        env.write_session("ask-1111.json", &ask.to_string());
        env.write_session(
            "work-2222.json",
            &serde_json::json!({"session_id": "work-2222", "status": "active", "agent": "claude",
                "project_dir": "/home/me/src/web", "zellij_session": "work", "zellij_pane": "4",
                "last_event_at": now, "last_message_preview": "Running the test suite"})
            .to_string(),
        );
        env.write_session(
            "done-3333.json",
            &serde_json::json!({"session_id": "done-3333", "status": "done", "agent": "claude",
                "project_dir": "/home/me/src/docs", "zellij_session": "work", "zellij_pane": "5",
                "last_event_at": now, "last_message_preview": "All done."})
            .to_string(),
        );
        env.write_session(
            "gone-4444.json",
            &serde_json::json!({"session_id": "gone-4444", "status": "active", "agent": "claude",
                "project_dir": "/home/me/src/old", "zellij_session": "closed", "zellij_pane": "1",
                "last_event_at": now})
            .to_string(),
        );
        Fixture { env, zellij }
    }

    fn amc(&self) -> Command {
        let mut command = Command::new(AMC);
        command.env_clear().envs(self.vars());
        command
    }

    fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.env.home().display().to_string()),
            ("AMC_DATA_DIR".into(), self.env.paths.data_dir.display().to_string()),
            ("AMC_ZELLIJ_BIN".into(), self.zellij.display().to_string()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("RUST_LOG".into(), "warn".into()),
        ]
    }

    /// `amc serve` on `listen`, returned once its first state is published.
    fn serve(&self, listen: &str) -> Served {
        let addr_file = self.env.home().join("served-addr");
        let mut command = self.amc();
        command
            .args(["serve", "--listen", listen, "--addr-file"])
            .arg(&addr_file)
            .env("AMC_HEARTBEAT_MS", "300");
        support::serve_process(command, &addr_file)
    }

    fn once(&self, args: &[&str]) -> (bool, String, String) {
        let output = self
            .amc()
            .arg("top")
            .arg("--once")
            .args(args)
            .output()
            .expect("run amc top --once");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// Stops the server as a user does (SIGTERM) and waits for it.
fn stop(mut served: Served) {
    let _ = Command::new("kill").arg(served.child.id().to_string()).status();
    let _ = served.child.wait();
}

/// The line of `text` that contains `needle`.
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn once_prints_every_group_of_a_live_server() {
    let fixture = Fixture::new();
    let served = fixture.serve("127.0.0.1:0");
    // Found through the address the server wrote in the data dir (no --connect).
    let (ok, table, stderr) = fixture.once(&[]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("amc: 4 sessions, 1 need attention (revision "),
        "{table}"
    );
    // The dashboard's order: needs attention, active, done, dead.
    let headings: Vec<&str> = lines.iter().filter(|l| !l.starts_with(' ')).skip(1).copied().collect();
    assert_eq!(
        headings,
        ["Needs attention (1)", "Active (1)", "Done (1)", "Dead (1)"],
        "{table}"
    );
    let ask = line_with(&table, "api");
    for column in ["attention", "claude", "work:3", "45%", "90K/≈200K", "Run the"] {
        assert!(ask.contains(column), "{column:?} missing from {ask:?}");
    }
    assert!(
        !table.contains('\u{1b}'),
        "an escape sequence reached the terminal:\n{table:?}"
    );
    assert!(line_with(&table, "web").contains("Running the test suite"));
    assert!(line_with(&table, "old").trim_start().starts_with("dead"));
    // Through --connect with the URL, the same table.
    let (ok, again, _) = fixture.once(&["--connect", &format!("http://{}", served.addr)]);
    assert!(ok);
    assert_eq!(again.lines().count(), table.lines().count());
}

#[test]
fn once_says_why_when_no_server_answers() {
    let fixture = Fixture::new();
    let port = free_port();
    let (ok, stdout, stderr) = fixture.once(&["--connect", &format!("127.0.0.1:{port}")]);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains(&format!("cannot connect to http://127.0.0.1:{port}")),
        "{stderr}"
    );
    let (ok, _, stderr) = fixture.once(&["--connect", "https://example.invalid:1"]);
    assert!(!ok);
    assert!(stderr.contains("plain http:// only"), "{stderr}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tmux server of its own running `amc top` in one window.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `amc top` (with `args`) in a `width`×`height` tmux window, or `None` (with a message) when tmux is missing.
    fn start(fixture: &Fixture, args: &[&str], width: u16, height: u16) -> Option<Tmux> {
        static N: AtomicUsize = AtomicUsize::new(0);
        if !Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!("skipping: tmux is not installed (scripts/test-tui installs it)");
            return None;
        }
        let socket = format!("amc-top-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let mut command = vec!["env".to_owned(), "-i".to_owned()];
        command.extend(fixture.vars().into_iter().map(|(k, v)| format!("{k}={v}")));
        command.push("TERM=xterm-256color".into());
        command.push(AMC.into());
        command.push("top".into());
        command.extend(args.iter().map(|a| a.to_string()));
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" "))
            .status()
            .expect("run tmux");
        assert!(status.success());
        let tmux = Tmux { socket };
        tmux.tmux(&["set-option", "-g", "remain-on-exit", "on"]);
        Some(tmux)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "0", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// Waits until the screen satisfies `ok` (10 s at most), and returns it.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "waited for {what}; the screen is:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the program in the window.
    fn pid(&self) -> u32 {
        self.tmux(&["display-message", "-p", "-t", "0", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane pid")
    }

    fn dead(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "0", "#{pane_dead}"]).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The selected line: the one drawn in reverse video (read with capture-pane -e).
fn selected(tmux: &Tmux) -> String {
    let raw = tmux.tmux(&["capture-pane", "-p", "-e", "-t", "0"]);
    raw.lines().find(|l| reversed(l)).map(strip_escapes).unwrap_or_default()
}

/// Whether an SGR sequence of `line` turns on reverse video (parameter 7, not a colour's 38;5;7).
fn reversed(line: &str) -> bool {
    line.split("\u{1b}[").skip(1).any(|seq| {
        let Some(end) = seq.find('m') else { return false };
        let params: Vec<&str> = seq[..end].split(';').collect();
        let mut i = 0;
        while i < params.len() {
            match params[i] {
                "38" | "48" if params.get(i + 1) == Some(&"5") => i += 3,
                "38" | "48" if params.get(i + 1) == Some(&"2") => i += 5,
                "7" => return true,
                _ => i += 1,
            }
        }
        false
    })
}

fn strip_escapes(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn top_navigates_filters_expands_acts_and_jumps() {
    let fixture = Fixture::new();
    let _served = fixture.serve("127.0.0.1:0");
    let Some(tmux) = Tmux::start(&fixture, &[], 100, 30) else {
        return;
    };
    let screen = tmux.wait("the sessions", |s| {
        s.contains("Needs attention (1)") && s.contains("▸ Dead (1)")
    });
    assert!(screen.contains("1 need attention"), "{screen}");
    let order: Vec<usize> = ["Needs attention", "Active (1)", "Done (1)", "Dead (1)"]
        .iter()
        .map(|h| screen.find(h).unwrap_or_else(|| panic!("{h} missing:\n{screen}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "groups out of order:\n{screen}");
    // The dead session is folded.
    assert!(!screen.contains("old "), "{screen}");

    // Navigation: the first session is selected; j and the arrow move down, k up.
    tmux.wait("a selection", |_| selected(&tmux).contains("api"));
    tmux.keys(&["j"]);
    tmux.wait("web selected", |_| selected(&tmux).contains("web"));
    tmux.keys(&["Down"]);
    tmux.wait("docs selected", |_| selected(&tmux).contains("docs"));
    tmux.keys(&["k", "k"]);
    tmux.wait("api selected", |_| selected(&tmux).contains("api"));
    // A key is drawn at once, not at the next tick of the one-second clock.
    let mut took = Duration::ZERO;
    for (key, project) in [
        ("j", "web"),
        ("k", "api"),
        ("j", "web"),
        ("k", "api"),
        ("j", "web"),
        ("k", "api"),
    ] {
        let started = Instant::now();
        tmux.keys(&[key]);
        tmux.wait(project, |_| selected(&tmux).contains(project));
        took += started.elapsed();
    }
    // (The clock ticks once a second: a key left for the tick shows after ~1 s on average.)
    assert!(
        took / 6 < Duration::from_millis(600),
        "a key took {:?} on average to show",
        took / 6
    );

    // Expand: the question, its options, the whole message and the rules behind the session.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("the expansion", |s| s.contains("2. SQLite") && s.contains("rules"));
    assert!(screen.contains("[DB] Which database?"), "{screen}");
    assert!(screen.contains("1. Postgres — the main one"), "{screen}");
    assert!(screen.contains("1-2 answer"), "{screen}");
    tmux.wait("the explanation", |s| s.contains("status = needs_attention"));
    // Answer with option 2 (it is typed into the session's own pane: send-keys --pane-id 3 2).
    tmux.keys(&["9"]);
    tmux.wait("a refused option", |s| s.contains("no option 9 to answer with"));
    tmux.keys(&["2"]);
    tmux.wait("the answer", |s| s.contains("answer: delivered"));
    let log = std::fs::read_to_string(fixture.zellij.with_file_name("zellij.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l == "--session work action send-keys --pane-id 3 2"),
        "{log}"
    );
    // Approve needs a held permission request; this session holds a question.
    tmux.keys(&["a"]);
    tmux.wait("no request", |s| s.contains("no held permission request to decide"));
    tmux.keys(&["Enter"]);
    // Closed, a session takes no approval or answer: what is acted on must be on screen.
    tmux.keys(&["1"]);
    tmux.wait("open first", |s| s.contains("press Enter to open the session first"));
    tmux.wait("the collapse", |s| !s.contains("2. SQLite"));

    // g: focus the pane through zellij.
    tmux.keys(&["g"]);
    tmux.wait("the jump", |s| s.contains("focused pane 3 of Zellij session work"));
    let log = std::fs::read_to_string(fixture.zellij.with_file_name("zellij.log")).unwrap();
    assert!(
        log.lines().any(|l| l == "--session work action focus-pane-id 3"),
        "{log}"
    );

    // Filter: only the matching session stays; Esc in the filter clears it.
    tmux.keys(&["/", "w", "e", "b"]);
    let screen = tmux.wait("the filter", |s| s.contains("/web") && !s.contains("Needs attention"));
    assert!(screen.contains("Active (1)"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait("the kept filter", |s| s.contains("filter: web"));
    tmux.keys(&["/", "Escape"]);
    tmux.wait("the whole list", |s| s.contains("Needs attention (1)"));

    // The dead group opens with Enter on its heading.
    tmux.keys(&["End", "Enter"]);
    tmux.wait("the dead group", |s| s.contains("▾ Dead (1)") && s.contains("old"));

    // An action with the local server's token: dismiss the done session (just above the dead heading).
    tmux.keys(&["k"]);
    tmux.wait("docs selected", |_| selected(&tmux).contains("docs"));
    tmux.keys(&["x"]);
    tmux.wait("the dismissal", |s| {
        s.contains("dismiss: dismissed") && !s.contains("Done (1)")
    });
    assert!(!fixture.env.paths.sessions_dir().join("done-3333.json").exists());

    // A new session arrives as a delta.
    fixture.env.write_session(
        "new-5555.json",
        r#"{"session_id":"new-5555","status":"starting","agent":"claude","project_dir":"/p/fresh","zellij_session":"work","zellij_pane":"9"}"#,
    );
    tmux.wait("the new session", |s| s.contains("Starting (1)") && s.contains("fresh"));

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tmux.dead() {
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn top_reconnects_after_a_server_restart_and_fits_small_terminals() {
    let fixture = Fixture::new();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    // Down at start: top says so and keeps trying.
    let Some(tmux) = Tmux::start(&fixture, &["--connect", &listen], 80, 24) else {
        return;
    };
    tmux.wait("reconnecting", |s| s.contains("reconnecting…"));
    let served = fixture.serve(&listen);
    let screen = tmux.wait("the sessions", |s| {
        s.contains("Needs attention (1)") && !s.contains("reconnecting")
    });
    assert!(screen.lines().all(|l| l.chars().count() <= 80));

    stop(served);
    let screen = tmux.wait("reconnecting", |s| s.contains("reconnecting…"));
    assert!(
        screen.contains("Needs attention (1)"),
        "the last state stays on screen:\n{screen}"
    );
    // A change made while the server is away shows after the restart.
    fixture.env.write_session(
        "late-6666.json",
        r#"{"session_id":"late-6666","status":"starting","agent":"claude","project_dir":"/p/late","zellij_session":"work","zellij_pane":"8"}"#,
    );
    let _served = fixture.serve(&listen);
    tmux.wait("the resumed watch", |s| {
        s.contains("Starting (1)") && !s.contains("reconnecting")
    });

    // 20×5 and back: no panic, the top bar and a line of the list.
    tmux.tmux(&["resize-window", "-t", "0", "-x", "20", "-y", "5"]);
    let screen = tmux.wait("the small screen", |s| {
        s.lines().next().is_some_and(|l| l.contains("amc top"))
    });
    assert!(
        screen.lines().count() <= 5 && screen.lines().all(|l| l.chars().count() <= 20),
        "{screen}"
    );
    for (x, y) in [(50, 10), (21, 6), (120, 40), (80, 24)] {
        tmux.tmux(&["resize-window", "-t", "0", "-x", &x.to_string(), "-y", &y.to_string()]);
    }
    tmux.wait("the big screen again", |s| s.contains("Needs attention (1)"));
    assert!(!tmux.dead(), "amc top died while resizing");
}

#[test]
fn top_scrolls_a_thousand_sessions_and_idles_cheaply() {
    let fixture = Fixture::new();
    for i in 0..1000 {
        fixture.env.write_session(
            &format!("bulk-{i:04}.json"),
            &format!(
                r#"{{"session_id":"bulk-{i:04}","status":"active","agent":"claude","project_dir":"/p/proj-{i:04}","zellij_session":"bulk","zellij_pane":"{i}"}}"#
            ),
        );
    }
    let _served = fixture.serve("127.0.0.1:0");
    let Some(tmux) = Tmux::start(&fixture, &[], 80, 24) else {
        return;
    };
    tmux.wait("the list", |s| s.contains("Active (1001)"));
    tmux.keys(&["End"]);
    // The end: the dead heading, the done session, then the active group's last rows (sorted by id).
    tmux.wait("the end of the list", |s| s.contains("▸ Dead (1)"));
    tmux.keys(&["k", "k"]);
    tmux.wait("the last active session", |_| selected(&tmux).contains("web"));
    tmux.keys(&["k"]);
    tmux.wait("the last bulk session", |_| selected(&tmux).contains("proj-0999"));
    tmux.keys(&["PageUp"]);
    tmux.wait("a page up", |_| selected(&tmux).contains("proj-0989"));
    tmux.keys(&["Home"]);
    tmux.wait("the top again", |_| selected(&tmux).contains("api"));
    // Idle: the clock ticks once a second; measure the CPU time of 4 s.
    let pid = tmux.pid();
    let cpu = || cpu_ticks(pid);
    let before = cpu();
    std::thread::sleep(Duration::from_secs(4));
    let used = (cpu() - before) as f64 / clock_ticks() as f64;
    assert!(
        used / 4.0 < 0.02,
        "amc top used {:.1} % CPU idle with 1 000 sessions",
        used / 4.0 * 100.0
    );
    eprintln!("amc top idle with 1 001 sessions: {:.2} % CPU", used / 4.0 * 100.0);
}

/// utime + stime of `pid` in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(100)
}
