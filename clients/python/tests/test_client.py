"""amc_client against a real amc server (see conftest.py)."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import grpc
import pytest

import amc_client
from amc_client import AmcError, AmcTimeoutError, AmcUnavailableError, State

from conftest import REPO, unique_id

PREPARED = "prepared-attention"  # written by scripts/test-clients (and by the standalone fixture) before start
EXAMPLE = REPO / "clients" / "python" / "examples" / "wait_for_attention.py"


def next_within(watch: amc_client.StateWatch, timeout: float) -> State:
    """next(watch), failing the test instead of hanging."""
    timer = threading.Timer(timeout, watch.cancel)
    timer.start()
    try:
        return next(watch)
    except StopIteration:
        pytest.fail(f"no snapshot within {timeout} s")
    finally:
        timer.cancel()


def wait_for(watch: amc_client.StateWatch, pred: Callable[[State], bool], timeout: float = 5.0) -> State:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no matching snapshot within {timeout} s")
        state = next_within(watch, left)
        if pred(state):
            return state


def ids(state: State) -> set[str]:
    return {s.session_id for s in state.sessions}


# --- package


def test_generated_code_is_package_relative() -> None:
    import amc_client.v1.state_service_pb2_grpc  # noqa: F401

    assert "amc" not in sys.modules, "generated code must not import a top-level `amc` package"
    assert amc_client.State.DESCRIPTOR.full_name == "amc.v1.State"


# --- GetState


def test_get_state(server) -> None:
    state = amc_client.get_state(server.addr)
    assert state.revision > 0
    assert state.instance_id
    assert state.snapshot_time.seconds > 0
    by_id = {s.session_id: s for s in state.sessions}
    session = by_id[PREPARED]
    assert session.status == amc_client.SESSION_STATUS_NEEDS_ATTENTION
    assert session.raw_status == "needs_attention"
    assert session.agent == amc_client.AGENT_CLAUDE
    assert [q.question for q in session.pending_questions] == ["Proceed?"]
    assert [s.session_id for s in state.sessions] == sorted(by_id)


def test_get_state_filter(server) -> None:
    only = amc_client.get_state(server.addr, filter={"session_ids": [PREPARED]})
    assert ids(only) == {PREPARED}
    codex = amc_client.get_state(server.addr, filter=amc_client.SessionFilter(agents=[amc_client.AGENT_CODEX]))
    assert PREPARED not in ids(codex)


# --- ExplainSession


def test_explain_session(server) -> None:
    why = amc_client.explain_session(PREPARED, server.addr)
    assert why.session_id == PREPARED
    assert why.present
    assert why.trash_path == ""
    by_field = {d.field: d for d in why.decisions}
    assert json.loads(by_field["status"].value_json) == "needs_attention"
    assert by_field["status"].rule == "hook::update::apply"
    assert json.loads(by_field["status"].evidence_json)["file"].endswith(f"/sessions/{PREPARED}.json")
    assert all(d.at.seconds > 0 for d in why.decisions)


def test_explain_session_errors(server) -> None:
    with pytest.raises(amc_client.AmcError) as unknown:
        amc_client.explain_session("never-seen-" + uuid.uuid4().hex, server.addr)
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(amc_client.AmcError) as unsafe:
        amc_client.explain_session("../../etc/passwd", server.addr)
    assert unsafe.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_actions_need_the_act_token(server) -> None:
    token = (server.data_dir / "token").read_text().strip()
    done = amc_client.restore(PREPARED, server.addr, token=token)
    assert (done.session_id, done.action, done.outcome) == (PREPARED, "restore", "already_present")
    with pytest.raises(amc_client.AmcError) as refused:
        amc_client.restore(PREPARED, server.addr)
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(amc_client.AmcError) as unknown:
        amc_client.decide(PREPARED, "no-such-request", True, target=server.addr, token=token)
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND


def test_every_action_has_one_function_taking_a_token(server) -> None:
    import inspect

    for name in ("decide", "answer", "send_text", "dismiss", "restore", "set_remote_approval", "focus", "ack"):
        fn = getattr(amc_client, name)
        assert "token" in inspect.signature(fn).parameters, name
        with pytest.raises(amc_client.AmcError) as refused:
            args = {"decide": (PREPARED, "r", True), "set_remote_approval": (PREPARED, True),
                    "send_text": (PREPARED, "hi"), "answer": (PREPARED, [1])}.get(name, (PREPARED,))
            fn(*args, target=server.addr)
        assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED, name


def test_focus_ack_and_remote_approval(server) -> None:
    token = (server.data_dir / "token").read_text().strip()
    # The shared server has no zellij (AMC_ZELLIJ_BIN=/nonexistent): focusing is a failed precondition.
    with pytest.raises(amc_client.AmcError) as no_zellij:
        amc_client.focus(PREPARED, server.addr, token=token)
    assert no_zellij.value.code == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(amc_client.AmcError) as unknown:
        amc_client.focus("never-seen-" + uuid.uuid4().hex, server.addr, token=token)
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND
    acked = amc_client.ack(PREPARED, server.addr, token=token)
    assert acked.session_id == PREPARED and isinstance(acked.acknowledged, bool)
    with pytest.raises(amc_client.AmcError) as unknown:
        amc_client.ack("never-seen-" + uuid.uuid4().hex, server.addr, token=token)
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND
    done = amc_client.set_remote_approval(PREPARED, True, server.addr, token=token)
    assert (done.action, done.outcome) == ("remote_approval", "enabled")
    deadline = time.monotonic() + 10
    while not amc_client.get_state(server.addr, filter={"session_ids": [PREPARED]}).sessions[0].remote_approval:
        assert time.monotonic() < deadline, "remote_approval never showed in the state"
        time.sleep(0.05)
    assert amc_client.set_remote_approval(PREPARED, False, server.addr, token=token).outcome == "disabled"


# --- WatchState


def test_watch_first_snapshot(server) -> None:
    current = amc_client.get_state(server.addr)
    with amc_client.watch_state(server.addr) as watch:
        first = next_within(watch, 5)
        assert first.instance_id == current.instance_id
        assert first.revision >= current.revision
        assert PREPARED in ids(first)
        assert watch.last_revision == first.revision
        assert watch.instance_id == first.instance_id


def test_watch_change_on_disk_arrives(server) -> None:
    sid = unique_id("py-change")
    with amc_client.watch_state(server.addr) as watch:
        first = next_within(watch, 5)
        server.write_session(sid, status="active")
        started = time.monotonic()
        added = wait_for(watch, lambda st: sid in ids(st))
        assert added.revision > first.revision
        assert time.monotonic() - started < 3
        server.write_session(sid, status="needs_attention")
        changed = wait_for(
            watch,
            lambda st: any(
                s.session_id == sid and s.status == amc_client.SESSION_STATUS_NEEDS_ATTENTION for s in st.sessions
            ),
        )
        assert changed.revision > added.revision


def test_watch_applies_deltas_into_whole_states(server) -> None:
    sid = unique_id("py-delta")
    other = unique_id("py-delta-other")
    with amc_client.watch_state(server.addr) as watch:
        next_within(watch, 5)
        server.write_session(sid, status="active")
        server.write_session(other, status="done")
        wait_for(watch, lambda st: {sid, other} <= ids(st))
        server.write_session(sid, status="needs_attention")
        changed = wait_for(
            watch,
            lambda st: any(
                s.session_id == sid and s.status == amc_client.SESSION_STATUS_NEEDS_ATTENTION for s in st.sessions
            ),
        )
        assert watch.deltas_applied >= 1, "changes should have come as deltas"
        # What the watch rebuilt is exactly what the server holds at the same revision.
        current = amc_client.get_state(server.addr)
        latest = changed
        if current.revision > latest.revision:
            latest = wait_for(watch, lambda st: st.revision >= current.revision)
        assert latest.revision == current.revision
        assert list(latest.sessions) == list(current.sessions)
        assert [s.session_id for s in latest.sessions] == sorted(s.session_id for s in latest.sessions)


def test_watch_resume_when_current_starts_silently(server) -> None:
    current = amc_client.get_state(server.addr)
    watch = amc_client.watch_state(server.addr, current.revision, instance_id=current.instance_id)
    got: queue.Queue[State] = queue.Queue()
    consumer = threading.Thread(target=lambda: [got.put(s) for s in watch], daemon=True)
    consumer.start()
    try:
        time.sleep(1.5)  # three heartbeats (AMC_HEARTBEAT_MS=500), and no snapshot: the client is current
        assert got.empty()
        assert watch.last_revision >= current.revision
        sid = unique_id("py-resume")
        server.write_session(sid)
        state = got.get(timeout=5)
        assert state.revision > current.revision
        assert sid in ids(state)
    finally:
        watch.cancel()
        consumer.join(5)
    assert not consumer.is_alive()


def test_watch_heartbeats_advance_revision_silently(server) -> None:
    watch = amc_client.watch_state(server.addr, filter={"session_ids": [PREPARED]})
    first = next_within(watch, 5)
    got: queue.Queue[State] = queue.Queue()
    consumer = threading.Thread(target=lambda: [got.put(s) for s in watch], daemon=True)
    consumer.start()
    try:
        server.write_session(unique_id("py-outside"))  # outside the filter: revision +1, no snapshot
        deadline = time.monotonic() + 5
        while watch.last_revision <= first.revision and time.monotonic() < deadline:
            time.sleep(0.1)
        assert watch.last_revision > first.revision, "a heartbeat should have carried the new revision"
        assert got.empty(), "a change outside the filter must not yield a snapshot"
    finally:
        watch.cancel()
        consumer.join(5)
    assert not consumer.is_alive()


def test_watch_cancel_from_another_thread(server) -> None:
    watch = amc_client.watch_state(server.addr)
    next_within(watch, 5)
    threading.Timer(0.3, watch.cancel).start()
    started = time.monotonic()
    rest = list(watch)  # blocks until cancelled; ends without an error
    assert time.monotonic() - started < 3
    assert all(isinstance(s, State) for s in rest)


def test_watch_close_and_break(server) -> None:
    watch = amc_client.watch_state(server.addr)
    for _state in watch:
        break
    watch.close()
    with pytest.raises(StopIteration):
        next(watch)


def test_watch_reconnects_across_restart_on_same_port(own_server) -> None:
    own_server.write_session("r-before", status="active")
    addr = own_server.start()
    reconnects: list[amc_client.Reconnect] = []
    watch = amc_client.watch_state(addr, backoff_initial=0.1, backoff_max=0.5, max_retries=40,
                                   on_reconnect=reconnects.append)
    got: queue.Queue[State] = queue.Queue()
    consumer = threading.Thread(target=lambda: [got.put(s) for s in watch], daemon=True)
    consumer.start()
    try:
        first = got.get(timeout=5)
        assert "r-before" in ids(first)
        own_server.restart_same_port()  # SIGTERM: the open stream ends with UNAVAILABLE
        own_server.write_session("r-after", status="needs_attention")
        deadline = time.monotonic() + 15
        state: Optional[State] = None
        while time.monotonic() < deadline:
            state = got.get(timeout=max(0.1, deadline - time.monotonic()))
            if state.instance_id != first.instance_id and "r-after" in ids(state):
                break
        assert state is not None and state.instance_id != first.instance_id
        assert {"r-before", "r-after"} <= ids(state)
        assert reconnects, "on_reconnect should have been called"
        assert isinstance(reconnects[0].error, (AmcUnavailableError, AmcTimeoutError))
        assert reconnects[0].since_revision == first.revision
        assert reconnects[0].instance_id == first.instance_id
        assert watch.instance_id == state.instance_id
    finally:
        watch.cancel()
        consumer.join(5)
    assert not consumer.is_alive()


def next_event(watch: amc_client.EventWatch, timeout: float = 5.0) -> amc_client.Event:
    """next(watch), failing the test instead of hanging."""
    timer = threading.Timer(timeout, watch.cancel)
    timer.start()
    try:
        return next(watch)
    except StopIteration:
        pytest.fail(f"no event within {timeout} s")
    finally:
        timer.cancel()


def test_watch_events_streams_attention(server) -> None:
    sid = unique_id("py-events")
    server.write_session(sid, status="active")
    with amc_client.watch_state(server.addr) as watch:
        wait_for(watch, lambda st: sid in ids(st))
    # since_event_id=1 replays every kept event (the call starts at the first next(), so "only new" could race).
    with amc_client.watch_events(server.addr, since_event_id=1, filter={"session_ids": [sid]},
                                 kinds=["attention_raised", "attention_cleared"]) as events:
        server.write_session(sid, status="needs_attention", attention={"kind": "permission", "tool_name": "Bash"})
        raised = next_event(events)
        assert raised.kind == amc_client.EventKind.Value("EVENT_KIND_ATTENTION_RAISED")
        assert (raised.session_id, raised.attention_kind, raised.raw_kind) == (sid, "permission", "attention_raised")
        server.write_session(sid, status="active")
        cleared = next_event(events)
        assert cleared.raw_kind == "attention_cleared" and cleared.id > raised.id
        assert events.last_event_id == cleared.id


def test_watch_events_resumes_across_restart(own_server) -> None:
    own_server.write_session("e1", status="active")
    addr = own_server.start()
    with amc_client.watch_events(addr, since_event_id=1, kinds=["attention_raised"]) as events:
        own_server.write_session("e1", status="needs_attention")
        raised = next_event(events)
    own_server.write_session("e1", status="done")  # two more events: attention_cleared, turn_done
    with amc_client.watch_state(addr) as watch:
        wait_for(watch, lambda st: any(s.status == amc_client.SESSION_STATUS_DONE for s in st.sessions))
    addr = own_server.restart_same_port()
    with amc_client.watch_events(addr, since_event_id=raised.id) as events:
        kinds = [next_event(events).raw_kind, next_event(events).raw_kind]
    assert kinds == ["attention_cleared", "turn_done"]


def test_watch_gives_up_when_server_stays_down(own_server) -> None:
    addr = own_server.start()
    watch = amc_client.watch_state(addr, max_retries=2, backoff_initial=0.1, backoff_max=0.2)
    next_within(watch, 5)
    own_server.stop()
    started = time.monotonic()
    with pytest.raises(AmcUnavailableError) as info:
        next(watch)
    assert time.monotonic() - started < 5
    assert "gave up after 2 reconnect attempts" in str(info.value)
    assert addr in str(info.value)


# --- dead or absent server: clear errors, no hangs


def test_get_state_absent_server(closed_port: int) -> None:
    target = f"127.0.0.1:{closed_port}"
    started = time.monotonic()
    with pytest.raises(AmcUnavailableError) as info:
        amc_client.get_state(target)
    assert time.monotonic() - started < 3
    assert target in str(info.value)
    assert isinstance(info.value, AmcError)


def test_get_state_hung_server() -> None:
    with socket.socket() as listener:  # accepts TCP connections, never speaks HTTP/2
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        target = "127.0.0.1:%d" % listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(AmcTimeoutError):
            amc_client.get_state(target, timeout=1.0)
        assert time.monotonic() - started < 3


def test_watch_absent_server(closed_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(AmcUnavailableError):
        next(amc_client.watch_state(f"127.0.0.1:{closed_port}", max_retries=1, backoff_initial=0.1))
    assert time.monotonic() - started < 3


def test_watch_hung_server() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        target = "127.0.0.1:%d" % listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(AmcTimeoutError):
            next(amc_client.watch_state(target, max_retries=0, connect_timeout=0.5))
        assert time.monotonic() - started < 3


# --- examples/wait_for_attention.py


def run_example(addr: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--target", addr, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_example_prints_waiting_session(server) -> None:
    proc = run_example(server.addr, "--timeout", "10")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert PREPARED in out
    assert "Proceed?" in out


def test_example_blocks_until_attention(own_server) -> None:
    own_server.write_session("busy", status="active")
    addr = own_server.start()
    proc = run_example(addr, "--timeout", "20")
    try:
        time.sleep(1.5)
        assert proc.poll() is None, "nothing needs attention yet: the example must keep waiting"
        own_server.write_session("asks", status="needs_attention",
                                 pending_questions=[{"question": "Which one?", "header": "Pick",
                                                     "options": [{"label": "A", "description": "first"}],
                                                     "multiSelect": False}])
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "asks needs attention" in out
    assert "Which one?" in out and "- A: first" in out


def test_example_absent_server(closed_port: int) -> None:
    proc = run_example(f"127.0.0.1:{closed_port}", "--retries", "1")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "unavailable" in err
