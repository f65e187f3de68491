//! Conformance of `amc::transcript` over every real transcript in `../shared/fixtures` (claude-transcripts and
//! codex-rollouts).
//!
//! The expected numbers below were derived by reading the files with jq/python, not by running amc. For each file
//! the comment gives the line that decides (0-based line index) and the arithmetic. Commands used, e.g.:
//!
//! ```text
//! jq -c 'select(.type=="assistant") | [.isSidechain, .message.model, .message.usage, .timestamp]' FILE
//! jq -c 'select(.type=="system") | .subtype' FILE
//! jq -c 'select(.type=="event_msg" and .payload.type=="token_count" and .payload.info!=null)
//!        | [.timestamp, .payload.info.last_token_usage, .payload.info.model_context_window]' FILE | tail -1
//! jq -c 'select(.type=="compacted" or .payload.type=="context_compacted")' FILE
//! jq -c 'select(.type=="turn_context") | .payload.model' FILE | tail -1
//! ```
//!
//! No fixture has `<synthetic>` or `isApiErrorMessage` lines (grep finds none), so those rules are covered by the
//! unit tests' hand-made files.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs,
    path::{Path, PathBuf},
};

use amc::transcript::{ContextUsage, TranscriptCache, TranscriptKind};

/// What a transcript must yield; `None` = no `context_usage`.
struct Expected {
    /// Path relative to `shared/fixtures`.
    path: &'static str,
    kind: TranscriptKind,
    usage: Option<Want>,
}

/// The expected `context_usage` (Claude windows are always inferred: 200K here, no model is native 1M and no usable
/// context exceeds 200 000).
struct Want {
    current: u64,
    window: u64,
    model: &'static str,
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
    updated_at: &'static str,
    percent: f64,
}

const CLAUDE: TranscriptKind = TranscriptKind::Claude;
const CODEX: TranscriptKind = TranscriptKind::Codex;

fn expectations() -> Vec<Expected> {
    vec![
        // 1.0.98, 29 lines, 15 assistant lines, all main chain. Newest: line 28, msg_01EoAxzgxSHRavtZuynqjwKT,
        // usage {input 5, cache_creation 129, cache_read 17303, output 72} → 5+129+17303 = 17437;
        // 17437/200000 = 8.72 % → 8.7. Max main context 17437 ≤ 200K; sonnet-4 not native 1M → 200K.
        Expected {
            path: "claude-transcripts/d-kimuson-claude-code-viewer/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 17_437,
                window: 200_000,
                model: "claude-sonnet-4-20250514",
                input: 5,
                output: 72,
                cache_read: 17_303,
                cache_creation: 129,
                updated_at: "2025-09-03T00:47:52.264Z",
                percent: 8.7,
            }),
        },
        // 1.0.108 with an inline Task sub-agent (isSidechain:true on lines 31–39, the largest sidechain context 19 698).
        // Newest main-chain assistant: line 52, msg_018Fip6V8pouqPgh3JVuzhiH, {6, 226, 25848, out 304} → 26080;
        // 26080/200000 = 13.04 % → 13.0.
        Expected {
            path: "claude-transcripts/d-kimuson-claude-code-viewer/sample-project/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 26_080,
                window: 200_000,
                model: "claude-sonnet-4-20250514",
                input: 6,
                output: 304,
                cache_read: 25_848,
                cache_creation: 226,
                updated_at: "2025-09-07T09:54:26.499Z",
                percent: 13.0,
            }),
        },
        // 2.1.39, 2.7 MB: opus-4-6 → haiku-4-5 (line 102) → compact_boundary at line 1480 (preTokens 142431, no
        // postTokens) → opus-4-6 again from line 1491. The newest assistant, line 2379 (msg_012Vtrh1KUniRzp9AH8ZCu2b),
        // comes after the boundary, so not compacted: {1, 304, 101863, out 1} → 102168; 51.08 % → 51.1.
        // The largest main-chain context is 141 787 (before the boundary) ≤ 200K → 200K.
        Expected {
            path: "claude-transcripts/marot-spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 102_168,
                window: 200_000,
                model: "claude-opus-4-6",
                input: 1,
                output: 1,
                cache_read: 101_863,
                cache_creation: 304,
                updated_at: "2026-02-12T15:05:00.586Z",
                percent: 51.1,
            }),
        },
        // Subagent files: every assistant line has isSidechain:true (15 in agent-aac57f5, 1 in agent-acompact), so
        // nothing is usable. (They are never read for the main session; read on their own they yield nothing.)
        Expected {
            path: "claude-transcripts/marot-spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-aac57f5.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        Expected {
            path: "claude-transcripts/marot-spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-acompact-946d2b.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        // 2.1.38, split message msg_01MKH1ccEGrZGNPvu8pYiiQa on lines 4–7 and 9 (same usage). Newest: line 9,
        // {3, 13835, 11515, out 13} → 25353; 12.68 % → 12.7.
        Expected {
            path: "claude-transcripts/marot-spotter/short.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 25_353,
                window: 200_000,
                model: "claude-opus-4-6",
                input: 3,
                output: 13,
                cache_read: 11_515,
                cache_creation: 13_835,
                updated_at: "2026-02-10T21:12:01.669Z",
                percent: 12.7,
            }),
        },
        // queue-operation, progress, system/local_command lines. Newest assistant: line 36, msg_019BN3FRqb7NU4DgBN5jdsym,
        // {47, 1115, 26504, out 173} → 27666 (line 33 has the same input side with output 25); 13.83 % → 13.8.
        Expected {
            path: "claude-transcripts/marot-spotter/tool_heavy.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 27_666,
                window: 200_000,
                model: "claude-opus-4-6",
                input: 47,
                output: 173,
                cache_read: 26_504,
                cache_creation: 1_115,
                updated_at: "2026-02-10T22:59:37.598Z",
                percent: 13.8,
            }),
        },
        // 2.1.29 (Haiku 4.5). Newest assistant: line 8, msg_01Cbb4pdEsHhaWruHNWMgc7D, {13, 248, 18108, out 3} → 18369;
        // 9.18 % → 9.2.
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/hook-session-start.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-Ru1Fl7/5158bdb4-602c-4c9d-a0c3-b56224e08115.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 18_369,
                window: 200_000,
                model: "claude-haiku-4-5-20251001",
                input: 13,
                output: 3,
                cache_read: 18_108,
                cache_creation: 248,
                updated_at: "2026-02-02T04:10:40.354Z",
                percent: 9.2,
            }),
        },
        // The prompt-suggestion side agents have no assistant line at all (3 user lines) → nothing usable.
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/hook-session-start.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-Ru1Fl7/5158bdb4-602c-4c9d-a0c3-b56224e08115/subagents/agent-aprompt_suggestion-952074.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        // 2.1.29 with system/stop_hook_summary lines. Newest assistant: line 13, msg_017Aqp8sbKHP1ypKXqa1ivEn,
        // {13, 237, 18056, out 3} → 18306; 9.15 % → 9.2.
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/hook-stop.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-lvcsb6/d266fdf5-b6a3-46aa-8627-920959a0109a.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 18_306,
                window: 200_000,
                model: "claude-haiku-4-5-20251001",
                input: 13,
                output: 3,
                cache_read: 18_056,
                cache_creation: 237,
                updated_at: "2026-02-02T04:11:12.041Z",
                percent: 9.2,
            }),
        },
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/hook-stop.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-lvcsb6/d266fdf5-b6a3-46aa-8627-920959a0109a/subagents/agent-aprompt_suggestion-637414.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/hook-stop.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-lvcsb6/d266fdf5-b6a3-46aa-8627-920959a0109a/subagents/agent-aprompt_suggestion-959e66.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        // 2.1.29, pending Edit permission. Newest assistant: line 16, msg_01MfS7mmq9cKprjketj2dLaN,
        // {13, 263, 18249, out 1} → 18525; 9.26 % → 9.3. (Line 7/8 had 18558, the file's maximum.)
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/edit-permission-dialog.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-caLMT9/c2fc3a3f-66d5-4c87-9f78-1a31dd719471.jsonl",
            kind: CLAUDE,
            usage: Some(Want {
                current: 18_525,
                window: 200_000,
                model: "claude-haiku-4-5-20251001",
                input: 13,
                output: 1,
                cache_read: 18_249,
                cache_creation: 263,
                updated_at: "2026-02-02T05:38:29.680Z",
                percent: 9.3,
            }),
        },
        Expected {
            path: "claude-transcripts/alfredjeanlab-claudeless/v2.1.29/edit-permission-dialog.projects/-private-var-folders-t5-6tq8cxtj20z035rv8hsnzwvh0000gn-T-capture-caLMT9/c2fc3a3f-66d5-4c87-9f78-1a31dd719471/subagents/agent-aprompt_suggestion-dcd338.jsonl",
            kind: CLAUDE,
            usage: None,
        },
        // Codex Desktop 0.104.0-alpha.1: 56 token_count events (line 11 has info:null, many duplicates). Newest with
        // info: line 415, last_token_usage {input 108869, cached 108288, output 6189, total 115058}, window 258400;
        // no compacted/context_compacted records; newest turn_context.model (line 409) gpt-5.3-codex;
        // 115058/258400 = 44.53 % → 44.5.
        Expected {
            path: "codex-rollouts/madshn-localpush/sessions/2026/02/23/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
            kind: CODEX,
            usage: Some(Want {
                current: 115_058,
                window: 258_400,
                model: "gpt-5.3-codex",
                input: 108_869,
                output: 6_189,
                cache_read: 108_288,
                cache_creation: 0,
                updated_at: "2026-02-23T11:46:43.614Z",
                percent: 44.5,
            }),
        },
        // Same build, 12 token_count events. Newest with info: line 61, {input 63441, cached 49664, output 286,
        // total 63727}, window 258400; turn_context.model gpt-5.3-codex; 24.66 % → 24.7.
        Expected {
            path: "codex-rollouts/madshn-localpush/sessions/2026/02/23/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
            kind: CODEX,
            usage: Some(Want {
                current: 63_727,
                window: 258_400,
                model: "gpt-5.3-codex",
                input: 63_441,
                output: 286,
                cache_read: 49_664,
                cache_creation: 0,
                updated_at: "2026-02-23T19:36:02.633Z",
                percent: 24.7,
            }),
        },
        // Codex CLI 0.77.0: session_meta, 3 messages, one user_message event, 6 turn_context lines, and no
        // token_count event at all → nothing usable.
        Expected { path: "codex-rollouts/simonw-claude-code-transcripts/sample_codex_session.jsonl", kind: CODEX, usage: None },
    ]
}

fn jsonl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            jsonl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
}

/// Reads `path` forwards, as if it had been written one line per pass.
fn read_forwards(path: &Path, kind: TranscriptKind) -> Option<ContextUsage> {
    let text = fs::read(path).expect("read fixture");
    let tmp = tempfile::tempdir().expect("tempdir");
    let grown = tmp.path().join("grown.jsonl");
    let mut file = fs::File::create(&grown).expect("create");
    let mut cache = TranscriptCache::new(None);
    let mut usage = None;
    for line in text.split_inclusive(|&b| b == b'\n') {
        std::io::Write::write_all(&mut file, line).expect("append");
        usage = cache.context_usage(&grown, kind);
    }
    usage
}

#[test]
fn every_shared_fixture_transcript() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures"));
    if !root.is_dir() {
        eprintln!(
            "skipping: ../shared not present ({} is not a directory)",
            root.display()
        );
        return;
    }
    let expectations = expectations();
    let mut files = Vec::new();
    jsonl_files(&root.join("claude-transcripts"), &mut files);
    jsonl_files(&root.join("codex-rollouts"), &mut files);
    files.sort();
    // Every transcript in the fixture set has a written-down expectation, and every expectation a file.
    let mut listed: Vec<PathBuf> = expectations.iter().map(|e| root.join(e.path)).collect();
    listed.sort();
    assert_eq!(files, listed, "the fixture set and the expectations differ");

    for expected in &expectations {
        let path = root.join(expected.path);
        let mut cache = TranscriptCache::new(None);
        let got = cache.context_usage(&path, expected.kind);
        assert_eq!(
            read_forwards(&path, expected.kind),
            got,
            "{}: forward and backward reads differ",
            expected.path
        );
        let Some(want) = &expected.usage else {
            assert_eq!(got, None, "{}", expected.path);
            continue;
        };
        let got = got.unwrap_or_else(|| panic!("{}: no context usage", expected.path));
        let json = got.to_json();
        assert_eq!(got.current_tokens, Some(want.current), "{}", expected.path);
        assert_eq!(got.window_tokens, want.window, "{}", expected.path);
        assert_eq!(got.model.as_deref(), Some(want.model), "{}", expected.path);
        assert_eq!(
            (
                got.input_tokens,
                got.output_tokens,
                got.cache_read_tokens,
                got.cache_creation_tokens
            ),
            (want.input, want.output, want.cache_read, want.cache_creation),
            "{}",
            expected.path
        );
        assert_eq!(got.updated_at.as_deref(), Some(want.updated_at), "{}", expected.path);
        assert!(!got.compacted, "{}", expected.path);
        assert_eq!(json["percent"], want.percent, "{}", expected.path);
        // Claude never states its window; Codex rollouts do.
        assert_eq!(got.window_inferred, expected.kind == CLAUDE, "{}", expected.path);
        // No byte is read twice on first sight. (These files are all below the 16 MiB look-back, so a model without
        // native 1M has them read whole, for the ">200K seen" window rule.)
        assert!(
            cache.bytes_read() <= fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            "{}",
            expected.path
        );
    }
}
