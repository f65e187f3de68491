//! Faults a long-running daemon meets, each injected for real where this machine allows it: the inotify watch limit
//! (a user namespace with `user.max_inotify_watches=1`), too many open files (`prlimit --nofile`), a read-only data
//! dir during the trash move and the `turn_start_tokens` write-back (a read-only bind mount in a mount namespace), a
//! full disk (`ENOSPC`: a small tmpfs filled up, its blocks or its inodes, in a mount namespace) during the hook's
//! session write, the trash move and the write-back, a
//! process that exits between the /proc listing and the read of its fds, the clock jumping back.
//!
//! Covered elsewhere: the inotify queue overflow (`publisher::watches` tests: `IN_Q_OVERFLOW` → a full rescan; the
//! queue limit is machine-wide and cannot be lowered for one test), Zellij hanging (`tests/collector.rs`
//! `a_hanging_zellij_costs_at_most_its_timeout`), failing or printing garbage (`sources::zellij` tests: unknown, never
//! dead), a transcript shrunk, replaced or rewritten while read (`transcript` tests
//! `shrunk_replaced_and_rewritten_files_are_read_again`).
//!
//! The namespace tests skip with a message where `unshare` is refused (an unprivileged container).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    io::{Read as _, Write as _},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Value};
use support::{amc, Served, TestEnv};

const AMC: &str = env!("CARGO_BIN_EXE_amc");

/// Runs `prefix... amc serve` and waits for its address; `None` when the wrapper refused to start it.
fn serve(env: &TestEnv, prefix: &[&str]) -> Option<Served> {
    let addr_file = env.home().join("addr");
    let mut command = amc(env);
    let program = command.get_program().to_owned();
    let mut wrapped = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    wrapped
        .env_clear()
        .envs(
            command
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        )
        .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
        .arg(&addr_file)
        .env("AMC_LIVENESS_MS", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command = wrapped;
    let child = command.spawn().expect("spawn amc serve");
    let mut served = Served {
        child,
        addr: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(addr) = fs::read_to_string(&addr_file) {
            if !addr.is_empty() {
                served.addr = addr;
                return Some(served);
            }
        }
        if let Ok(Some(status)) = served.child.try_wait() {
            let mut stderr = String::new();
            let _ = served.child.stderr.take().map(|mut e| e.read_to_string(&mut stderr));
            eprintln!("the server did not start ({status}): {stderr}");
            return None;
        }
        assert!(Instant::now() < deadline, "amc serve did not write its address");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET path` over a fresh connection: (status, body); `None` when the connection or the exchange failed.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// Waits up to `limit` for `/api/state` to list session `id`.
fn lists(addr: &str, id: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some((200, body)) = get(addr, "/api/state") {
            // The body may be chunked; the id is in it either way.
            if body.contains(&format!("\"session_id\":\"{id}\"")) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn session_json(id: &str, status: &str) -> String {
    json!({"session_id": id, "agent": "claude", "status": status, "project_dir": "/p"}).to_string()
}

#[test]
fn the_watch_limit_reached_falls_back_to_polling_and_changes_are_still_seen() {
    let env = TestEnv::new();
    env.write_session("before.json", &session_json("before", "active"));
    // A user namespace of its own whose inotify watch limit is 1: the machine's limit is untouched.
    let script = r#"echo 1 > /proc/sys/user/max_inotify_watches && exec "$@""#;
    let Some(served) = serve(&env, &["unshare", "-U", "-r", "sh", "-c", script, "sh"]) else {
        eprintln!("skipping: cannot create a user namespace here (unshare -U -r refused)");
        return;
    };
    let (code, health) = get(&served.addr, "/api/health").expect("health answers");
    assert_eq!(code, 200, "{health}");
    assert!(health.contains("\"watch_mode\":\"polling\""), "{health}");
    assert!(lists(&served.addr, "before", Duration::from_secs(5)));
    // No watch sees this file; the liveness timer's pass does.
    env.write_session("after.json", &session_json("after", "active"));
    assert!(
        lists(&served.addr, "after", Duration::from_secs(10)),
        "a new session is seen while polling"
    );
}

#[test]
fn too_many_open_files_degrade_the_server_it_recovers_and_never_crashes() {
    let env = TestEnv::new();
    for i in 0..20 {
        env.write_session(&format!("s{i}.json"), &session_json(&format!("s{i}"), "active"));
    }
    let Some(mut served) = serve(&env, &["prlimit", "--nofile=64:64", "--"]) else {
        panic!("amc serve did not start under prlimit --nofile=64");
    };
    assert!(lists(&served.addr, "s19", Duration::from_secs(10)));
    // Far more connections than descriptors: the kernel queues them, the server cannot accept them all.
    let held: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(&served.addr).ok()).collect();
    assert!(held.len() > 64, "only {} connections", held.len());
    // Meanwhile a session arrives and passes need descriptors too.
    env.write_session("during.json", &session_json("during", "active"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        served.child.try_wait().expect("try_wait").is_none(),
        "the server is still running"
    );
    drop(held);
    // Recovered: health answers and the state has the session that arrived meanwhile.
    let deadline = Instant::now() + Duration::from_secs(15);
    while get(&served.addr, "/api/health").is_none_or(|(code, _)| code != 200) {
        assert!(
            Instant::now() < deadline,
            "health answers again after the connections closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(lists(&served.addr, "during", Duration::from_secs(10)));
    assert!(served.child.try_wait().expect("try_wait").is_none(), "never crashed");
}

/// Runs `sh -c script sh <script_args...> amc <args...>` in a mount namespace of its own (`unshare -m`), with amc's
/// test environment and `stdin` on its standard input. The script sets up its mounts (exiting 97 when it cannot)
/// and runs amc. `None`, with a message, when mount namespaces or mounts are refused here.
fn in_mount_namespace(
    env: &TestEnv,
    script: &str,
    script_args: &[&Path],
    args: &[&str],
    stdin: &[u8],
) -> Option<std::process::Output> {
    let command = amc(env);
    let mut child = Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh"])
        .args(script_args)
        .arg(AMC)
        .args(args)
        .env_clear()
        .envs(
            command
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().expect("stdin").write_all(stdin).expect("payload");
    let out = child.wait_with_output().expect("wait");
    if out.status.code() == Some(97) || (!out.status.success() && out.stdout.is_empty() && args[0] != "hook") {
        eprintln!("skipping: cannot mount here: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(out)
}

/// Runs `amc args` with `dir` mounted read-only (a bind mount in a mount namespace of its own), `stdin` on its
/// standard input; `None` when mount namespaces are refused here.
fn with_read_only(env: &TestEnv, dir: &Path, args: &[&str], stdin: &[u8]) -> Option<std::process::Output> {
    let script = r#"d="$1"; shift; mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 97; exec "$@""#;
    in_mount_namespace(env, script, &[dir], args, stdin)
}

/// Runs `amc hook` with `payload`, as Claude Code would; it must succeed.
fn run_hook(env: &TestEnv, payload: &str) {
    let mut hook = amc(env).arg("hook").stdin(Stdio::piped()).spawn().expect("hook");
    hook.stdin
        .take()
        .expect("stdin")
        .write_all(payload.as_bytes())
        .expect("payload");
    assert!(hook.wait().expect("wait").success());
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_read_only_data_dir_during_the_trash_move_loses_nothing_and_says_why() {
    let env = TestEnv::new();
    let file = env.write_session("ro.json", &session_json("ro", "active"));
    let before = fs::read(&file).expect("read");
    let payload = json!({"session_id": "ro", "hook_event_name": "SessionEnd", "cwd": "/p"}).to_string();
    let Some(out) = with_read_only(&env, &env.paths.data_dir, &["hook"], payload.as_bytes()) else {
        return;
    };
    assert!(out.status.success(), "the hook fails open");
    assert_eq!(
        fs::read(&file).expect("the session file is still there"),
        before,
        "nothing partial"
    );
    assert_eq!(dir_names(&env.paths.sessions_dir()), ["ro.json"], "no temp file left");
    assert!(dir_names(&env.paths.trash_dir()).is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("amc hook:") && stderr.contains("Read-only file system"),
        "logged (to stderr, hook.log being read-only too): {stderr}"
    );
    // Only the trash read-only: the session file is written (whole, atomically), the move fails, nothing is lost.
    fs::create_dir_all(env.paths.trash_dir()).expect("mkdir");
    let out = with_read_only(&env, &env.paths.trash_dir(), &["hook"], payload.as_bytes()).expect("mounted before");
    assert!(out.status.success(), "the hook fails open");
    let kept: Value = serde_json::from_slice(&fs::read(&file).expect("still there")).expect("whole JSON");
    assert_eq!(kept["session_id"], "ro");
    assert_eq!(dir_names(&env.paths.sessions_dir()), ["ro.json"], "no temp file left");
    assert!(dir_names(&env.paths.trash_dir()).is_empty());
    let log = fs::read_to_string(env.paths.data_dir.join("hook.log")).expect("hook.log");
    // (The bind mount makes the rename cross devices, EXDEV, or meet the read-only trash, EROFS: a failed move.)
    assert!(log.contains("trashing") && log.contains("os error"), "logged: {log}");
    // Writable again: the same event moves it to the trash whole.
    run_hook(&env, &payload);
    assert!(!file.exists());
    let trashed = amc::store::trash_entries(&env.paths).expect("trash");
    assert_eq!(trashed.len(), 1);
    let moved: Value = serde_json::from_slice(&fs::read(&trashed[0].path).expect("read")).expect("json");
    assert_eq!(moved["session_id"], "ro");
}

/// A Claude session `id` in the middle of a turn, with a transcript (so a pass writes `turn_start_tokens` back).
fn claude_session_with_transcript(env: &TestEnv, id: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector/claude-transcript.jsonl");
    let transcript = env.home().join(format!("claude/projects/-p/{id}.jsonl"));
    fs::create_dir_all(transcript.parent().expect("dir")).expect("mkdir");
    fs::write(
        &transcript,
        fs::read_to_string(&fixture).expect("fixture").replace("SID", id),
    )
    .expect("write");
    let session = json!({"session_id": id, "agent": "claude", "status": "active", "project_dir": "/p",
                         "transcript_path": transcript, "last_event": "UserPromptSubmit"});
    env.write_session(&format!("{id}.json"), &session.to_string())
}

#[test]
fn a_read_only_sessions_dir_during_the_turn_start_write_back_keeps_the_file_whole() {
    let env = TestEnv::new();
    let file = claude_session_with_transcript(&env, "t1");
    let before = fs::read(&file).expect("read");
    let Some(out) = with_read_only(&env, &env.paths.sessions_dir(), &["snapshot"], b"") else {
        return;
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let state: Value = serde_json::from_slice(&out.stdout).expect("the state is printed");
    assert_eq!(state["sessions"][0]["session_id"], "t1");
    assert_eq!(
        fs::read(&file).expect("read"),
        before,
        "the file is untouched, not half-written"
    );
    assert_eq!(dir_names(&env.paths.sessions_dir()), ["t1.json"], "no temp file left");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot record turn_start_tokens"), "logged: {stderr}");
    // Writable again: the write-back happens.
    let out = amc(&env).arg("snapshot").output().expect("snapshot");
    assert!(out.status.success());
    let written: Value = serde_json::from_slice(&fs::read(&file).expect("read")).expect("json");
    assert!(written["turn_start_tokens"].is_u64(), "{written}");
}

/// What a full disk left behind: `amc`'s output and a copy of the full directory as `amc` left it.
struct FullDisk {
    out: std::process::Output,
    after: tempfile::TempDir,
}

impl FullDisk {
    /// The state `amc snapshot` printed; it must have succeeded.
    fn printed_state(&self) -> Value {
        let stderr = String::from_utf8_lossy(&self.out.stderr);
        assert!(self.out.status.success(), "{stderr}");
        serde_json::from_slice(&self.out.stdout).expect("the state is printed")
    }
}

/// Runs `amc args` (`stdin` on its standard input) with `dir` on a small tmpfs of its own (in a mount namespace)
/// holding a copy of `dir`'s files, then filled up: every block (`blocks`) or every inode (`inodes`) taken, so any
/// new byte or new file fails with `ENOSPC`. `None` when mounts are refused here.
fn with_full_disk(env: &TestEnv, dir: &Path, fill: &str, args: &[&str], stdin: &[u8]) -> Option<FullDisk> {
    let after = tempfile::tempdir().expect("tempdir");
    // The fill files are removed before the copy-out, so `after` holds exactly what amc left.
    let script = r#"d="$1"; out="$2"; fill="$3"; shift 3
        keep=$(mktemp -d) && cp -a "$d"/. "$keep"/ || exit 97
        mount -t tmpfs -o size=1m,nr_inodes=64 tmpfs "$d" && cp -a "$keep"/. "$d"/ || exit 97
        mkdir "$d/.fill" || exit 97
        if [ "$fill" = blocks ]; then
            dd if=/dev/zero of="$d/.fill/zeros" bs=4k 2>/dev/null
            [ "$(df -k --output=avail "$d" | tail -1 | tr -d ' ')" -eq 0 ] || exit 97
        else
            i=0; while touch "$d/.fill/$i" 2>/dev/null; do i=$((i+1)); done
        fi
        "$@"; code=$?
        rm -rf "$d/.fill"
        cp -a "$d"/. "$out"/
        exit $code"#;
    let fill = Path::new(fill);
    let out = in_mount_namespace(env, script, &[dir, after.path(), fill], args, stdin)?;
    Some(FullDisk { out, after })
}

#[test]
fn a_full_disk_during_the_hooks_session_write_keeps_the_old_file_whole_and_says_why() {
    let env = TestEnv::new();
    let file = env.write_session("full.json", &session_json("full", "done"));
    let before = fs::read(&file).expect("read");
    let payload =
        json!({"session_id": "full", "hook_event_name": "UserPromptSubmit", "cwd": "/p", "prompt": "go"}).to_string();
    let Some(full) = with_full_disk(&env, &env.paths.data_dir, "blocks", &["hook"], payload.as_bytes()) else {
        return;
    };
    assert!(full.out.status.success(), "the hook fails open");
    let sessions = full.after.path().join("sessions");
    assert_eq!(
        fs::read(sessions.join("full.json")).expect("the session file is still there"),
        before,
        "the old file, whole: the new one could not be written"
    );
    assert_eq!(dir_names(&sessions), ["full.json"], "no temp file left");
    let stderr = String::from_utf8_lossy(&full.out.stderr);
    assert!(
        stderr.contains("amc hook:") && stderr.contains("No space left on device"),
        "logged (to stderr: hook.log cannot grow either): {stderr}"
    );
    // The same event with room again: written.
    run_hook(&env, &payload);
    let written: Value = serde_json::from_slice(&fs::read(&file).expect("read")).expect("json");
    assert_eq!(written["status"], "active", "{written}");
}

#[test]
fn no_inode_left_for_the_trash_move_loses_nothing_and_says_why() {
    let env = TestEnv::new();
    // An event log whose session is gone, a day and a minute old: the cleanup moves it to trash/, which must be made.
    let events = env.paths.events_dir();
    fs::create_dir_all(&events).expect("mkdir");
    let orphan = events.join("orphan.jsonl");
    fs::write(&orphan, "{\"hook_event_name\":\"Stop\"}\n").expect("event log");
    let old = SystemTime::now() - Duration::from_secs(24 * 60 * 60 + 60);
    fs::File::options()
        .write(true)
        .open(&orphan)
        .and_then(|f| f.set_modified(old))
        .expect("age");
    let before = fs::read(&orphan).expect("read");
    assert!(!env.paths.trash_dir().exists(), "the move must create trash/");
    let Some(full) = with_full_disk(&env, &env.paths.data_dir, "inodes", &["snapshot"], b"") else {
        return;
    };
    let state = full.printed_state();
    assert!(state["sessions"].as_array().is_some_and(Vec::is_empty), "{state}");
    assert_eq!(
        fs::read(full.after.path().join("events/orphan.jsonl")).expect("kept where it was"),
        before,
        "nothing lost"
    );
    assert!(!full.after.path().join("trash").exists(), "no trash dir could be made");
    let stderr = String::from_utf8_lossy(&full.out.stderr);
    assert!(
        stderr.contains("orphan.jsonl") && stderr.contains("No space left on device"),
        "logged: {stderr}"
    );
    // With room again, the same rule moves it.
    let out = amc(&env).arg("snapshot").output().expect("snapshot");
    assert!(out.status.success());
    assert!(!orphan.exists());
    let trashed = amc::store::trash_entries(&env.paths).expect("trash");
    assert_eq!(trashed.len(), 1);
    assert_eq!(fs::read(&trashed[0].path).expect("read"), before, "moved whole");
}

#[test]
fn a_full_disk_during_the_turn_start_write_back_keeps_the_file_whole() {
    let env = TestEnv::new();
    let file = claude_session_with_transcript(&env, "t2");
    let before = fs::read(&file).expect("read");
    let Some(full) = with_full_disk(&env, &env.paths.sessions_dir(), "blocks", &["snapshot"], b"") else {
        return;
    };
    let state = full.printed_state();
    assert_eq!(state["sessions"][0]["session_id"], "t2");
    assert!(state["sessions"][0]["context_usage"].is_object(), "still read: {state}");
    assert_eq!(
        fs::read(full.after.path().join("t2.json")).expect("read"),
        before,
        "the file is untouched, not half-written"
    );
    assert_eq!(dir_names(full.after.path()), ["t2.json"], "no temp file left");
    let stderr = String::from_utf8_lossy(&full.out.stderr);
    assert!(
        stderr.contains("cannot record turn_start_tokens") && stderr.contains("No space left on device"),
        "logged: {stderr}"
    );
}

#[test]
fn a_process_that_exits_between_the_listing_and_its_fd_read_is_skipped() {
    // A fake /proc in which a process's files are gone half-way, as when it exits while being read.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let held = root.join("held.jsonl");
    fs::write(&held, "{}\n").expect("write");
    let proc_dir = |pid: u32, files: &[(&str, &str)]| -> PathBuf {
        let p = root.join(pid.to_string());
        fs::create_dir_all(&p).expect("mkdir");
        for (name, text) in files {
            fs::write(p.join(name), text).expect("write");
        }
        p
    };
    let stat = |pid: u32| format!("{pid} (codex) S 1 {pid} {pid} 34816 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0");
    // Whole: it holds the rollout.
    let whole = proc_dir(
        100,
        &[("comm", "codex\n"), ("cmdline", "codex\0"), ("stat", &stat(100))],
    );
    fs::create_dir_all(whole.join("fd")).expect("mkdir");
    std::os::unix::fs::symlink(&held, whole.join("fd/3")).expect("symlink");
    // Exited after its comm was read: no stat, no fd dir.
    proc_dir(200, &[("comm", "codex\n"), ("cmdline", "codex\0")]);
    // Exited after its stat was read: no environ, no fd dir.
    proc_dir(
        300,
        &[("comm", "codex\n"), ("cmdline", "codex\0"), ("stat", &stat(300))],
    );
    // Exited right after the listing: an empty dir.
    proc_dir(400, &[]);
    // Its fd dir holds a link whose target vanished.
    let dangling = proc_dir(
        500,
        &[("comm", "codex\n"), ("cmdline", "codex\0"), ("stat", &stat(500))],
    );
    fs::create_dir_all(dangling.join("fd")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("gone.jsonl"), dangling.join("fd/3")).expect("symlink");

    let scan = amc::sources::agent_procs::scan(root, &[]);
    let procs = scan.procs.expect("the listing worked");
    assert!(procs.contains_key(&100) && !procs.contains_key(&200) && !procs.contains_key(&400));
    assert_eq!(procs[&100].open_jsonl, std::slice::from_ref(&held));
    assert!(
        procs[&300].open_jsonl.is_empty() && !procs[&300].environ_read,
        "known to be unknown"
    );
    let open = amc::sources::process::scan_open_files(root).expect("listed");
    assert!(open.contains(&held), "{open:?}");
}

#[test]
fn the_clock_jumping_back_removes_nothing_and_the_next_pass_is_normal() {
    let env = TestEnv::new();
    // Old enough to be removed by the stale-starting rule (> 60 min) at the real time.
    let stale = env.write_session("stale.json", &session_json("stale", "starting"));
    let old = SystemTime::now() - Duration::from_secs(3 * 3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .expect("open")
        .set_modified(old)
        .expect("mtime");
    env.write_session("live.json", &session_json("live", "active"));
    let mut collector = amc::collect::Collector::new(&env.config());
    // The clock set back by a year: every file is "from the future".
    let back = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let pass = collector.pass(back);
    let ids: Vec<&str> = pass.sessions.iter().filter_map(|s| s["session_id"].as_str()).collect();
    assert_eq!(ids, ["live", "stale"]);
    assert!(
        pass.removed.is_empty(),
        "nothing is old when the clock is behind the files"
    );
    assert!(stale.exists());
    // The clock back to normal: the stale rule applies again, to the trash, not lost.
    let pass = collector.pass(SystemTime::now());
    assert_eq!(pass.removed.len(), 1, "{:?}", pass.removed);
    assert!(!stale.exists());
    assert_eq!(amc::store::trash_entries(&env.paths).expect("trash").len(), 1);
}
