"""Claude Code 2.1.331 in real Zellij 0.45.1 panes, against the Anthropic mock, with `amc serve` and `amc hook`
installed; every expectation is read from amc's SSE stream (`/api/stream`) as a watcher sees it.

Latency budget: a change must reach a watcher within HOOK_TO_WATCHER s of the hook's event-log line.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

from harness import mock_anthropic as ma
from harness import procs
from harness.amc import parse_time, read_events, session

HOOK_TO_WATCHER = 1.0
# amc's reconcile period (AMC_RECONCILE_MS, 30 s) plus a margin: faults must be settled by then.
RECONCILE = 35.0

QUESTION_REPLY = "I looked at the code.\n\nShall I refactor the parser as well?"
ASK = ma.ask_user_question([{
    "question": "Which database should the service use?",
    "header": "Database",
    "multiSelect": False,
    "options": [{"label": "Postgres", "description": "the usual"}, {"label": "SQLite", "description": "embedded"}],
}], id="toolu_e2e_ask_1")


def answer_dialog(z, pane: str, marker: str = "Enter to select", tries: int = 4) -> None:
    """Presses Enter (the first option) until the dialog leaves the screen. Claude Code ignores keys for a moment
    after a dialog opens (so a typed-ahead Enter cannot pick an answer), hence the pause and the retries."""
    for _ in range(tries):
        time.sleep(1.0)
        z.key(pane, 13)
        deadline = time.time() + 3
        while time.time() < deadline:
            if marker not in z.screen(pane):
                return
            time.sleep(0.2)
    raise AssertionError(f"the dialog did not take the answer; screen:\n{z.screen(pane)}")


def status_is(sid: str, status: str):
    return lambda st: (s := session(st, sid)) is not None and s.get("status") == status and s


def start_one(rig, zname: str):
    z = rig.zellij(zname)
    pane = rig.start_claude(z)
    sid = rig.claude_session_file(zname, pane)["session_id"]
    return z, pane, sid


def test_claude_start_shows_starting_with_its_pane(rig, timing):
    z, pane, sid = start_one(rig, "c-start")
    t_hook, _ = rig.hook_event(sid, "SessionStart")
    t_seen, s = rig.amc.wait(status_is(sid, "starting"), timeout=10, what="the new session as starting")
    assert s["agent"] == "claude"
    assert s["zellij_session"] == "c-start"
    assert str(s["zellij_pane"]) == pane
    assert s["cwd"] == str(rig.project)
    assert s["is_dead"] is False, s
    timing("SessionStart hook → watcher sees starting", t_seen - t_hook, HOOK_TO_WATCHER)


def test_claude_reply_ending_in_a_question_needs_attention(rig, timing):
    z, pane, sid = start_one(rig, "c-q")
    rule = rig.anthropic.script("question", ma.user_says("QPROMPT"), {"content": [ma.text(QUESTION_REPLY)]})
    t0 = time.time()
    z.type(pane, "Please look at the code QPROMPT")
    t_seen, s = rig.amc.wait(status_is(sid, "needs_attention"), timeout=30, what="needs_attention after a question", since=t0)
    t_hook, _ = rig.hook_event(sid, "Stop", after=t0)
    assert rig.anthropic.served("question"), rig.anthropic.summary()
    assert s["last_message_preview"] == QUESTION_REPLY
    assert [q["question"] for q in s["pending_questions"]] == ["Shall I refactor the parser as well?"]
    assert s["is_dead"] is False
    timing("Stop hook → watcher sees needs_attention (prose question)", t_seen - t_hook, HOOK_TO_WATCHER)
    # The transcript can lag the Stop hook by a few ms: the usage may come in the next frame.
    want = ma.MockAnthropic.context_tokens(rule.reply["usage"])
    t_usage, _ = rig.amc.wait(lambda st: ((session(st, sid) or {}).get("context_usage") or {}).get("current_tokens") == want,
                              timeout=5, what=f"context usage {want}", since=t0)
    timing("Stop hook → watcher sees the reply's context usage", t_usage - t_hook, HOOK_TO_WATCHER)


def test_claude_ask_user_question_dialog_then_answer(rig, timing):
    z, pane, sid = start_one(rig, "c-ask")
    rig.anthropic.script("ask", ma.user_says("ASKPROMPT"), {"content": [ma.text("One choice first."), ASK]})
    rig.anthropic.script("answered", ma.tool_result_for("toolu_e2e_ask_1"), {"content": [ma.text("Postgres it is.")]})
    t0 = time.time()
    z.type(pane, "Set up storage ASKPROMPT")
    t_seen, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and x.get("status") == "needs_attention" and x.get("pending_questions") and x,
        timeout=30, what="needs_attention with the dialog's questions", since=t0)
    t_hook, _ = rig.hook_event(sid, "PreToolUse", after=t0)
    assert s["attention"]["kind"] == "question" and s["attention"]["tool_name"] == "AskUserQuestion", s["attention"]
    q = s["pending_questions"][0]
    assert q["question"] == "Which database should the service use?"
    assert q.get("header") == "Database"
    assert [o["label"] for o in q.get("options", [])] == ["Postgres", "SQLite"]
    timing("PreToolUse(AskUserQuestion) hook → watcher sees the questions", t_seen - t_hook, HOOK_TO_WATCHER)

    z.wait_screen(pane, "Which database should the service use?", timeout=15)
    t1 = time.time()
    answer_dialog(z, pane)
    t_clear, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and x.get("status") != "needs_attention" and not x.get("pending_questions") and x,
        timeout=30, what="the questions cleared after the answer", since=t1)
    t_post, _ = rig.hook_event(sid, "PostToolUse", after=t1)
    timing("PostToolUse(AskUserQuestion) hook → watcher sees the questions cleared", t_clear - t_post, HOOK_TO_WATCHER)
    answered = rig.anthropic.wait_for(lambda e: e.rule == "answered", timeout=30)
    results = ma.last_tool_results(answered.body)
    assert "Postgres" in str(results), results
    t_done, s = rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the answered turn", since=t1)
    assert s["pending_questions"] == []


def test_claude_plain_reply_is_done_with_the_mock_usage(rig, timing):
    z, pane, sid = start_one(rig, "c-done")
    usage = {"input_tokens": 1234, "cache_creation_input_tokens": 5678, "cache_read_input_tokens": 91011, "output_tokens": 77}
    rig.anthropic.script("plain", ma.user_says("PLAINPROMPT"), {"content": [ma.text("All done, nothing else to do.")], "usage": usage})
    t0 = time.time()
    z.type(pane, "Tidy up PLAINPROMPT")
    t_seen, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and x.get("status") == "done" and (x.get("context_usage") or {}).get("current_tokens") and x,
        timeout=30, what="done with context usage", since=t0)
    t_hook, _ = rig.hook_event(sid, "Stop", after=t0)
    served = rig.anthropic.served("plain")
    assert served
    assert s["context_usage"]["current_tokens"] == 1234 + 5678 + 91011, s["context_usage"]
    assert s["context_usage"].get("model") == "claude-opus-5-5"
    assert s["last_message_preview"] == "All done, nothing else to do."
    assert s["pending_questions"] == []
    timing("Stop hook → watcher sees done", t_seen - t_hook, HOOK_TO_WATCHER)
    timing("mock response sent → watcher sees done + usage", t_seen - served[-1].t_sent)


def test_claude_zellij_session_killed_is_dead(rig, timing):
    z, pane, sid = start_one(rig, "c-kill")
    rig.anthropic.script("plain", ma.user_says("KILLPROMPT"), {"content": [ma.text("Ready.")]})
    t0 = time.time()
    z.type(pane, "Warm up KILLPROMPT")
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done before the kill", since=t0)
    t_kill = time.time()
    z.kill()
    assert "c-kill" not in z.live_sessions()
    t_dead, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) is None and "gone" or (x and x.get("is_dead") is True and x),
        timeout=15, what="the session dead after its Zellij session was killed", since=t_kill)
    events = [e.get("event") + ":" + str(e.get("reason", "")) for e in read_events(rig.world, sid)]
    assert s != "gone", (
        "amc removed the session instead of showing it dead: Claude Code exits on SIGHUP with a SessionEnd hook "
        f"(reason 'other') and `amc hook` moves the session file to the trash; hook events: {events}")
    assert s["zellij_session"] == "c-kill"
    timing("zellij kill-session → watcher sees is_dead", t_dead - t_kill)


def test_claude_exit_is_gone(rig, timing):
    z, pane, sid = start_one(rig, "c-exit")
    rig.amc.wait(lambda st: session(st, sid), timeout=10, what="the session listed")
    t0 = time.time()
    z.type(pane, "/exit")
    t_gone, _ = rig.amc.wait(lambda st: session(st, sid) is None, timeout=30, what="the session gone after /exit", since=t0)
    t_hook, line = rig.hook_event(sid, "SessionEnd", after=t0)
    assert line.get("reason") == "prompt_input_exit", line
    timing("SessionEnd hook → watcher sees the session gone", t_gone - t_hook, HOOK_TO_WATCHER)


def test_claude_in_a_brand_new_zellij_session(rig, timing):
    """The natural order: amc already runs, the user opens a new Zellij session and starts Claude in it at once."""
    rig.start_amc()
    z = rig.zellij("c-new", settle=False)
    pane = rig.start_claude(z)
    t_start = time.time()
    sid = rig.claude_pid_files(timeout=10)[0]["sessionId"]  # Claude's own record, whatever amc does
    rig.hook_event(sid, "SessionStart")
    time.sleep(7)  # past amc's 5 s Zellij cache
    s = session(rig.amc.latest(), sid)
    trash = sorted(p.name for p in (rig.world.data_dir / "trash").glob("*")) if (rig.world.data_dir / "trash").exists() else []
    removal = [line for line in rig.amc.log_tail(200).splitlines() if "moved to trash" in line]
    assert s is not None, (f"amc does not list the session {time.time() - t_start:.1f} s after Claude started in a "
                           f"new Zellij session (trash: {trash}; amc log: {removal})")
    assert s["status"] == "starting" and s["is_dead"] is False, s
    assert s["zellij_session"] == "c-new" and str(s["zellij_pane"]) == pane


# -- faults -------------------------------------------------------------------------------------------------------

def test_claude_api_error_ends_done(rig, timing):
    """The mock answers 400: Claude writes a `<synthetic>` isApiErrorMessage line, fires no Stop; amc must not stay
    `active`, and the all-zero usage of the synthetic line must not replace the real one."""
    z, pane, sid = start_one(rig, "c-apierr")
    usage = {"input_tokens": 300, "cache_creation_input_tokens": 4000, "cache_read_input_tokens": 50000, "output_tokens": 9}
    rig.anthropic.script("plain", ma.user_says("FIRSTPROMPT"), {"content": [ma.text("Fine.")], "usage": usage})
    rig.anthropic.script("apierr", ma.user_says("ERRPROMPT"), {"error": {"status": 400, "type": "invalid_request_error", "message": "mock: refused"}})
    t0 = time.time()
    z.type(pane, "First FIRSTPROMPT")
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the first reply", since=t0)
    t1 = time.time()
    z.type(pane, "Second ERRPROMPT")
    t_active, _ = rig.amc.wait(status_is(sid, "active"), timeout=30, what="active after the second prompt", since=t1)
    z.wait_screen(pane, "API Error", timeout=30)
    assert rig.anthropic.served("apierr")
    t_err = time.time()
    t_seen, s = rig.amc.wait(status_is(sid, "done"), timeout=RECONCILE, what="done after the API error (no Stop hook)",
                             since=t_active)
    assert "Stop" not in [e["event"] for e in read_events(rig.world, sid) if parse_time(e["at"]) >= t1]
    assert s["context_usage"]["current_tokens"] == 54300, s["context_usage"]
    assert rig.amc.alive()
    timing("API error on screen → watcher sees done", t_seen - t_err, RECONCILE)


def test_claude_sigkill_mid_turn_is_dead(rig, timing):
    """SIGKILL while the model is answering: no SessionEnd, the pid file stays, the Zellij session lives on."""
    z, pane, sid = start_one(rig, "c-sigkill")
    gate = threading.Event()
    rig.anthropic.script("stall", ma.user_says("STALLPROMPT"), {"content": [ma.text("never finished")]}, gate=gate)
    try:
        t0 = time.time()
        z.type(pane, "Long job STALLPROMPT")
        rig.amc.wait(status_is(sid, "active"), timeout=30, what="active mid-turn", since=t0)
        pid = int(rig.claude_pid_file(sid)["pid"])
        assert procs.comm(pid) == "claude"
        t_kill = time.time()
        os.kill(pid, signal.SIGKILL)
        t_dead, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("is_dead") is True and x,
                                 timeout=RECONCILE, what="dead after SIGKILL", since=t_kill)
        assert "c-sigkill" in z.live_sessions(), "the Zellij session must still live (the pane is held open)"
        assert "SessionEnd" not in [e["event"] for e in read_events(rig.world, sid)]
        timing("SIGKILL → watcher sees is_dead (Zellij session alive)", t_dead - t_kill, RECONCILE)
    finally:
        gate.set()


def test_claude_esc_interrupt_ends_done(rig, timing):
    """Esc while the model is answering: no Stop hook fires; the true state is idle, waiting for the user."""
    z, pane, sid = start_one(rig, "c-esc")
    gate = threading.Event()
    rig.anthropic.script("stall", ma.user_says("ESCPROMPT"), {"content": [ma.text("never finished")]}, gate=gate)
    try:
        t0 = time.time()
        z.type(pane, "Long job ESCPROMPT")
        rig.amc.wait(status_is(sid, "active"), timeout=30, what="active mid-turn", since=t0)
        z.wait_screen(pane, "esc to interrupt", timeout=15)
        t_esc = time.time()
        z.escape(pane)
        # Interrupted before any output, Claude Code puts the prompt back into the input box.
        z.wait_screen_gone(pane, "esc to interrupt", timeout=15)
        t_seen, s = rig.amc.wait(status_is(sid, "done"), timeout=RECONCILE, what="done after Esc (no Stop hook)", since=t_esc)
        assert s["is_dead"] is False
        timing("Esc → watcher sees done", t_seen - t_esc, RECONCILE)
    finally:
        gate.set()


# -- 2026 hooks: permission dialogs ------------------------------------------------------------------------------

# The budget: a permission dialog shows as needs_attention within 200 ms of its PermissionRequest hook.
PERMISSION_TO_WATCHER = 0.2


def test_claude_permission_dialog_then_approved(rig, timing):
    """`--permission-mode default` and a Bash call outside the project: Claude Code fires PermissionRequest as the
    dialog opens (no tool_use_id; the permission_prompt Notification follows ~6 s later); amc shows needs_attention
    with attention {kind: permission, tool_name, tool_input_summary}. Approving fires no hook: Claude's own record
    turns `busy` and the tool's PostToolUse follows when it finishes; amc shows active, then done after Stop."""
    z = rig.zellij("c-perm")
    pane = rig.start_claude(z, ["--permission-mode", "default"])
    sid = rig.claude_session_file("c-perm", pane)["session_id"]
    marker = rig.world.root / "approved-marker"
    # Long enough that active (Claude's busy record: 0.5 s settle plus the collector's 2 s process timer) shows while
    # the approved command still runs.
    command = f"sleep 6 && touch {marker}"
    rig.anthropic.script("bash", ma.user_says("PERMPROMPT"),
                         {"content": [ma.text("Running it."), ma.tool_use("Bash", {"command": command, "description": "Wait, then touch"}, id="toolu_perm_1")]})
    rig.anthropic.script("after", ma.tool_result_for("toolu_perm_1"), {"content": [ma.text("Done touching.")]})
    t0 = time.time()
    z.type(pane, "Touch it PERMPROMPT")
    t_seen, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and x.get("status") == "needs_attention" and x.get("attention") and x,
        timeout=30, what="needs_attention with a permission attention", since=t0)
    t_hook, line = rig.hook_event(sid, "PermissionRequest", after=t0)
    a = s["attention"]
    assert a["kind"] == "permission", a
    assert a["event"] == "PermissionRequest", a
    assert a["tool_name"] == "Bash", a
    assert a["tool_input_summary"] == command, a
    assert line["status"] == "needs_attention" and line["tool_name"] == "Bash", line
    timing("PermissionRequest hook → watcher sees needs_attention (permission)", t_seen - t_hook, PERMISSION_TO_WATCHER)

    z.wait_screen(pane, "Do you want to proceed", timeout=15)
    t1 = time.time()
    answer_dialog(z, pane, marker="Do you want to proceed")
    t_active, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and x.get("status") == "active" and not x.get("attention") and x,
        timeout=10, what="active after the approval (the tool runs)", since=t1)
    assert not marker.exists(), "active must show while the approved tool still runs"
    timing("approval → watcher sees active", t_active - t1, 5.5)
    t_done, s = rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the approved turn", since=t_active)
    assert marker.exists()
    assert s.get("attention") is None
    events = [e["event"] for e in read_events(rig.world, sid) if parse_time(e["at"]) >= t0]
    assert events.index("PermissionRequest") < events.index("PostToolUse") < events.index("Stop"), events


def test_claude_permission_dialog_declined_with_esc_ends_done(rig, timing):
    """Esc on a permission dialog fires no hook at all (2.1.331: no PermissionDenied, no Stop); Claude's own record
    goes idle, and amc shows done with the reason, attention cleared."""
    z = rig.zellij("c-deny")
    pane = rig.start_claude(z, ["--permission-mode", "default"])
    sid = rig.claude_session_file("c-deny", pane)["session_id"]
    rig.anthropic.script("bash", ma.user_says("DENYPROMPT"),
                         {"content": [ma.text("Running it."), ma.tool_use("Bash", {"command": f"touch {rig.world.root}/denied", "description": "Touch"}, id="toolu_deny_1")]})
    t0 = time.time()
    z.type(pane, "Touch it DENYPROMPT")
    rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "needs_attention" and x.get("attention") and x,
                 timeout=30, what="needs_attention (permission)", since=t0)
    z.wait_screen(pane, "Do you want to proceed", timeout=15)
    time.sleep(1.0)  # the dialog ignores keys for a moment after it opens
    t_esc = time.time()
    z.escape(pane)
    z.wait_screen_gone(pane, "Do you want to proceed", timeout=15)
    t_seen, s = rig.amc.wait(status_is(sid, "done"), timeout=RECONCILE, what="done after Esc on the dialog", since=t_esc)
    assert s.get("attention") is None, s
    assert "idle" in (s.get("status_reason") or ""), s
    after = [e["event"] for e in read_events(rig.world, sid) if parse_time(e["at"]) >= t_esc]
    assert not {"Stop", "PermissionDenied", "PostToolUse"} & set(after), after
    timing("Esc on a permission dialog → watcher sees done", t_seen - t_esc, RECONCILE)


def test_claude_api_error_fires_stop_failure_with_the_reason(rig, timing):
    """An HTTP 400 ends the turn with StopFailure (`error`, `last_assistant_message`): amc shows done at once, with
    the error as status_reason."""
    z, pane, sid = start_one(rig, "c-stopfail")
    rig.anthropic.script("apierr", ma.user_says("FAILPROMPT"), {"error": {"status": 400, "type": "invalid_request_error", "message": "mock: refused"}})
    t0 = time.time()
    z.type(pane, "Fail FAILPROMPT")
    t_seen, s = rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("status") == "done" and x.get("status_reason") and x,
                             timeout=30, what="done with a status_reason after the API error", since=t0)
    t_hook, line = rig.hook_event(sid, "StopFailure", after=t0)
    assert line.get("error") == "unknown", line
    assert "API error" in s["status_reason"] and "mock: refused" in s["status_reason"], s["status_reason"]
    timing("StopFailure hook → watcher sees done", t_seen - t_hook, HOOK_TO_WATCHER)


def test_claude_background_subagent_is_counted(rig, timing):
    """The Agent tool runs in the background in 2.1.331: SubagentStart after its PostToolUse, SubagentStop when it
    ends; amc counts it in running_subagents meanwhile."""
    z = rig.zellij("c-sub")
    pane = rig.start_claude(z, ["--permission-mode", "default", "--allowedTools", "Agent"])
    sid = rig.claude_session_file("c-sub", pane)["session_id"]
    gate = threading.Event()
    rig.anthropic.script("task", ma.user_says("SUBPROMPT"), {"content": [ma.text("Delegating."), ma.tool_use(
        "Agent", {"description": "Look around", "prompt": "SUBAGENTWORK list files", "subagent_type": "general-purpose"}, id="toolu_sub_1")]}, times=1)
    rig.anthropic.script("subwork", lambda req: ma.is_main_loop(req) and "SUBAGENTWORK" in ma.last_user_text(req),
                         {"content": [ma.text("Sub-agent found nothing.")]}, times=1, gate=gate)
    try:
        t0 = time.time()
        z.type(pane, "Delegate SUBPROMPT")
        t_seen, s = rig.amc.wait(lambda st: (x := session(st, sid)) and len(x.get("running_subagents") or []) == 1 and x,
                                 timeout=30, what="one running sub-agent", since=t0)
        t_hook, line = rig.hook_event(sid, "SubagentStart", after=t0)
        assert s["running_subagents"][0]["agent_type"] == "general-purpose", s["running_subagents"]
        timing("SubagentStart hook → watcher sees the sub-agent", t_seen - t_hook, HOOK_TO_WATCHER)
    finally:
        gate.set()
    rig.amc.wait(lambda st: (x := session(st, sid)) and not x.get("running_subagents") and x,
                 timeout=30, what="no running sub-agent after it finished", since=t0)
    rig.hook_event(sid, "SubagentStop", after=t0)


def test_claude_idle_prompt_does_not_raise_attention(rig, timing):
    """`idle_prompt` ("Claude is waiting for your input") reminds of a finished turn; it is not a prompt. Claude Code
    fires it after `messageIdleNotifThresholdMs` (60 s by default; 3 s here through ~/.claude.json) without input."""
    for path in (rig.world.home / ".claude.json", rig.world.claude_dir / ".claude.json"):
        state = json.loads(path.read_text())
        state["messageIdleNotifThresholdMs"] = 3000
        path.write_text(json.dumps(state, indent=2))
    z, pane, sid = start_one(rig, "c-idle")
    rig.anthropic.script("plain", ma.user_says("IDLEPROMPT"), {"content": [ma.text("All done.")]})
    t0 = time.time()
    z.type(pane, "Finish IDLEPROMPT")
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done", since=t0)
    t_idle, line = rig.hook_event(sid, "Notification", after=t0, timeout=30)
    assert line.get("notification_type") == "idle_prompt", line
    assert line["status"] == "done", line
    time.sleep(1.0)
    s = session(rig.amc.latest(), sid)
    assert s["status"] == "done" and s.get("attention") is None, s
    assert not any(f.t >= t_idle and (session(f.state, sid) or {}).get("status") == "needs_attention"
                   for f in list(rig.amc.frames)), "a watcher saw needs_attention after idle_prompt"


def test_claude_compact_is_logged_with_its_sizes(rig, timing):
    """`/compact` fires PreCompact, SessionStart (source compact) and PostCompact {trigger, compact_summary} (no
    sizes); 2.1.331 writes the transcript's compact_boundary ~10 ms after PostCompact, so the hook logs a
    `Compaction` line with the boundary's pre/post tokens at the next event. The status stays."""
    z, pane, sid = start_one(rig, "c-compact")
    rig.anthropic.script("plain", ma.user_says("WARMPROMPT"), {"content": [ma.text("Warm.")]})
    rig.anthropic.script("after", ma.user_says("AFTERPROMPT"), {"content": [ma.text("Still here.")]})
    t0 = time.time()
    z.type(pane, "Warm up WARMPROMPT")
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done before /compact", since=t0)
    t1 = time.time()
    z.type(pane, "/compact")
    _, line = rig.hook_event(sid, "PostCompact", after=t1, timeout=60)
    assert line["trigger"] == "manual" and line["status"] == "done", line
    assert session(rig.amc.latest(), sid)["status"] == "done"
    time.sleep(1.0)
    t2 = time.time()
    z.type(pane, "Go on AFTERPROMPT")
    _, c = rig.hook_event(sid, "Compaction", after=t1, timeout=30)
    assert c["trigger"] == "manual", c
    assert isinstance(c.get("pre_tokens"), int) and c["pre_tokens"] > 0, c
    assert isinstance(c.get("post_tokens"), int) and c["post_tokens"] < c["pre_tokens"], c
    events = [e["event"] for e in read_events(rig.world, sid) if parse_time(e.get("logged_at", e["at"])) >= t1]
    assert events.index("PreCompact") < events.index("PostCompact") < events.index("Compaction") < events.index("UserPromptSubmit"), events
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the next turn", since=t2)


def _held_request(rig, sid: str, since: float) -> str:
    """Waits until the session shows a held permission request; returns its id."""
    _, s = rig.amc.wait(
        lambda st: (x := session(st, sid)) and (x.get("attention") or {}).get("request_id") and x,
        timeout=30, what="a held permission request (attention.request_id)", since=since)
    assert s["attention"]["kind"] == "permission", s["attention"]
    return s["attention"]["request_id"]


def test_claude_decide_allow_lets_the_held_tool_run(rig):
    """AMC_APPROVALS_HOLD=always: the PermissionRequest hook holds; a remote decide(allow) makes the hook print
    Claude Code's decision JSON, no dialog shows, the tool runs (the mock sees its result) and the turn ends."""
    rig.world.amc_extra["AMC_APPROVALS_HOLD"] = "always"
    z = rig.zellij("c-allow")
    pane = rig.start_claude(z, ["--permission-mode", "default"])
    sid = rig.claude_session_file("c-allow", pane)["session_id"]
    marker = rig.world.root / "allowed-marker"
    rig.anthropic.script("bash", ma.user_says("REMOTEALLOW"),
                         {"content": [ma.text("Running it."), ma.tool_use("Bash", {"command": f"touch {marker}", "description": "Touch"}, id="toolu_allow_1")]})
    rig.anthropic.script("after", ma.tool_result_for("toolu_allow_1"), {"content": [ma.text("Touched.")]})
    t0 = time.time()
    z.type(pane, "Touch it REMOTEALLOW")
    rid = _held_request(rig, sid, t0)
    status, out = rig.amc.post(f"/api/sessions/{sid}/decide", {"request_id": rid, "behavior": "allow"})
    assert (status, out["outcome"]) == (200, "delivered"), out
    logged = rig.anthropic.wait_for(lambda e: ma.tool_result_for("toolu_allow_1")(e.body), timeout=30)
    result = next(b for b in ma.last_tool_results(logged.body) if b.get("tool_use_id") == "toolu_allow_1")
    assert not result.get("is_error"), result
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the allowed turn", since=t0)
    assert marker.exists()
    status, again = rig.amc.post(f"/api/sessions/{sid}/decide", {"request_id": rid, "behavior": "deny"})
    assert again["outcome"] == "already_answered", again
    audit = [json.loads(line) for line in (rig.world.data_dir / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["outcome"], e["token"]) for e in audit] == [
        ("decide", "delivered", "local"), ("decide", "already_answered", "local")], audit


def test_claude_decide_deny_is_reported_to_claude(rig):
    """A remote decide(deny, message): the tool does not run and Claude gets the denial as the tool's error result."""
    rig.world.amc_extra["AMC_APPROVALS_HOLD"] = "always"
    z = rig.zellij("c-rdeny")
    pane = rig.start_claude(z, ["--permission-mode", "default"])
    sid = rig.claude_session_file("c-rdeny", pane)["session_id"]
    marker = rig.world.root / "denied-marker"
    rig.anthropic.script("bash", ma.user_says("REMOTEDENY"),
                         {"content": [ma.text("Running it."), ma.tool_use("Bash", {"command": f"touch {marker}", "description": "Touch"}, id="toolu_rdeny_1")]})
    rig.anthropic.script("after", ma.tool_result_for("toolu_rdeny_1"), {"content": [ma.text("Understood, not touching.")]})
    t0 = time.time()
    z.type(pane, "Touch it REMOTEDENY")
    rid = _held_request(rig, sid, t0)
    status, out = rig.amc.post(f"/api/sessions/{sid}/decide",
                               {"request_id": rid, "behavior": "deny", "message": "not from amc today"})
    assert (status, out["outcome"]) == (200, "delivered"), out
    logged = rig.anthropic.wait_for(lambda e: ma.tool_result_for("toolu_rdeny_1")(e.body), timeout=30)
    result = next(b for b in ma.last_tool_results(logged.body) if b.get("tool_use_id") == "toolu_rdeny_1")
    assert "not from amc today" in json.dumps(result), result
    assert not marker.exists()


def test_claude_answer_reaches_ask_user_question(rig):
    """`answer {"options": [2]}` types the option's number into the session's own pane (Zellij --pane-id): Claude's
    AskUserQuestion gets it (the tool result names the second option), and the turn ends."""
    z, pane, sid = start_one(rig, "c-ans")
    rig.anthropic.script("ask", ma.user_says("ANSPROMPT"), {"content": [ma.text("One choice first."), ASK]})
    rig.anthropic.script("answered", ma.tool_result_for("toolu_e2e_ask_1"), {"content": [ma.text("SQLite it is.")]})
    t0 = time.time()
    z.type(pane, "Set up storage ANSPROMPT")
    rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("pending_questions") and x,
                 timeout=30, what="the question pending", since=t0)
    z.wait_screen(pane, "Which database should the service use?", timeout=15)
    time.sleep(1.0)  # the dialog ignores keys for a moment after it opens
    status, out = rig.amc.post(f"/api/sessions/{sid}/answer", {"options": [2]})
    assert (status, out["outcome"]) == (200, "delivered"), out
    answered = rig.anthropic.wait_for(lambda e: e.rule == "answered", timeout=30)
    assert "SQLite" in str(ma.last_tool_results(answered.body)), ma.last_tool_results(answered.body)
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the answered turn", since=t0)


def test_claude_send_text_starts_a_turn(rig):
    """`send_text` types a prompt and Enter into the idle Claude's pane: a new turn with that prompt reaches the API."""
    z, pane, sid = start_one(rig, "c-send")
    rig.anthropic.script("sent", ma.user_says("SENTVIAAMC"), {"content": [ma.text("Got your typed prompt.")]})
    t0 = time.time()
    status, out = rig.amc.post(f"/api/sessions/{sid}/send_text", {"text": "Hello from amc SENTVIAAMC"})
    assert (status, out["outcome"]) == (200, "delivered"), out
    got = rig.anthropic.wait_for(lambda e: e.rule == "sent", timeout=30)
    assert "Hello from amc SENTVIAAMC" in json.dumps(got.body)
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the typed turn", since=t0)
    status, bad = rig.amc.post(f"/api/sessions/{sid}/send_text", {"text": "\u001b[2J"})
    assert (status, bad["code"]) == (400, "INVALID_ARGUMENT"), bad


def test_claude_focus_moves_to_the_sessions_own_pane(rig):
    """`focus` runs `zellij action focus-pane-id` on the session's own pane: after another pane took the focus, Claude's
    pane has it again (the pinned Zellij has focus-pane-id)."""
    z, pane, sid = start_one(rig, "c-focus")
    other = z.new_pane(["sleep", "600"], rig.project, {}, name="other")
    focused = lambda: {str(p["id"]) for p in z.panes() if not p.get("is_plugin") and p.get("is_focused")}
    deadline = time.time() + 10
    while pane in focused() and time.time() < deadline:
        time.sleep(0.2)
    assert pane not in focused(), f"the new pane {other} did not take the focus: {focused()}"
    status, out = rig.amc.post(f"/api/sessions/{sid}/focus", {})
    assert (status, out["outcome"]) == (200, "focused"), out
    assert out["detail"] == f"zellij session c-focus pane {pane}", out
    deadline = time.time() + 10
    while pane not in focused() and time.time() < deadline:
        time.sleep(0.2)
    assert pane in focused(), f"pane {pane} not focused: {focused()}"
    audit = [json.loads(line) for line in (rig.world.data_dir / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["outcome"]) for e in audit] == [("focus", "focused")], audit


def test_claude_remote_approval_holds_and_survives_an_amc_restart(rig):
    """With AMC_APPROVALS_HOLD=never (the default), `remote_approval {"enabled": true}` ("I am away from this pane")
    makes the session's PermissionRequest hook hold for a remote decision, also after `amc serve` restarts: the
    switch is in the session file."""
    z = rig.zellij("c-away")
    pane = rig.start_claude(z, ["--permission-mode", "default"])
    sid = rig.claude_session_file("c-away", pane)["session_id"]
    status, out = rig.amc.post(f"/api/sessions/{sid}/remote_approval", {"enabled": True})
    assert (status, out["outcome"]) == (200, "enabled"), out
    rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("remote_approval") is True and x,
                 timeout=30, what="remote_approval in the state")
    rig.amc.stop()
    rig.amc.start()
    rig.amc.wait(lambda st: (x := session(st, sid)) and x.get("remote_approval") is True and x,
                 timeout=30, what="remote_approval after the restart")
    marker = rig.world.root / "away-marker"
    rig.anthropic.script("bash", ma.user_says("AWAYALLOW"),
                         {"content": [ma.text("Running it."), ma.tool_use("Bash", {"command": f"touch {marker}", "description": "Touch"}, id="toolu_away_1")]})
    rig.anthropic.script("after", ma.tool_result_for("toolu_away_1"), {"content": [ma.text("Touched.")]})
    t0 = time.time()
    z.type(pane, "Touch it AWAYALLOW")
    rid = _held_request(rig, sid, t0)
    status, out = rig.amc.post(f"/api/sessions/{sid}/decide", {"request_id": rid, "behavior": "allow"})
    assert (status, out["outcome"]) == (200, "delivered"), out
    rig.anthropic.wait_for(lambda e: ma.tool_result_for("toolu_away_1")(e.body), timeout=30)
    rig.amc.wait(status_is(sid, "done"), timeout=30, what="done after the allowed turn", since=t0)
    assert marker.exists()
