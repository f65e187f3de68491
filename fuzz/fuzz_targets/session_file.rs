//! A session file (any bytes): parsed as the collector parses it, and written back as the session-file codec does.
#![no_main]

use amc::sources::session_file::{session_bytes, Parsed, RawSession};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = RawSession {
        path: "/fuzz/sessions/x.json".into(),
        bytes: data.to_vec(),
        mtime: None,
    };
    if let Parsed::Object(session) = raw.parse() {
        // What the codec writes parses back to the same object.
        let bytes = session_bytes(&session);
        let again = RawSession { bytes, ..raw };
        match again.parse() {
            Parsed::Object(back) => assert_eq!(back, session),
            other => panic!("written session does not parse back: {other:?}"),
        }
        let _ = amc::wire::session_to_proto(&session);
    }
});
