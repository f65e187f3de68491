//! `zellij list-sessions` output (any bytes, any exit code): parsed, and never a live session out of garbage.
#![no_main]

use amc::sources::zellij;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (code, text) = match data.split_first() {
        Some((c, rest)) => (i32::from(*c) - 1, rest),
        None => (0, data),
    };
    let text = String::from_utf8_lossy(text);
    let (stdout, stderr) = text.split_once('\u{1}').unwrap_or((&text, ""));
    if let Some(sessions) = zellij::parse_list(stdout) {
        let _ = zellij::live_names(&sessions);
    }
    for line in stdout.lines() {
        let _ = zellij::parse_line(line);
    }
    let code = (code >= 0).then_some(code);
    if let Some(sessions) = zellij::interpret(code, stdout, stderr) {
        // Names are read with escape sequences stripped, so they need not appear verbatim in the output; none
        // keeps an escape character.
        for name in zellij::live_names(&sessions) {
            assert!(!name.contains('\u{1b}'), "{name:?} keeps an escape");
        }
    }
});
