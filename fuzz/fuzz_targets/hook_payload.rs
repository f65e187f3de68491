//! A hook payload (any bytes) through the whole `amc hook` state machine, on a temp data dir kept across runs (so
//! one payload meets the files earlier ones left: the session files, event logs, the trash).
#![no_main]

use std::sync::OnceLock;

use amc::{
    config::Paths,
    hook::{handle_payload, HookEnv},
};
use libfuzzer_sys::fuzz_target;

fn paths() -> &'static (tempfile::TempDir, Paths) {
    static PATHS: OnceLock<(tempfile::TempDir, Paths)> = OnceLock::new();
    PATHS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let paths = Paths::from_lookup(|k| match k {
            "HOME" => Some(root.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(root.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        (dir, paths)
    })
}

fuzz_target!(|data: &[u8]| {
    let (dir, paths) = paths();
    let env = HookEnv {
        zellij_session: Some("fuzz".into()),
        zellij_pane: Some("1".into()),
        ..HookEnv::default()
    };
    // The hook reads the transcript a payload names: one outside the temp dir is pointed at a transcript inside it
    // (a FIFO or /proc/kmsg elsewhere would block the fuzzer, not test the hook's logic).
    let transcript = dir.path().join("transcript.jsonl");
    let mut owned = None;
    if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice::<serde_json::Value>(data) {
        let outside = map.get("transcript_path").and_then(|p| p.as_str()).is_some_and(|p| {
            !p.is_empty() && (!p.starts_with(dir.path().to_string_lossy().as_ref()) || p.contains(".."))
        });
        if outside {
            if !transcript.exists() {
                let line = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"done"}],"usage":{"input_tokens":5}}}"#;
                std::fs::write(&transcript, format!("{line}\n")).expect("transcript");
            }
            map.insert(
                "transcript_path".into(),
                transcript.to_string_lossy().into_owned().into(),
            );
            owned = Some(serde_json::Value::Object(map).to_string().into_bytes());
        }
    }
    let data = owned.as_deref().unwrap_or(data);
    let _ = handle_payload(paths, data, &env);
    // Nothing may escape the data dir.
    for entry in std::fs::read_dir(dir.path()).expect("list").flatten() {
        assert!(
            entry.file_name() == "data" || entry.file_name() == "transcript.jsonl",
            "wrote outside the data dir: {:?}",
            entry.path()
        );
    }
});
