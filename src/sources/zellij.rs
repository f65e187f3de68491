//! The live Zellij sessions, from `zellij list-sessions --no-formatting`: run with a timeout, parsed from Zellij's
//! real output, and cached.
//!
//! The answer is `Option<HashSet<String>>`: `None` ("unknown") when the list cannot be obtained (no binary, a hang, an
//! error exit, output that is not Zellij's), and then no rule declares anything dead or removes anything on Zellij's
//! account. Two deliberate differences from the original, which took the first word of each line of a successful
//! run and treated every failure as unknown:
//! - exit 1 with nothing on stdout and `No active zellij sessions found.` on stderr is what Zellij prints when no
//!   session exists: an empty list, not unknown;
//! - a session Zellij lists as `(EXITED - attach to resurrect)` is not alive.

use std::{
    collections::HashSet,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

/// How long `zellij list-sessions` may take before it is killed and the list is unknown.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a list (or an "unknown") is reused before Zellij is asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// What Zellij prints on stderr, with exit code 1, when no session exists.
const NO_SESSIONS: &str = "No active zellij sessions found";

/// One line of `zellij list-sessions --no-formatting`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZellijSession {
    /// The session name.
    pub name: String,
    /// Suffix `(current)`: the session amc itself runs in.
    pub current: bool,
    /// Suffix `(EXITED - attach to resurrect)`: a dead session that could be resurrected.
    pub exited: bool,
}

/// Removes ANSI CSI sequences (`ESC [ ... final`) and other lone escapes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// Parses one line: `NAME [Created DUR ago] SUFFIX`, anchored on the right so names may hold spaces, brackets or
/// emoji (the regex `^(?<name>.+?) \[Created (?<dur>.+?) ago\] ?(?<suffix>\(current\)|\(EXITED - attach to
/// resurrect\))?\s*$`, hand-written). Returns `None` when the line is not in that shape.
pub fn parse_line(line: &str) -> Option<ZellijSession> {
    let line = strip_ansi(line);
    let mut rest = line.trim_end();
    let mut current = false;
    let mut exited = false;
    if let Some(r) = rest.strip_suffix("(current)") {
        current = true;
        rest = r;
    } else if let Some(r) = rest.strip_suffix("(EXITED - attach to resurrect)") {
        exited = true;
        rest = r;
    }
    if current || exited {
        // The suffix follows `]` directly or after one space.
        rest = rest.strip_suffix(' ').unwrap_or(rest);
    }
    let head = rest.strip_suffix(" ago]")?;
    const MARK: &str = " [Created ";
    // The lazy name: the first marker that leaves a non-empty name and a non-empty duration.
    let mut from = 0;
    while let Some(i) = head[from..].find(MARK).map(|i| i + from) {
        let (name, dur) = (&head[..i], &head[i + MARK.len()..]);
        if !name.is_empty() && !dur.is_empty() {
            return Some(ZellijSession {
                name: name.to_owned(),
                current,
                exited,
            });
        }
        from = i + 1;
    }
    None
}

/// Parses the stdout of a successful run. Lines not in Zellij's shape fall back to their first word (as in the
/// original); if no non-empty line is in Zellij's shape at all, the output is not Zellij's and `None` is returned.
pub fn parse_list(stdout: &str) -> Option<Vec<ZellijSession>> {
    let mut sessions = Vec::new();
    let mut recognised = 0;
    let mut other = 0;
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line) {
            Some(s) => {
                recognised += 1;
                sessions.push(s);
            }
            None => {
                other += 1;
                if let Some(word) = strip_ansi(line).split_whitespace().next() {
                    sessions.push(ZellijSession {
                        name: word.to_owned(),
                        current: false,
                        exited: false,
                    });
                }
            }
        }
    }
    (recognised > 0 || other == 0).then_some(sessions)
}

/// Interprets a finished run: exit 0 → the parsed list; exit 1 with empty stdout and Zellij's "no sessions" message
/// → an empty list; anything else → `None`.
pub fn interpret(exit_code: Option<i32>, stdout: &str, stderr: &str) -> Option<Vec<ZellijSession>> {
    match exit_code {
        Some(0) => parse_list(stdout),
        Some(1) if stdout.trim().is_empty() && strip_ansi(stderr).contains(NO_SESSIONS) => Some(Vec::new()),
        _ => None,
    }
}

/// Returns the names of the live (not EXITED) sessions.
pub fn live_names(sessions: &[ZellijSession]) -> HashSet<String> {
    sessions.iter().filter(|s| !s.exited).map(|s| s.name.clone()).collect()
}

/// Runs `bin list-sessions --no-formatting` with `timeout`; `None` when the list cannot be obtained.
pub fn list_sessions(bin: Option<&Path>, timeout: Duration) -> Option<Vec<ZellijSession>> {
    let Some(bin) = bin else {
        tracing::debug!("no zellij binary: liveness unknown");
        return None;
    };
    let mut cmd = Command::new(bin);
    cmd.args(["list-sessions", "--no-formatting"]);
    match super::run_with_timeout(&mut cmd, timeout) {
        Ok(out) => {
            let parsed = interpret(out.status.code(), &out.stdout, &out.stderr);
            if parsed.is_none() {
                tracing::warn!(
                    bin = %bin.display(),
                    status = %out.status,
                    stderr = %out.stderr.trim(),
                    "zellij list-sessions gave no usable list: liveness unknown"
                );
            }
            parsed
        }
        Err(error) => {
            tracing::warn!(bin = %bin.display(), %error, "zellij list-sessions failed: liveness unknown");
            None
        }
    }
}

/// The live session names, refreshed at most every [`CACHE_TTL`].
///
/// Unlike the original, which cached only successes, an unknown answer is cached too: a hanging `zellij` then costs
/// one [`LIST_TIMEOUT`] per [`CACHE_TTL`], not one per pass.
#[derive(Debug, Default)]
pub struct ZellijCache {
    cached: Option<(Instant, Option<HashSet<String>>)>,
}

impl ZellijCache {
    /// Returns the live session names (`None` = unknown), asking `bin` when the cached answer is older than
    /// [`CACHE_TTL`].
    pub fn live_sessions(&mut self, bin: Option<&Path>) -> Option<HashSet<String>> {
        if let Some((at, value)) = &self.cached {
            if at.elapsed() < CACHE_TTL {
                return value.clone();
            }
        }
        let value = list_sessions(bin, LIST_TIMEOUT).map(|s| live_names(&s));
        self.cached = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[ZellijSession]) -> Vec<&str> {
        v.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn parses_a_line_with_the_trailing_space_of_an_empty_suffix() {
        let s = parse_line("amc-test [Created 6s ago] ").expect("parses");
        assert_eq!(
            s,
            ZellijSession {
                name: "amc-test".into(),
                current: false,
                exited: false
            }
        );
    }

    #[test]
    fn parses_current_and_exited() {
        let s = parse_line("main [Created 1h 2m ago] (current)").expect("parses");
        assert!(s.current && !s.exited);
        assert_eq!(s.name, "main");
        let s = parse_line("old [Created 2days 21h 42m 21s ago] (EXITED - attach to resurrect)").expect("parses");
        assert!(s.exited && !s.current);
        assert_eq!(s.name, "old");
    }

    #[test]
    fn names_with_spaces_emoji_and_brackets_survive() {
        assert_eq!(
            parse_line("my 🚀 session [Created 0s ago] ").expect("parses").name,
            "my 🚀 session"
        );
        assert_eq!(
            parse_line("a [b] [Created 1m 15s ago] (current)").expect("parses").name,
            "a [b]"
        );
        assert_eq!(
            parse_line("x.y-z [Created 1month 9days 13h 33m 5s ago] ")
                .expect("parses")
                .name,
            "x.y-z"
        );
    }

    #[test]
    fn strips_ansi_codes() {
        let line = "\u{1b}[32;1mmain\u{1b}[m [Created \u{1b}[35;1m4s\u{1b}[m ago] (\u{1b}[31;1mEXITED\u{1b}[m - attach to resurrect)";
        let s = parse_line(line).expect("parses");
        assert_eq!(s.name, "main");
        assert!(s.exited);
    }

    #[test]
    fn other_lines_are_not_zellij_lines() {
        assert_eq!(parse_line("main"), None);
        assert_eq!(parse_line(" [Created 1s ago] "), None);
        assert_eq!(parse_line("main [Created  ago]"), None);
    }

    #[test]
    fn the_list_skips_blank_lines_and_keeps_order() {
        let out = "alpha [Created 11h 39m 1s ago] \nbeta [Created 4s ago] (current)\n\ngone [Created 1day 42m 19s ago] (EXITED - attach to resurrect)\n";
        let list = parse_list(out).expect("zellij output");
        assert_eq!(names(&list), ["alpha", "beta", "gone"]);
        assert_eq!(
            live_names(&list),
            HashSet::from(["alpha".to_string(), "beta".to_string()])
        );
    }

    #[test]
    fn unrecognised_lines_fall_back_to_the_first_word_but_garbage_is_unknown() {
        let mixed = parse_list("alpha [Created 1s ago] \nbeta gamma\n").expect("one real line");
        assert_eq!(names(&mixed), ["alpha", "beta"]);
        assert_eq!(parse_list("garbage\n\u{0}\u{1}binary\n"), None);
        assert_eq!(parse_list(""), Some(Vec::new()));
    }

    #[test]
    fn no_sessions_is_an_empty_list() {
        let list = interpret(Some(1), "", "No active zellij sessions found.\n").expect("known");
        assert!(list.is_empty());
    }

    #[test]
    fn errors_are_unknown() {
        assert_eq!(interpret(Some(1), "", "Error occurred: Permission denied\n"), None);
        assert_eq!(
            interpret(Some(1), "main [Created 1s ago] ", "No active zellij sessions found."),
            None
        );
        assert_eq!(interpret(Some(2), "", ""), None);
        assert_eq!(interpret(None, "", ""), None);
    }

    #[test]
    fn a_missing_binary_is_unknown() {
        assert_eq!(list_sessions(None, LIST_TIMEOUT), None);
        assert_eq!(
            list_sessions(Some(Path::new("/nonexistent/zellij")), LIST_TIMEOUT),
            None
        );
    }
}
