"""What the two model-API mocks share: a threaded loopback HTTP server, a request log, scripted rules.

A *rule* says which request it answers (a predicate on the parsed request) and what to answer. Rules are tried in
the order they were added; the first match wins. A rule can be used any number of times (a retry of the same
request gets the same answer) unless ``times`` limits it. Requests no rule matches get the mock's default answer, and
every request — matched or not, known path or not — lands in ``log`` with its time, path, body and what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Logged:
    """One request as the mock saw it."""

    t_received: float
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    rule: str | None = None
    t_sent: float | None = None
    reply_summary: Any = None


@dataclass
class Rule:
    name: str
    match: Callable[[Any], bool]
    reply: Any
    times: int | None = None
    used: int = 0
    # When set, the mock waits for this event before answering (lets a test act "mid-turn").
    gate: threading.Event | None = None
    delay: float = 0.0


class MockServer:
    """Base class: subclasses implement ``handle(handler, logged)``."""

    name = "mock"

    def __init__(self) -> None:
        self.log: list[Logged] = []
        self.rules: list[Rule] = []
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:  # quiet
                pass

            def _read_body(self) -> Any:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    raw = _read_chunked(self.rfile)
                if self.headers.get("content-encoding", "") == "gzip":
                    import gzip

                    raw = gzip.decompress(raw)
                # (Neither agent compresses request bodies to a custom base URL; anything else is logged as text.)
                if not raw:
                    return None
                try:
                    return json.loads(raw)
                except Exception:
                    return raw.decode("utf-8", "replace")[:2000]

            def _dispatch(self, method: str) -> None:
                logged = Logged(time.time(), method, self.path, {k.lower(): v for k, v in self.headers.items()}, None)
                try:
                    logged.body = self._read_body()
                except Exception as e:  # a broken body is logged, not fatal
                    logged.body = f"<unreadable body: {e}>"
                with mock._lock:
                    mock.log.append(logged)
                try:
                    mock.handle(self, logged)
                except (BrokenPipeError, ConnectionResetError):
                    logged.reply_summary = "client went away"
                finally:
                    logged.t_sent = logged.t_sent or time.time()
                    with mock._cond:
                        mock._cond.notify_all()

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_HEAD(self) -> None:
                self._dispatch("HEAD")

            def do_PUT(self) -> None:
                self._dispatch("PUT")

            def do_DELETE(self) -> None:
                self._dispatch("DELETE")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"{self.name}-{self.port}", daemon=True)

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self) -> "MockServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ---------------------------------------------------------------------------------------------
    def add_rule(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def pick_rule(self, request: Any) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times is not None and rule.used >= rule.times:
                    continue
                try:
                    ok = rule.match(request)
                except Exception:
                    ok = False
                if ok:
                    rule.used += 1
                    return rule
        return None

    def wait_for(self, pred: Callable[[Logged], bool], timeout: float = 30.0) -> Logged:
        """Waits until a logged request satisfies ``pred`` (after its answer was sent); returns it."""
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for entry in self.log:
                    if entry.t_sent is not None and pred(entry):
                        return entry
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no request matched within {timeout}s; log: {self.summary()}")
                self._cond.wait(min(left, 0.5))

    def served(self, rule_name: str) -> list[Logged]:
        with self._lock:
            return [e for e in self.log if e.rule == rule_name]

    def summary(self) -> list[str]:
        with self._lock:
            return [f"{e.method} {e.path} -> {e.status} rule={e.rule}" for e in self.log]

    def dump_log(self, path: str) -> None:
        with self._lock:
            rows = [
                {
                    "t_received": e.t_received,
                    "t_sent": e.t_sent,
                    "method": e.method,
                    "path": e.path,
                    "status": e.status,
                    "rule": e.rule,
                    "reply": e.reply_summary,
                    "body": e.body,
                }
                for e in self.log
            ]
        with open(path, "w") as f:
            for row in rows:
                f.write(json.dumps(row, default=str) + "\n")

    def handle(self, handler: BaseHTTPRequestHandler, logged: Logged) -> None:
        raise NotImplementedError


def _read_chunked(rfile: Any) -> bytes:
    out = b""
    while True:
        line = rfile.readline().strip()
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            rfile.readline()
            return out
        out += rfile.read(size)
        rfile.readline()


def send_json(handler: BaseHTTPRequestHandler, logged: Logged, status: int, obj: Any, headers: dict | None = None) -> None:
    body = json.dumps(obj).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    # Stamped before the last bytes go out, so a client that has the whole answer always finds it logged as sent.
    logged.status = status
    logged.t_sent = time.time()
    if logged.method != "HEAD":
        handler.wfile.write(body)
    handler.wfile.flush()


def send_sse(handler: BaseHTTPRequestHandler, logged: Logged, events: list[tuple[str, Any]], headers: dict | None = None,
             pause: float = 0.0, gate: threading.Event | None = None, gate_after: int = 1) -> None:
    """Streams ``events`` ((event name, data object)) as SSE with chunked encoding, then ends the response.

    With ``gate``, the first ``gate_after`` events go out, then the stream stalls until the gate is set (at most
    10 minutes): the agent sees a turn that has started and is still running.
    """
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.send_header("transfer-encoding", "chunked")
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()

    def chunk(data: bytes) -> None:
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()

    for i, (name, data) in enumerate(events):
        if gate is not None and i == gate_after:
            logged.reply_summary = {"stalled_at": i, "then": logged.reply_summary}
            gate.wait(timeout=600)
        chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        if pause:
            time.sleep(pause)
    logged.status = 200
    logged.t_sent = time.time()
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
