//! Every input the fuzz targets (fuzz/, `scripts/fuzz`) found that failed, kept as a regression test.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use amc::sources::{
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
