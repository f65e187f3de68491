"""Codex CLI 0.169.0 in real Zellij panes, against the Responses API mock, with `amc serve`: Codex has no hook, so
amc must discover each session from its rollout and the processes alone (formats.md §8.2), in both `--no-daemon`
mode (the TUI holds its rollout) and the default daemon mode (a shared `codex app-server` holds every rollout and
keeps it open for about a minute after `/quit`)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from harness import mock_openai as mo
from harness import procs
from harness.amc import session

# "dead within a few seconds after /quit": amc's liveness timer is 2 s.
QUIT_TO_DEAD = 5.0
RECONCILE = 35.0


def rollout_facts(path: Path) -> dict:
    """The session id, cwd, newest token_count and window of a rollout (read by the harness, not by amc)."""
    out: dict = {"id": None, "cwd": None, "total": None, "window": None, "events": []}
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        p = r.get("payload") or {}
        if r.get("type") == "session_meta" and out["id"] is None:
            out["id"], out["cwd"] = p.get("id"), p.get("cwd")
        if r.get("type") == "event_msg":
            out["events"].append(p.get("type"))
            if p.get("type") == "token_count" and p.get("info"):
                out["total"] = p["info"]["last_token_usage"]["total_tokens"]
                out["window"] = p["info"].get("model_context_window") or out["window"]
            if p.get("type") == "task_started" and p.get("model_context_window"):
                out["window"] = out["window"] or p["model_context_window"]
    return out


def same_path(a: str | None, b: Path) -> bool:
    return a is not None and os.path.realpath(a) == os.path.realpath(b)


def submit(rig, z, pane: str, text: str, arrived, tries: int = 4) -> None:
    """Types ``text`` into the Codex composer and presses Enter until ``arrived()`` (the mock got the request).
    Right after start-up (the daemon still connecting) or under load, Codex may drop an Enter, or take a fast burst
    of characters plus Enter for a paste; so: type, wait until the text shows, then Enter, and retry Enter."""
    z.type(pane, text, enter=False)
    z.wait_screen(pane, text, timeout=15)
    for _ in range(tries):
        time.sleep(0.5)
        z.key(pane, 13)
        deadline = time.time() + 5
        while time.time() < deadline:
            if arrived():
                return
            time.sleep(0.1)
    raise AssertionError(f"Codex did not send {text!r} to the mock; screen:\n{z.screen(pane)}")


def codex_prompt(rig, z, pane: str, marker: str, text: str, known: list[Path]) -> tuple[Path, dict, float]:
    """Types a prompt; returns the new rollout, the mock's usage for it, and the time the mock answered."""
    rule = rig.openai.script(marker, mo.user_says(marker), {"text": text})
    submit(rig, z, pane, f"Please answer {marker}", lambda: any(e.rule == marker for e in list(rig.openai.log)))
    served = rig.openai.wait_for(lambda e: e.rule == marker, timeout=60)
    rollout = rig.wait_rollout(known)
    return rollout, rule.reply["usage"], served.t_sent


def wait_discovered(rig, rollout: Path, usage_total: int, timeout: float = 30):
    return rig.amc.wait(
        lambda st: next((s for s in st.get("sessions", []) if s.get("agent") == "codex"
                         and same_path(s.get("transcript_path"), rollout)
                         and (s.get("context_usage") or {}).get("current_tokens") == usage_total), None),
        timeout=timeout, what=f"the codex session of {rollout.name} with usage {usage_total}")


def daemons(rig) -> list[int]:
    return [p for p in procs.marked(rig.world.run_id) if procs.running(p) and "app-server" in procs.cmdline(p)]


def holders(rig, rollout: Path) -> list[int]:
    real = os.path.realpath(rollout)
    return [p for p in procs.marked(rig.world.run_id) if procs.running(p)
            and any(os.path.realpath(f) == real for f in procs.open_files(p) if f.endswith(".jsonl"))]


def codex_native_pid(rig, pane_env: str) -> int:
    """The native `codex` TUI process (the npm launcher's child) whose own environment says pane ``pane_env``."""
    for p in procs.marked(rig.world.run_id):
        if procs.running(p) and procs.comm(p) == "codex" and "app-server" not in procs.cmdline(p) \
                and procs.environ(p).get("ZELLIJ_PANE_ID") == pane_env:
            return p
    raise AssertionError(f"no codex TUI process in pane {pane_env}")


def test_codex_no_daemon_discovered_without_hook(rig, timing):
    z = rig.zellij("x-nd")
    pane = rig.start_codex(z, ["--no-daemon"])
    rollout, usage, t_mock = codex_prompt(rig, z, pane, "NDPROMPT", "Here is the answer.", [])
    facts = rollout_facts(rollout)
    t_seen, s = wait_discovered(rig, rollout, usage["total_tokens"])
    timing("mock response → watcher sees the codex session with its usage", t_seen - t_mock)
    assert s["session_id"] == facts["id"]
    assert s["cwd"] == str(rig.project), s
    assert s["zellij_session"] == "x-nd" and str(s["zellij_pane"]) == pane, s
    assert s["is_dead"] is False, s
    assert facts["window"], f"no window in the rollout: {facts}"
    assert s["context_usage"]["window_tokens"] == facts["window"], (s["context_usage"], facts)
    assert not (rig.world.data_dir / "events" / f"{s['session_id']}.jsonl").exists(), "no hook is involved for codex"
    holder = holders(rig, rollout)
    assert holder and not daemons(rig), f"--no-daemon: the TUI itself holds the rollout ({holder})"

    t_quit = time.time()
    z.type(pane, "/quit")
    t_dead, s = rig.amc.wait(lambda st: (x := session(st, facts["id"])) and x.get("is_dead") is True and x,
                             timeout=QUIT_TO_DEAD + 10, what="the codex session dead after /quit", since=t_quit)
    timing("/quit → watcher sees is_dead (--no-daemon)", t_dead - t_quit, QUIT_TO_DEAD)


def test_codex_daemon_two_tuis_own_panes_and_quit_is_dead(rig, timing):
    z = rig.zellij("x-dm")
    pane_a = rig.start_codex(z, cwd=rig.project)
    rollout_a, usage_a, _ = codex_prompt(rig, z, pane_a, "APROMPT", "Answer for A.", [])
    pane_b = rig.start_codex(z, cwd=rig.project_b)
    rollout_b, usage_b, _ = codex_prompt(rig, z, pane_b, "BPROMPT", "Answer for B.", [rollout_a])
    facts_a, facts_b = rollout_facts(rollout_a), rollout_facts(rollout_b)

    ds = daemons(rig)
    assert ds, "default mode: Codex should have started its app-server daemon"
    assert set(holders(rig, rollout_a)) <= set(ds) and set(holders(rig, rollout_b)) <= set(ds), \
        "the daemon, not the TUIs, holds the rollouts"
    daemon_env = {d: (procs.environ(d).get("ZELLIJ_PANE_ID")) for d in ds}

    _, sa = wait_discovered(rig, rollout_a, usage_a["total_tokens"])
    _, sb = wait_discovered(rig, rollout_b, usage_b["total_tokens"])
    for s, pane, proj, facts, name in [(sa, pane_a, rig.project, facts_a, "A"), (sb, pane_b, rig.project_b, facts_b, "B")]:
        assert s["session_id"] == facts["id"]
        assert s["cwd"] == str(proj), (name, s)
        assert (s.get("zellij_session"), str(s.get("zellij_pane"))) == ("x-dm", pane), (
            f"session {name} shows pane {s.get('zellij_session')}:{s.get('zellij_pane')}, its TUI runs in x-dm:{pane} "
            f"(the daemon's own environment says pane {daemon_env})")
        assert s["is_dead"] is False, (name, s)
        assert s["context_usage"]["window_tokens"] == facts["window"], (name, s["context_usage"], facts)

    t_quit = time.time()
    z.type(pane_a, "/quit")
    t_dead, s = rig.amc.wait(lambda st: (x := session(st, facts_a["id"])) and x.get("is_dead") is True and x,
                             timeout=QUIT_TO_DEAD + 10, what="session A dead after /quit", since=t_quit)
    still_held = bool(set(holders(rig, rollout_a)) & set(daemons(rig)))
    timing(f"/quit → watcher sees is_dead (daemon mode; daemon still holds the rollout: {still_held})", t_dead - t_quit, QUIT_TO_DEAD)
    b_now = session(rig.amc.latest(), facts_b["id"])
    assert b_now and b_now["is_dead"] is False, f"B must stay alive: {b_now}"


def test_codex_esc_interrupt_ends_done(rig, timing):
    z = rig.zellij("x-esc")
    pane = rig.start_codex(z, ["--no-daemon"])
    gate = threading.Event()
    rig.openai.script("stall", mo.user_says("STALLPROMPT"), {"text": "never finished"}, gate=gate)
    try:
        submit(rig, z, pane, "Long job STALLPROMPT", lambda: any(e.rule == "stall" for e in list(rig.openai.log)))
        rollout = rig.wait_rollout([])
        t_active, s = rig.amc.wait(
            lambda st: next((x for x in st.get("sessions", []) if same_path(x.get("transcript_path"), rollout)
                             and x.get("status") == "active"), None), timeout=30, what="the codex session active mid-turn")
        sid = s["session_id"]
        z.wait_screen(pane, "esc to interrupt", timeout=15)
        t_esc = time.time()
        z.escape(pane)
        deadline = time.time() + 15
        while "turn_aborted" not in rollout_facts(rollout)["events"] and time.time() < deadline:
            time.sleep(0.2)
        assert "turn_aborted" in rollout_facts(rollout)["events"], rollout_facts(rollout)["events"]
        t_seen, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "done" and x,
                                 timeout=RECONCILE, what="done after Esc (turn_aborted)", since=t_esc)
        assert s["is_dead"] is False
        timing("Esc → watcher sees done (turn_aborted)", t_seen - t_esc, RECONCILE)
    finally:
        gate.set()


def test_codex_sigkill_mid_turn_is_dead(rig, timing):
    z = rig.zellij("x-kill")
    pane = rig.start_codex(z, ["--no-daemon"])
    gate = threading.Event()
    rig.openai.script("stall", mo.user_says("STALLPROMPT"), {"text": "never finished"}, gate=gate)
    try:
        submit(rig, z, pane, "Long job STALLPROMPT", lambda: any(e.rule == "stall" for e in list(rig.openai.log)))
        rollout = rig.wait_rollout([])
        _, s = rig.amc.wait(
            lambda st: next((x for x in st.get("sessions", []) if same_path(x.get("transcript_path"), rollout)
                             and x.get("status") == "active"), None), timeout=30, what="the codex session active mid-turn")
        sid = s["session_id"]
        pid = codex_native_pid(rig, pane)
        t_kill = time.time()
        os.kill(pid, signal.SIGKILL)
        t_dead, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("is_dead") is True and x,
                                 timeout=RECONCILE, what="the codex session dead after SIGKILL", since=t_kill)
        assert rig.amc.alive()
        timing("SIGKILL → watcher sees is_dead (codex --no-daemon)", t_dead - t_kill, RECONCILE)
    finally:
        gate.set()


# -- Codex hooks (`amc hooks install --agent codex`) --------------------------------------------------------------

HOOK_TO_WATCHER = 1.0


def test_codex_hooks_approval_needs_attention_then_back(rig, timing):
    """With amc's hooks installed and trusted (through Codex's own app-server), an approval request shows
    needs_attention from the PermissionRequest hook without waiting for the rollout; approving runs the command
    (PostToolUse) → active; Stop → done; Esc mid-turn → Interrupt → done."""
    out = rig.world.install_codex_hooks()
    assert "trusts amc's" in out, out
    rig.world.codex_approvals()
    z = rig.zellij("x-hooks")
    pane = rig.start_codex(z, ["--no-daemon"])
    marker = rig.world.root / "codex-approved"
    command = f"sleep 4 && touch {marker}"
    rig.openai.script("call", mo.user_says("CALLPROMPT"), {"text": "Running.", "calls": [{
        "name": "exec_command", "call_id": "call_e2e_1",
        "arguments": {"cmd": command, "sandbox_permissions": "require_escalated", "justification": "Touch outside"}}]})
    rig.openai.script("after", mo.output_for("call_e2e_1"), {"text": "Touched."})
    t0 = time.time()
    submit(rig, z, pane, "Touch it CALLPROMPT", lambda: any(e.rule == "call" for e in list(rig.openai.log)))
    t_seen, s = rig.amc.wait(
        lambda st: next((x for x in st.get("sessions", []) if x.get("agent") == "codex" and x.get("status") == "needs_attention"
                         and (x.get("attention") or {}).get("kind") == "permission"), None),
        timeout=30, what="the codex session needs_attention (permission)", since=t0)
    sid = s["session_id"]
    t_hook, line = rig.hook_event(sid, "PermissionRequest", after=t0)
    assert s["attention"]["tool_name"] == "Bash" and s["attention"]["tool_input_summary"] == command, s["attention"]
    assert s["is_dead"] is False, s
    timing("Codex PermissionRequest hook → watcher sees needs_attention", t_seen - t_hook, HOOK_TO_WATCHER)

    z.wait_screen(pane, "Would you like to run the following command?", timeout=15)
    time.sleep(0.5)
    t1 = time.time()
    z.key(pane, 13)
    t_back, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") in ("active", "done") and not x.get("attention") and x,
                             timeout=20, what="the approval answered", since=t1)
    rig.hook_event(sid, "PostToolUse", after=t1)
    t_done, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "done" and x,
                             timeout=30, what="done after Stop", since=t1)
    assert marker.exists()
    rig.hook_event(sid, "Stop", after=t1)
    timing("Codex approval → watcher sees it answered", t_back - t1, 10.0)

    gate = threading.Event()
    rig.openai.script("stall", mo.user_says("STALLPROMPT"), {"text": "never finished"}, gate=gate)
    try:
        t2 = time.time()
        submit(rig, z, pane, "Long job STALLPROMPT", lambda: any(e.rule == "stall" for e in list(rig.openai.log)))
        rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "active" and x, timeout=30,
                     what="active mid-turn", since=t2)
        z.wait_screen(pane, "esc to interrupt", timeout=15)
        t_esc = time.time()
        z.escape(pane)
        t_seen, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "done" and x, timeout=15,
                                 what="done after Esc", since=t_esc)
        t_int, _ = rig.hook_event(sid, "Interrupt", after=t_esc)
        timing("Codex Interrupt hook → watcher sees done", t_seen - t_int, HOOK_TO_WATCHER)
    finally:
        gate.set()
