//! Every input the fuzz targets (fuzz/, `scripts/fuzz`) found that failed, kept as a regression test.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use amc::sources::{
    agent_procs,
    session_file::{session_bytes, Parsed, RawSession},
    zellij,
};

/// `session_file`, 2026-12-05: a number too long for an exact f64 came back one ulp off after the codec wrote the
/// session (serde_json's fast float parser); a write-back (`turn_start_tokens`) changed a value it does not own.
/// Fixed by serde_json's `float_roundtrip`.
#[test]
fn a_long_number_survives_a_session_file_write_back_exactly() {
    let input = br#"{"session_id":"s0","agent":"clatde","iont_usage":{"current_tokens":600111111111111111111111111111111111111111111111111111111111111111}}"#;
    let raw = RawSession {
        path: "/s/s0.json".into(),
        bytes: input.to_vec(),
        mtime: None,
    };
    let Parsed::Object(session) = raw.parse() else {
        panic!("an object")
    };
    let again = RawSession {
        bytes: session_bytes(&session),
        ..raw
    };
    let Parsed::Object(back) = again.parse() else {
        panic!("parses back")
    };
    assert_eq!(back, session);
}

/// `zellij_list`, 2026-12-05: a line with an escape sequence and NULs. Not a bug of amc's (the harness wrongly
/// required every live name to appear verbatim in the output, but names are read with the escape sequences
/// stripped); kept: the garbage line parses without a panic and the good line is still live.
#[test]
fn escape_sequences_and_nuls_in_list_sessions_are_parsed_without_a_panic() {
    let stdout =
        "main [Created 2h ago]\nol\u{1b}\0[C\0\0\0\0\0\0\0\0reated 1 doga] (EXITED - attach to res\u{fffd}rrect)\n";
    let sessions = zellij::interpret(Some(0), stdout, "").expect("a list");
    let live = zellij::live_names(&sessions);
    assert!(live.contains("main"), "{live:?}");
    assert!(live.iter().all(|name| !name.contains('\u{1b}')), "{live:?}");
}

/// `proc_parse`, 2026-12-06: `/proc/stat` with a `btime` of 17 000 000 000 000 000 615 seconds panicked
/// (`UNIX_EPOCH + Duration` overflowed), and so would a `starttime` whose milliseconds overflow a u64. Both are now
/// unknown start times: the process is still listed.
#[test]
fn a_boot_time_or_start_time_past_what_a_system_time_holds_is_unknown() {
    let root = tempfile::tempdir().expect("tempdir");
    let pid = root.path().join("4242");
    std::fs::create_dir_all(pid.join("fd")).expect("mkdir");
    std::fs::write(pid.join("comm"), "claude\n").expect("comm");
    std::fs::write(pid.join("cmdline"), "claude\0").expect("cmdline");
    std::fs::write(pid.join("environ"), "ZELLIJ_SESSION_NAME=main\0").expect("environ");
    let stat =
        |start_ticks: &str| format!("4242 (claude) S 1 4242 4242 34816 0 0 0 0 0 0 0 0 0 0 20 0 1 0 {start_ticks} 0 0");
    for (btime, start_ticks) in [
        ("17000000000000000615", "12345"),
        ("18446744073709551615", "12345"),
        ("1700000000", "18446744073709551615"),
        ("1700000000", "18446744073709552"),
    ] {
        std::fs::write(root.path().join("stat"), format!("cpu 1 2 3\nbtime {btime}\n")).expect("stat");
        std::fs::write(pid.join("stat"), stat(start_ticks)).expect("stat");
        let scan = agent_procs::scan(root.path(), &[]);
        let procs = scan.procs.expect("the fake /proc is read");
        let claude = procs.values().next().expect("the process is listed");
        assert_eq!(claude.started_at, None, "btime {btime}, starttime {start_ticks}");
    }
    // In range: known (the layout above is right).
    std::fs::write(root.path().join("stat"), "cpu 1 2 3\nbtime 1700000000\n").expect("stat");
    std::fs::write(pid.join("stat"), stat("12345")).expect("stat");
    let procs = agent_procs::scan(root.path(), &[]).procs.expect("read");
    let started = procs.values().next().expect("listed").started_at;
    assert_eq!(
        started,
        std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(1_700_000_000_000 + 123_450))
    );
}
