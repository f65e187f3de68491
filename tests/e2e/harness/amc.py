"""``amc serve`` for one test, and a watcher on its SSE stream (``/api/stream``) that records every frame with the
time it arrived, so a test can ask "when did a watcher first see X" and compare it with the hook's event-log time or
the mock's response time.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .world import World


@dataclass
class Frame:
    t: float
    revision: str | None
    state: dict


def parse_time(s: str) -> float:
    """RFC 3339 (``2026-11-25T05:23:53.947109Z``, ``+00:00``) → epoch seconds."""
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class Amc:
    def __init__(self, world: World) -> None:
        self.world = world
        self.addr_file = world.root / "amc.addr"
        self.log_path = world.logs / "amc.log"
        self.proc: subprocess.Popen | None = None
        self.addr = ""
        self.frames: list[Frame] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.stream_errors: list[str] = []

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self, timeout: float = 30) -> "Amc":
        """Starts ``amc serve`` (again, after ``stop``: a restart over the same data dir) and its SSE watcher."""
        self._stop.clear()
        self.addr_file.unlink(missing_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.world.tools.amc), "serve", "--listen", "127.0.0.1:0", "--addr-file", str(self.addr_file)],
            env=self.world.amc_env(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"amc serve exited {self.proc.returncode}; log:\n{self.log_tail()}")
            if self.addr_file.exists() and self.addr_file.read_text().strip():
                self.addr = self.addr_file.read_text().strip().removeprefix("http://")
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"amc serve wrote no address in {timeout}s; log:\n{self.log_tail()}")
        self._watcher = threading.Thread(target=self._watch, name="amc-sse", daemon=True)
        self._watcher.start()
        self.wait(lambda st: True, timeout=10, what="the first SSE frame")
        return self

    def post(self, path: str, body: dict) -> tuple[int, Any]:
        """POSTs JSON to ``path`` with the data dir's `act` token; returns the status and the JSON answer."""
        token = (self.world.data_dir / "token").read_text().strip()
        conn = http.client.HTTPConnection(self.addr, timeout=15)
        try:
            conn.request("POST", path, json.dumps(body),
                         {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        finally:
            conn.close()

    def stop(self) -> int | None:
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None

    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- HTTP --------------------------------------------------------------------------------------------------
    def get(self, path: str) -> Any:
        host, port = self.addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            return json.loads(body)
        finally:
            conn.close()

    def state(self) -> dict:
        return self.get("/api/state")

    def events(self, session_id: str) -> list[dict]:
        return self.get(f"/api/events/{session_id}").get("events", [])

    # -- SSE watcher -------------------------------------------------------------------------------------------
    def _watch(self) -> None:
        host, port = self.addr.rsplit(":", 1)
        last_id = None
        while not self._stop.is_set():
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                headers = {"Accept": "text/event-stream"}
                if last_id:
                    headers["Last-Event-ID"] = last_id
                conn.request("GET", "/api/stream", headers=headers)
                resp = conn.getresponse()
                event_id, data = None, []
                while not self._stop.is_set():
                    raw = resp.readline()
                    if not raw:
                        break
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line == "":
                        if data:
                            try:
                                st = json.loads("\n".join(data))
                                with self._cond:
                                    self.frames.append(Frame(time.time(), event_id, st))
                                    self._cond.notify_all()
                            except json.JSONDecodeError as e:
                                self.stream_errors.append(f"bad data: {e}")
                            last_id = event_id or last_id
                        event_id, data = None, []
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                conn.close()
            except (OSError, http.client.HTTPException) as e:
                if not self._stop.is_set():
                    self.stream_errors.append(f"{time.time():.3f} stream: {e}")
                    time.sleep(0.2)

    def latest(self) -> dict:
        with self._cond:
            return self.frames[-1].state if self.frames else {"sessions": []}

    def wait(self, pred: Callable[[dict], Any], timeout: float = 30, what: str = "condition", since: float = 0.0) -> tuple[float, Any]:
        """Waits for the first frame (received at or after ``since``) for which ``pred(state)`` is truthy; returns
        (arrival time, pred's value). Frames that arrived before the call count too, so a test never misses a state
        that came and went quickly."""
        deadline = time.time() + timeout
        seen = 0
        with self._cond:
            while True:
                for fr in self.frames[seen:]:
                    if fr.t >= since:
                        try:
                            v = pred(fr.state)
                        except Exception:
                            v = None
                        if v:
                            return fr.t, v
                seen = len(self.frames)
                left = deadline - time.time()
                if left <= 0:
                    last = self.frames[-1].state if self.frames else None
                    raise AssertionError(f"amc: {what} not seen on /api/stream within {timeout}s; last state: "
                                         f"{json.dumps(last, indent=1)[:4000] if last else None}")
                self._cond.wait(min(left, 0.5))


# -- helpers on states ----------------------------------------------------------------------------------------------
def sessions(state: dict) -> list[dict]:
    return state.get("sessions") or []


def session(state: dict, session_id: str) -> dict | None:
    for s in sessions(state):
        if s.get("session_id") == session_id:
            return s
    return None


def read_events(world: World, session_id: str) -> list[dict]:
    """The hook's event log, read from disk (``events/<id>.jsonl``)."""
    p = Path(world.data_dir) / "events" / f"{session_id}.jsonl"
    out = []
    try:
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    except OSError:
        pass
    return out
