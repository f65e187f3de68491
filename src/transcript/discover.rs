//! Finding a session's transcript: Claude Code's project-directory encoding and the Codex rollout index.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Claude Code keeps encoded directory names up to this many characters; longer ones are cut and get a hash suffix.
const MAX_SANITIZED_LENGTH: usize = 200;

/// How often [`CodexRolloutIndex`] may walk the sessions tree again after a miss.
pub const CODEX_RESCAN_INTERVAL: Duration = Duration::from_secs(5);

/// Returns the directory name Claude Code gives the project at `cwd` under its projects root.
///
/// Every UTF-16 code unit that is not an ASCII letter or digit becomes `-` (so a character outside the BMP gives two
/// dashes). A name longer than 200 characters is cut to 200 and gets `-` plus a base-36 hash of `cwd`
/// (formats.md §2.2). The hash is the djb2-style `simpleHash` of Claude Code's non-Bun builds
/// (`h = (h << 5) - h + unit`, 32-bit, then `Math.abs`); the Bun-built binaries use `Bun.hash` instead, and 2.1.224
/// changed the suffix again, so [`find_claude_transcript`] also matches on the 200-character prefix alone.
pub fn claude_project_dir_name(cwd: &str) -> String {
    let mut name = String::with_capacity(cwd.len());
    for c in cwd.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else {
            name.extend(std::iter::repeat_n('-', c.len_utf16()));
        }
    }
    if name.len() <= MAX_SANITIZED_LENGTH {
        return name;
    }
    // The name is ASCII, so byte 200 is a character boundary.
    name.truncate(MAX_SANITIZED_LENGTH);
    name.push('-');
    name.push_str(&to_base36(simple_hash(cwd).unsigned_abs().into()));
    name
}

/// JavaScript's `h = (h << 5) - h + s.charCodeAt(i); h |= 0` over the UTF-16 code units of `s`.
fn simple_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_shl(5).wrapping_sub(h).wrapping_add(i32::from(unit))
    })
}

fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        // `n % 36` is below 36, so the index is in range and the cast cannot truncate.
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

/// Returns the session's transcript: `transcript_path` when that file exists, else [`find_claude_transcript`].
pub fn claude_transcript(
    transcript_path: Option<&Path>,
    projects_roots: &[PathBuf],
    session_id: &str,
    project_dir: &str,
) -> Option<PathBuf> {
    match transcript_path {
        Some(path) if path.is_file() => Some(path.to_path_buf()),
        _ => find_claude_transcript(projects_roots, session_id, project_dir),
    }
}

/// Returns the Claude transcript `<root>/<encoded project_dir>/<session_id>.jsonl` under the first root holding it.
///
/// When the encoded name is longer than 200 characters, any directory starting with its 200-character prefix is
/// tried, because the hash suffix differs between Claude Code builds. As a last resort every project directory is
/// tried: the directory is named after the cwd the session *started* in, which can differ from `project_dir`.
/// Never returns a subagent transcript (those live one level deeper, under `<session>/subagents/`).
pub fn find_claude_transcript(projects_roots: &[PathBuf], session_id: &str, project_dir: &str) -> Option<PathBuf> {
    if !is_plain_file_name(session_id) {
        return None;
    }
    let file_name = format!("{session_id}.jsonl");
    let encoded = claude_project_dir_name(project_dir);
    for root in projects_roots {
        let candidate = root.join(&encoded).join(&file_name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let prefix = (encoded.len() > MAX_SANITIZED_LENGTH).then(|| &encoded[..MAX_SANITIZED_LENGTH]);
    let mut any_dir = None;
    for root in projects_roots {
        let Ok(entries) = fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let candidate = entry.path().join(&file_name);
            if !candidate.is_file() {
                continue;
            }
            let name = entry.file_name();
            if prefix.is_some_and(|p| name.to_string_lossy().starts_with(p)) {
                return Some(candidate);
            }
            any_dir.get_or_insert(candidate);
        }
    }
    any_dir
}

/// Rejects ids that would escape a directory when used as a file name.
fn is_plain_file_name(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains(['/', '\\', '\0'])
}

/// Finds Codex rollouts by session id, caching what one walk of the sessions tree found.
///
/// Rollouts live under `<sessions_root>/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`. One walk indexes every
/// rollout by the id at the end of its name; a miss walks again at most every [`CODEX_RESCAN_INTERVAL`], so sessions
/// without a rollout yet cost nothing per pass.
#[derive(Debug)]
pub struct CodexRolloutIndex {
    root: Option<PathBuf>,
    by_id: HashMap<String, PathBuf>,
    last_scan: Option<Instant>,
    rescan_interval: Duration,
}

impl Default for CodexRolloutIndex {
    fn default() -> Self {
        Self::new(CODEX_RESCAN_INTERVAL)
    }
}

impl CodexRolloutIndex {
    /// Creates an empty index that walks the tree again on a miss at most every `rescan_interval`.
    pub fn new(rescan_interval: Duration) -> Self {
        CodexRolloutIndex {
            root: None,
            by_id: HashMap::new(),
            last_scan: None,
            rescan_interval,
        }
    }

    /// Returns the rollout whose file name ends in `<session_id>.jsonl` under `sessions_root`.
    pub fn find(&mut self, sessions_root: &Path, session_id: &str) -> Option<PathBuf> {
        if !is_plain_file_name(session_id) {
            return None;
        }
        if self.root.as_deref() != Some(sessions_root) {
            self.root = Some(sessions_root.to_path_buf());
            self.by_id.clear();
            self.last_scan = None;
        }
        if let Some(path) = self.lookup(session_id) {
            if path.is_file() {
                return Some(path);
            }
        }
        if self.last_scan.is_some_and(|at| at.elapsed() < self.rescan_interval) {
            return None;
        }
        self.scan(sessions_root);
        self.lookup(session_id)
    }

    fn lookup(&self, session_id: &str) -> Option<PathBuf> {
        if let Some(path) = self.by_id.get(session_id) {
            return Some(path.clone());
        }
        // Ids that are not the usual 36-character UUID: match the end of the name.
        let suffix = format!("{session_id}.jsonl");
        self.by_id
            .values()
            .filter(|path| path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(&suffix)))
            .max()
            .cloned()
    }

    fn scan(&mut self, sessions_root: &Path) {
        self.by_id.clear();
        self.last_scan = Some(Instant::now());
        let mut stack = vec![(sessions_root.to_path_buf(), 0u8)];
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(file_type) = entry.file_type() else {
                    continue;
                };
                if file_type.is_dir() {
                    // YYYY/MM/DD is depth 3; one more level of slack, no deeper.
                    if depth < 4 {
                        stack.push((path, depth + 1));
                    }
                    continue;
                }
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let Some(stem) = name.strip_prefix("rollout-").and_then(|n| n.strip_suffix(".jsonl")) else {
                    continue;
                };
                // `YYYY-MM-DDThh-mm-ss-` is 20 characters; the id follows. The same id twice (a copy) keeps the
                // greater path, which sorts by date.
                let id = stem.get(20..).filter(|id| !id.is_empty()).unwrap_or(stem).to_string();
                match self.by_id.get(&id) {
                    Some(existing) if *existing >= path => {}
                    _ => {
                        self.by_id.insert(id, path);
                    }
                }
            }
        }
        tracing::debug!(root = %sessions_root.display(), rollouts = self.by_id.len(), "indexed codex rollouts");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_claude_code() {
        // Real pairs from formats.md §2.2.
        assert_eq!(
            claude_project_dir_name("/home/marco/projects/spotter-worktrees/spotter-4te"),
            "-home-marco-projects-spotter-worktrees-spotter-4te"
        );
        assert_eq!(
            claude_project_dir_name("/Users/ryoppippi/ghq/github.com/ryoppippi/ccusage"),
            "-Users-ryoppippi-ghq-github-com-ryoppippi-ccusage"
        );
        assert_eq!(claude_project_dir_name("/Users/me/.agents"), "-Users-me--agents");
        assert_eq!(claude_project_dir_name("C:\\git\\cc-plus"), "C--git-cc-plus");
        assert_eq!(claude_project_dir_name("/tmp/my_project x"), "-tmp-my-project-x");
        // Cyrillic: one UTF-16 unit each; an emoji: two.
        assert_eq!(claude_project_dir_name("/Проект"), "-------");
        assert_eq!(claude_project_dir_name("/a😀b"), "-a--b");
    }

    #[test]
    fn long_names_get_a_hash_suffix() {
        let cwd = format!("/{}", "d".repeat(260));
        let name = claude_project_dir_name(&cwd);
        let prefix = format!("-{}", "d".repeat(199));
        assert!(name.starts_with(&format!("{prefix}-")), "{name}");
        assert_eq!(&name[201..], to_base36(simple_hash(&cwd).unsigned_abs().into()));
        // 200 characters exactly stay as they are.
        let cwd = format!("/{}", "e".repeat(199));
        assert_eq!(claude_project_dir_name(&cwd).len(), 200);
    }

    #[test]
    fn long_names_match_the_javascript_function() {
        // Expected values printed by node running the function quoted in formats.md §2.2 (djb2 variant):
        // q = A.replace(/[^a-zA-Z0-9]/g, "-"); K = 0; for (i…) { K = (K << 5) - K + A.charCodeAt(i); K |= 0 }
        // `${q.slice(0, 200)}-${Math.abs(K).toString(36)}`
        let a = format!("/very/deep/{}gggg", "segment_".repeat(30));
        let want_a = format!("-very-deep-{}segme-k9uiin", "segment-".repeat(23));
        assert_eq!(claude_project_dir_name(&a), want_a);
        let b = format!("/home/user/Проект/😀/{}", "x".repeat(200));
        let want_b = format!("-home-user-----------{}-ykdw2o", "x".repeat(179));
        assert_eq!(claude_project_dir_name(&b), want_b);
    }

    #[test]
    fn simple_hash_matches_javascript() {
        // Values computed with the JavaScript loop in formats.md §2.2 / the issue it cites:
        // h = 0; for (c of s) h = ((h << 5) - h + c.charCodeAt(0)) | 0;
        assert_eq!(simple_hash(""), 0);
        assert_eq!(simple_hash("a"), 97);
        assert_eq!(simple_hash("ab"), 97 * 31 + 98);
        // Overflow wraps at 32 bits like `| 0`.
        let long = "z".repeat(50);
        let mut h: i64 = 0;
        for unit in long.encode_utf16() {
            h = (((h << 5) - h + i64::from(unit)) as i32).into();
        }
        assert_eq!(i64::from(simple_hash(&long)), h);
        assert_eq!(to_base36(0), "0");
        assert_eq!(to_base36(35), "z");
        assert_eq!(to_base36(36), "10");
        assert_eq!(to_base36(2_147_483_648), "zik0zk");
    }

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        fs::write(path, b"{}\n").expect("write");
    }

    #[test]
    fn finds_claude_transcripts() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (first, second) = (tmp.path().join("a/projects"), tmp.path().join("b/projects"));
        let roots = vec![first.clone(), second.clone()];
        let sid = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7";
        assert_eq!(find_claude_transcript(&roots, sid, "/work/x"), None);

        let expected = second.join("-work-x").join(format!("{sid}.jsonl"));
        touch(&expected);
        // A subagent file of the same name one level deeper is never returned.
        touch(
            &second
                .join("-work-x")
                .join(sid)
                .join("subagents")
                .join(format!("{sid}.jsonl")),
        );
        assert_eq!(find_claude_transcript(&roots, sid, "/work/x"), Some(expected.clone()));
        assert_eq!(claude_transcript(None, &roots, sid, "/work/x"), Some(expected.clone()));
        assert_eq!(
            claude_transcript(Some(&tmp.path().join("gone.jsonl")), &roots, sid, "/work/x"),
            Some(expected)
        );
        // A transcript_path that is a directory (or a dangling name) is not the transcript: search instead.
        let dir_path = tmp.path().join("dir.jsonl");
        fs::create_dir_all(&dir_path).expect("mkdir");
        assert_eq!(
            claude_transcript(Some(&dir_path), &roots, sid, "/work/x"),
            Some(second.join("-work-x").join(format!("{sid}.jsonl")))
        );
        let given = tmp.path().join("given.jsonl");
        touch(&given);
        assert_eq!(claude_transcript(Some(&given), &roots, sid, "/work/x"), Some(given));

        // Started in another cwd: found by scanning.
        let moved = first.join("-elsewhere").join("other-session.jsonl");
        touch(&moved);
        assert_eq!(find_claude_transcript(&roots, "other-session", "/work/x"), Some(moved));
        assert_eq!(find_claude_transcript(&roots, "../x", "/work/x"), None);
    }

    #[test]
    fn finds_long_claude_dirs_by_prefix() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("projects");
        let cwd = format!("/very/deep/{}", "g".repeat(250));
        let encoded = claude_project_dir_name(&cwd);
        // A different build's suffix (Bun.hash): only the 200-character prefix matches.
        let dir = format!("{}--on930v", &encoded[..200]);
        let expected = root.join(dir).join("s1.jsonl");
        touch(&expected);
        touch(&root.join("-unrelated").join("s2.jsonl"));
        assert_eq!(find_claude_transcript(&[root], "s1", &cwd), Some(expected));
    }

    #[test]
    fn indexes_codex_rollouts() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("sessions");
        let id = "019c8a4d-8f45-7010-8b5d-7fad920aa6f9";
        let path = root
            .join("2026/02/23")
            .join(format!("rollout-2026-02-23T12-41-04-{id}.jsonl"));
        touch(&path);
        touch(&root.join("2026/02/24/rollout-2026-02-24T01-00-00-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl"));
        touch(&root.join("2026/02/24/notes.txt"));
        let mut index = CodexRolloutIndex::new(Duration::ZERO);
        assert_eq!(index.find(&root, id), Some(path.clone()));
        assert_eq!(index.find(&root, "7fad920aa6f9"), Some(path.clone()));
        assert_eq!(index.find(&root, "missing"), None);

        // A new rollout appears: found after a rescan.
        let later = root.join("2026/03/01/rollout-2026-03-01T09-00-00-new-id.jsonl");
        touch(&later);
        assert_eq!(index.find(&root, "new-id"), Some(later));

        // A rate-limited index does not walk again right after a miss.
        let mut slow = CodexRolloutIndex::new(Duration::from_secs(3600));
        assert_eq!(slow.find(&root, "absent"), None);
        let fresh = root.join("2026/03/02/rollout-2026-03-02T09-00-00-absent.jsonl");
        touch(&fresh);
        assert_eq!(slow.find(&root, "absent"), None);
        // A cached hit whose file was deleted is not returned.
        fs::remove_file(&path).expect("rm");
        assert_eq!(index.find(&root, id), None);
    }
}
