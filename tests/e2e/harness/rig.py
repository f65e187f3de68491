"""One test's whole set-up: the world, the two mocks, amc serve (with its hook installed) and Zellij sessions, plus
the moves a test makes (start an agent in a pane, type, wait) and the cleanup that ends every process by pid."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import procs
from .amc import Amc, read_events
from .mock_anthropic import MockAnthropic
from .mock_openai import MockOpenAI
from .tools import Tools
from .world import World
from .zellij import Zellij


# amc's Zellij list cache (sources/zellij.rs CACHE_TTL, 5 s) plus a margin.
ZELLIJ_CACHE_SETTLE = 5.5


class Rig:
    def __init__(self, tools: Tools, name: str) -> None:
        self.tools = tools
        self.name = name
        self.world = World(tools, name)
        self.anthropic = MockAnthropic().start()
        self.openai = MockOpenAI().start()
        self.project = self.world.project("proj")
        self.project_b = self.world.project("proj-b")
        self.world.configure_claude(self.anthropic.url)
        self.world.configure_codex(self.openai.url)
        self.hooks_output = self.world.install_hooks()
        self.amc = Amc(self.world)
        self.zellijs: dict[str, Zellij] = {}
        self.notes: list[str] = []

    def start_amc(self) -> Amc:
        """Starts ``amc serve`` (once) and its SSE watcher."""
        if not self.amc.alive():
            self.amc.start()
        return self

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"[rig] {text}")

    # -- zellij ------------------------------------------------------------------------------------------------
    def zellij(self, session: str, settle: bool = True) -> Zellij:
        """Starts (once) and returns Zellij session ``session``.

        amc caches the Zellij list for 5 s and removes a ``starting`` session whose Zellij session is missing from
        it, so a Claude started in a Zellij session created after amc's last look is trashed as an orphan (reported
        by test_claude.py::test_claude_in_a_brand_new_zellij_session). Tests that are not about that start their
        Zellij sessions before amc, or, with ``settle``, wait out the cache when amc already runs."""
        if session not in self.zellijs:
            self.zellijs[session] = Zellij(self.world, session).start()
            if settle and self.amc.alive():
                time.sleep(ZELLIJ_CACHE_SETTLE)
        return self.zellijs[session]

    # -- agents ------------------------------------------------------------------------------------------------
    def start_claude(self, z: Zellij, args: list[str] | None = None, cwd: Path | None = None) -> str:
        """Starts Claude Code in a new pane of ``z``; returns the pane id once its screen shows the prompt box."""
        self.start_amc()
        pane = z.new_pane([str(self.tools.claude), *(args or [])], cwd or self.project, self.world.claude_env(), name="claude")
        z.wait_screen(pane, "❯", timeout=60)
        return pane

    def start_codex(self, z: Zellij, args: list[str] | None = None, cwd: Path | None = None) -> str:
        """Starts Codex (through its npm launcher, as a user would) in a new pane; returns the pane id once the TUI
        shows its composer."""
        self.start_amc()
        pane = z.new_pane([str(self.tools.codex), *(args or [])], cwd or self.project, self.world.codex_env(), name="codex")
        z.wait_screen(pane, "Ask Codex to do anything", timeout=60)
        return pane

    def claude_session_file(self, zellij_session: str, pane: str, timeout: float = 30) -> dict:
        """The hook's session file for the Claude in that pane (the harness's own view of the id, from disk)."""
        deadline = time.time() + timeout
        sessions = self.world.data_dir / "sessions"
        while time.time() < deadline:
            for f in sorted(sessions.glob("*.json")) if sessions.exists() else []:
                try:
                    d = json.loads(f.read_text())
                except (OSError, json.JSONDecodeError):
                    continue
                if d.get("zellij_session") == zellij_session and str(d.get("zellij_pane")) == pane:
                    return d
            time.sleep(0.1)
        trashed = [t.name for t in (self.world.data_dir / "trash").glob("*")] if (self.world.data_dir / "trash").exists() else []
        raise AssertionError(f"no hook session file for pane {zellij_session}:{pane} in {sessions} after {timeout}s "
                             f"(trash: {trashed}; amc log: {self.amc.log_tail(5)}; hook log: {self.hook_log()})")

    def claude_pid_files(self, timeout: float = 20) -> list[dict]:
        """Claude Code's own ``sessions/<pid>.json`` records (waits for at least one)."""
        deadline = time.time() + timeout
        while True:
            out = []
            for f in sorted((self.world.claude_dir / "sessions").glob("*.json")):
                try:
                    out.append(json.loads(f.read_text()))
                except (OSError, json.JSONDecodeError):
                    pass
            if out or time.time() > deadline:
                if not out:
                    raise AssertionError("Claude wrote no sessions/<pid>.json")
                return out
            time.sleep(0.1)

    def claude_pid_file(self, session_id: str, timeout: float = 20) -> dict:
        """Claude Code's own ``sessions/<pid>.json`` for a session."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for f in (self.world.claude_dir / "sessions").glob("*.json"):
                try:
                    d = json.loads(f.read_text())
                except (OSError, json.JSONDecodeError):
                    continue
                if d.get("sessionId") == session_id:
                    return d
            time.sleep(0.1)
        raise AssertionError(f"Claude wrote no sessions/<pid>.json for {session_id}")

    def hook_event(self, session_id: str, event: str, after: float = 0.0, timeout: float = 30) -> tuple[float, dict]:
        """Waits for the hook's event-log line ``event`` (time ≥ ``after``); returns (its time, the line)."""
        from .amc import parse_time

        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in read_events(self.world, session_id):
                if line.get("event") == event and parse_time(line["at"]) >= after:
                    return parse_time(line["at"]), line
            time.sleep(0.05)
        raise AssertionError(f"no {event} in the hook's event log of {session_id} within {timeout}s: "
                             f"{read_events(self.world, session_id)}")

    def hook_log(self) -> str:
        p = self.world.data_dir / "hook.log"
        return p.read_text()[-2000:] if p.exists() else "(no hook.log)"

    def codex_rollouts(self) -> list[Path]:
        return sorted((self.world.codex_home / "sessions").rglob("rollout-*.jsonl"))

    def wait_rollout(self, known: list[Path] | None = None, timeout: float = 30) -> Path:
        known = known or []
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = [p for p in self.codex_rollouts() if p not in known]
            if new:
                return new[-1]
            time.sleep(0.1)
        raise AssertionError("Codex wrote no new rollout")

    def agent_pids(self) -> dict[int, str]:
        """This run's running agent processes: pid → comm."""
        return {p: procs.comm(p) for p in procs.marked(self.world.run_id)
                if procs.running(p) and procs.comm(p) in ("claude", "codex", "node")}

    # -- teardown ----------------------------------------------------------------------------------------------
    def dump(self) -> None:
        """Writes what a failing test needs to be understood next to the logs."""
        logs = self.world.logs
        self.anthropic.dump_log(str(logs / "mock-anthropic.jsonl"))
        self.openai.dump_log(str(logs / "mock-openai.jsonl"))
        for name, z in self.zellijs.items():
            try:
                for p in z.panes():
                    if not p.get("is_plugin"):
                        (logs / f"screen-{name}-{p['id']}.txt").write_text(z.screen(str(p["id"])))
            except Exception as e:  # the session may be gone
                (logs / f"screen-{name}.err").write_text(str(e))
        try:
            (logs / "final-state.json").write_text(json.dumps(self.amc.state(), indent=1))
        except Exception:
            pass

    def _remove_stale_claude_sockets(self) -> None:
        """Claude Code listens on ``/tmp/cc-socks/<pid>.sock`` (``messagingSocketPath`` in its pid file) and leaves it
        behind when killed; remove the ones of this world's dead Claude processes."""
        for f in (self.world.claude_dir / "sessions").glob("*.json"):
            try:
                d = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            sock = d.get("messagingSocketPath")
            if isinstance(sock, str) and sock.startswith("/tmp/cc-socks/") and not procs.running(int(d.get("pid", 0))):
                try:
                    os.unlink(sock)
                except OSError:
                    pass

    def close(self, failed: bool) -> list[int]:
        if failed:
            self.world.keep = True
            try:
                self.dump()
            except Exception as e:
                print(f"[rig] dump failed: {e}")
            print(f"[rig] kept {self.world.root} (logs in {self.world.logs})")
        for z in self.zellijs.values():
            try:
                z.stop()
            except Exception:
                pass
        self.amc.stop()
        # Everything left that this world started (agents, Codex's daemon, zellij servers): by pid.
        leftover = procs.kill_marked(self.world.run_id)
        self._remove_stale_claude_sockets()
        self.anthropic.stop()
        self.openai.stop()
        self.world.remove()
        return leftover


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
