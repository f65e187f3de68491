//! `/proc/<pid>/{comm,cmdline,stat,environ}` and `fd/` (any bytes): split into the files of a fake /proc, scanned as
//! the collector scans the real one; `stat` also through `parse_stat` alone.
#![no_main]

use std::sync::OnceLock;

use amc::sources::{agent_procs, process};
use libfuzzer_sys::fuzz_target;

fn root() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("4242/fd")).expect("mkdir");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    // Parts separated by 0xff: comm, cmdline, stat, environ, fd link targets (0xfe-separated), /proc/stat.
    let mut parts = data.split(|b| *b == 0xff);
    let mut next = || parts.next().unwrap_or_default();
    let (comm, cmdline, stat, environ, fds, proc_stat) = (next(), next(), next(), next(), next(), next());
    let _ = agent_procs::parse_stat(&String::from_utf8_lossy(stat));
    let root = root().path();
    let pid = root.join("4242");
    // "claude" in comm keeps the process in the scan whatever the fuzzer wrote.
    let mut comm = comm.to_vec();
    comm.extend_from_slice(b"claude\n");
    std::fs::write(pid.join("comm"), &comm).expect("write");
    std::fs::write(pid.join("cmdline"), cmdline).expect("write");
    std::fs::write(pid.join("stat"), stat).expect("write");
    std::fs::write(pid.join("environ"), environ).expect("write");
    std::fs::write(root.join("stat"), proc_stat).expect("write");
    let fd_dir = pid.join("fd");
    for entry in std::fs::read_dir(&fd_dir).expect("list").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    for (i, target) in fds.split(|b| *b == 0xfe).take(8).enumerate() {
        use std::os::unix::ffi::OsStrExt as _;
        if target.is_empty() || target.contains(&0) {
            continue;
        }
        let _ = std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), fd_dir.join(i.to_string()));
    }
    let scan = agent_procs::scan(root, &[]);
    if let Some(procs) = &scan.procs {
        for p in procs.values() {
            let _ = agent_procs::classify(p);
            let _ = p.is_running();
        }
    }
    let _ = scan.codex();
    let _ = process::scan_open_files(root);
    let _ = process::parse_lsof(&String::from_utf8_lossy(data));
});
