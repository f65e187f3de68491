"""Process bookkeeping: every process the harness starts carries ``AMC_E2E_RUN=<run id>`` in its environment, and
so do all their descendants (Zellij servers, panes, agents, Codex's app-server daemon that outlives its TUI). Cleanup
finds them by that mark in ``/proc/<pid>/environ`` and ends each one **by pid** (SIGTERM, then SIGKILL) — never by
name, so nothing outside this run is touched.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

MARK = "AMC_E2E_RUN"


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    out = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat, None when the pid is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def running(pid: int) -> bool:
    return state(pid) not in (None, "Z", "X", "x")


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def open_files(pid: int) -> list[str]:
    out = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return out


def all_pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def marked(run_id: str) -> list[int]:
    """Pids whose own environment carries this run's mark, or a mark below it (``<run>.<test>``); the harness
    itself excluded."""
    me = os.getpid()
    out = []
    for p in all_pids():
        if p == me:
            continue
        mark = environ(p).get(MARK)
        if mark is not None and (mark == run_id or mark.startswith(run_id + ".")):
            out.append(p)
    return out


def kill_pids(pids: list[int], grace: float = 3.0) -> list[int]:
    """SIGTERM each pid, wait up to ``grace`` s, SIGKILL what still runs; returns the pids that needed SIGKILL."""
    pids = [p for p in pids if running(p)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + grace
    while time.time() < deadline and any(running(p) for p in pids):
        time.sleep(0.05)
    killed = []
    for p in pids:
        if running(p):
            try:
                os.kill(p, signal.SIGKILL)
                killed.append(p)
            except ProcessLookupError:
                pass
    return killed


def kill_marked(run_id: str, grace: float = 3.0) -> list[int]:
    """Ends every process of this run (repeatedly, since dying parents can leave children behind)."""
    ended = []
    for _ in range(5):
        pids = [p for p in marked(run_id) if running(p)]
        if not pids:
            break
        ended += pids
        kill_pids(pids, grace)
    return ended
