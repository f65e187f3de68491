//! Codex runs a hook from `hooks.json` only once the user trusted it: `[hooks.state."<key>"] trusted_hash =
//! "sha256:…"` in `$CODEX_HOME/config.toml`, where the hash is Codex's own digest of the hook's definition. An
//! untrusted hook is skipped without a word.
//!
//! `amc hooks install --agent codex` therefore asks Codex itself, as Codex's own TUI does, over its app-server
//! protocol (`codex app-server`, one JSON object per line on stdin/stdout): `initialize`, `hooks/list` (each hook's
//! `key`, `command`, `currentHash` and `trustStatus`), then `config/batchWrite` of `hooks.state` with the
//! `currentHash` of amc's own hooks (never anyone else's), then `hooks/list` again to check. amc never computes the
//! hash. When Codex cannot be run or says no, the install still stands and amc prints what to do by hand (open
//! Codex, `/hooks`, trust amc's entries).

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::{json, Value};

/// How long one request to `codex app-server` may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// One hook as `hooks/list` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedHook {
    /// Codex's key for the hook (`<source path>:<event>:<group>:<handler>`).
    pub key: String,
    /// The command it runs.
    pub command: String,
    /// The file it comes from.
    pub source_path: String,
    /// Codex's hash of its current definition.
    pub current_hash: String,
    /// `trusted`, `untrusted`, `modified` or `managed`.
    pub trust_status: String,
}

/// Returns the hooks of a `hooks/list` result that are amc's (`is_amc_command` says so of their command) and come
/// from `source` (the `hooks.json` amc wrote).
pub fn amc_hooks(result: &Value, source: &Path, is_amc_command: fn(&str) -> bool) -> Vec<ListedHook> {
    let text = |h: &Value, k: &str| h.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let entries = result.get("data").and_then(Value::as_array).into_iter().flatten();
    let mut out: Vec<ListedHook> = Vec::new();
    for hook in entries.flat_map(|e| e.get("hooks").and_then(Value::as_array).into_iter().flatten()) {
        let listed = ListedHook {
            key: text(hook, "key"),
            command: text(hook, "command"),
            source_path: text(hook, "sourcePath"),
            current_hash: text(hook, "currentHash"),
            trust_status: text(hook, "trustStatus"),
        };
        let ours = is_amc_command(&listed.command) && same_path(Path::new(&listed.source_path), source);
        if ours && !listed.key.is_empty() && !out.iter().any(|h| h.key == listed.key) {
            out.push(listed);
        }
    }
    out
}

/// Returns the `config/batchWrite` params that trust `hooks` at their current hash (those not trusted yet).
pub fn trust_edits(hooks: &[ListedHook]) -> Option<Value> {
    let mut state = serde_json::Map::new();
    for hook in hooks
        .iter()
        .filter(|h| h.trust_status != "trusted" && h.trust_status != "managed")
    {
        state.insert(hook.key.clone(), json!({"trusted_hash": hook.current_hash}));
    }
    if state.is_empty() {
        return None;
    }
    Some(json!({"edits": [{"keyPath": "hooks.state", "mergeStrategy": "upsert", "value": Value::Object(state)}]}))
}

fn same_path(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    a == b || canon(a) == canon(b)
}

/// Trusts amc's hooks in `hooks_json` through `codex app-server`; prints what happened. Never fails the install:
/// on any problem it prints the manual step instead.
pub fn trust_amc_hooks(hooks_json: &Path, codex_bin: Option<&Path>, is_amc_command: fn(&str) -> bool) {
    let program = codex_bin.map_or_else(|| PathBuf::from("codex"), Path::to_path_buf);
    match trust_with(&program, hooks_json, is_amc_command) {
        Ok(0) => println!("Codex already trusts amc's hooks"),
        Ok(n) => println!(
            "Codex now trusts amc's {n} hooks (recorded by `{} app-server`)",
            program.display()
        ),
        Err(why) => {
            eprintln!(
                "amc could not record Codex's trust in its hooks ({why}).\n\
                 Codex runs them only once trusted: start `codex`, open `/hooks`, and trust the entries running \
                 `amc hook --agent codex`."
            );
        }
    }
}

/// Returns how many hooks were newly trusted.
fn trust_with(program: &Path, hooks_json: &Path, is_amc_command: fn(&str) -> bool) -> Result<usize, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let mut server = AppServer::start(program)?;
    server.request(
        "initialize",
        json!({"clientInfo": {"name": "amc", "version": env!("CARGO_PKG_VERSION")}}),
    )?;
    server.notify("initialized")?;
    let list = server.request("hooks/list", json!({"cwds": [cwd]}))?;
    let ours = amc_hooks(&list, hooks_json, is_amc_command);
    if ours.is_empty() {
        return Err(format!("`hooks/list` shows no amc hook from {}", hooks_json.display()));
    }
    let Some(edits) = trust_edits(&ours) else {
        return Ok(0);
    };
    server.request("config/batchWrite", edits)?;
    let again = amc_hooks(
        &server.request("hooks/list", json!({"cwds": [cwd]}))?,
        hooks_json,
        is_amc_command,
    );
    let untrusted: Vec<&str> = again
        .iter()
        .filter(|h| h.trust_status != "trusted")
        .map(|h| h.key.as_str())
        .collect();
    if !untrusted.is_empty() {
        return Err(format!("still not trusted after the write: {}", untrusted.join(", ")));
    }
    Ok(ours.iter().filter(|h| h.trust_status != "trusted").count())
}

/// A running `codex app-server` (stdio, newline-delimited JSON, `{id, method, params}` requests).
struct AppServer {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    next_id: u64,
}

impl AppServer {
    fn start(program: &Path) -> Result<Self, String> {
        let mut child = Command::new(program)
            .arg("app-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `{} app-server`: {e}", program.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin for codex app-server")?;
        let stdout = child.stdout.take().ok_or("no stdout for codex app-server")?;
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(AppServer {
            child,
            stdin,
            lines,
            next_id: 1,
        })
    }

    fn send(&mut self, message: &Value) -> Result<(), String> {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("codex app-server closed its input: {e}"))
    }

    fn notify(&mut self, method: &str) -> Result<(), String> {
        self.send(&json!({"method": method}))
    }

    /// Sends a request and returns its `result` (an `error` answer is an error).
    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .map_err(|_| format!("no answer to `{method}` within {} s", REQUEST_TIMEOUT.as_secs()))?;
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(format!("`{method}` failed: {error}"));
            }
            return Ok(message.get("result").cloned().unwrap_or(Value::Null));
        }
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command test of `hook::install` (a test here cannot import it: install calls this module).
    fn ours(command: &str) -> bool {
        command.ends_with("/amc hook --agent codex")
    }

    /// The shape of a `hooks/list` answer of Codex 0.169.0 (recorded from the pinned binary; commands shortened).
    fn listed() -> Value {
        json!({"data": [{"cwd": "/p", "errors": [], "warnings": [], "hooks": [
            {"key": "/h/.codex/hooks.json:stop:0:0", "eventName": "stop", "handlerType": "command",
             "command": "/opt/amc hook --agent codex", "sourcePath": "/h/.codex/hooks.json", "source": "user",
             "currentHash": "sha256:aa", "trustStatus": "untrusted", "enabled": true, "isManaged": false},
            {"key": "/h/.codex/hooks.json:stop:1:0", "eventName": "stop", "handlerType": "command",
             "command": "notify-send done", "sourcePath": "/h/.codex/hooks.json", "source": "user",
             "currentHash": "sha256:bb", "trustStatus": "untrusted", "enabled": true, "isManaged": false},
            {"key": "/h/.codex/hooks.json:session_start:0:0", "eventName": "sessionStart", "handlerType": "command",
             "command": "/opt/amc hook --agent codex", "sourcePath": "/h/.codex/hooks.json", "source": "user",
             "currentHash": "sha256:cc", "trustStatus": "trusted", "enabled": true, "isManaged": false},
            {"key": "/p/.codex/hooks.json:stop:0:0", "eventName": "stop", "handlerType": "command",
             "command": "/opt/amc hook --agent codex", "sourcePath": "/p/.codex/hooks.json", "source": "project",
             "currentHash": "sha256:dd", "trustStatus": "untrusted", "enabled": true, "isManaged": false}
        ]}]})
    }

    #[test]
    fn only_amc_hooks_of_the_written_file_are_trusted() {
        let ours = amc_hooks(&listed(), Path::new("/h/.codex/hooks.json"), ours);
        let keys: Vec<&str> = ours.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "/h/.codex/hooks.json:stop:0:0",
                "/h/.codex/hooks.json:session_start:0:0"
            ]
        );
        assert_eq!(
            trust_edits(&ours),
            Some(json!({"edits": [{"keyPath": "hooks.state", "mergeStrategy": "upsert",
                "value": {"/h/.codex/hooks.json:stop:0:0": {"trusted_hash": "sha256:aa"}}}]}))
        );
    }

    #[test]
    fn nothing_to_write_when_all_are_trusted_or_the_answer_is_odd() {
        let mut all = listed();
        for hook in all["data"][0]["hooks"].as_array_mut().into_iter().flatten() {
            hook["trustStatus"] = json!("trusted");
        }
        assert_eq!(
            trust_edits(&amc_hooks(&all, Path::new("/h/.codex/hooks.json"), ours)),
            None
        );
        for odd in [
            json!(null),
            json!({"data": 3}),
            json!({"data": [{"hooks": [1, "x", {}]}]}),
        ] {
            assert!(
                amc_hooks(&odd, Path::new("/h/.codex/hooks.json"), ours).is_empty(),
                "{odd}"
            );
        }
    }

    #[test]
    fn a_missing_codex_is_a_clear_error() {
        let err = trust_with(Path::new("/nonexistent/codex"), Path::new("/h/hooks.json"), ours).expect_err("no codex");
        assert!(err.contains("cannot run"), "{err}");
    }
}
