"""Fixtures: a real amc server (the shared one scripts/test-clients started, or one of the test's own)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import Iterator, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]


class AmcServer:
    """An `amc serve` process on loopback with its own data dir."""

    def __init__(self, binary: str, data_root: Path):
        self.binary = binary
        self.root = data_root
        self.data_dir = data_root / "data"
        (self.data_dir / "sessions").mkdir(parents=True, exist_ok=True)
        self.addr: Optional[str] = None
        self.proc: Optional[subprocess.Popen] = None
        self._log = open(data_root / "amc.log", "ab")

    @property
    def port(self) -> int:
        assert self.addr
        return int(self.addr.rsplit(":", 1)[1])

    def start(self, listen: str = "127.0.0.1:0") -> str:
        addr_file = self.root / "addr"
        addr_file.unlink(missing_ok=True)
        env = dict(
            os.environ,
            HOME=str(self.root),
            AMC_DATA_DIR=str(self.data_dir),
            AMC_ZELLIJ_BIN="/nonexistent",
            AMC_HEARTBEAT_MS="500",
        )
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", listen, "--addr-file", str(addr_file)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if addr_file.exists() and addr_file.read_text().strip():
                self.addr = addr_file.read_text().strip()
                return self.addr
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"amc did not start (exit {self.proc.poll()}); log: {self.root / 'amc.log'}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart_same_port(self) -> str:
        port = self.port
        self.stop()
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.start(f"127.0.0.1:{port}")
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def write_session(self, session_id: str, **fields: object) -> None:
        write_session(self.data_dir, session_id, **fields)

    def close(self) -> None:
        self.stop()
        self._log.close()


def write_session(data_dir: Path, session_id: str, **fields: object) -> None:
    """Writes sessions/<id>.json atomically, as the hook does."""
    body = {
        "session_id": session_id,
        "status": "active",
        "agent": "claude",
        "project_dir": "/tmp/project",
        "zellij_session": "z",
        # One session per pane: amc moves all but one session of a pane to trash/ ("same zellij pane wins").
        "zellij_pane": str(zlib.crc32(session_id.encode())),
    }
    body.update(fields)
    sessions = data_dir / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    tmp = sessions / f".{session_id}.json.tmp"
    tmp.write_text(json.dumps(body))
    tmp.rename(sessions / f"{session_id}.json")


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def amc_bin() -> str:
    binary = os.environ.get("AMC_BIN", str(REPO / "target" / "debug" / "amc"))
    if not os.access(binary, os.X_OK):
        pytest.fail(f"amc binary not found at {binary}: run `cargo build` or set AMC_BIN")
    return binary


class SharedServer:
    def __init__(self, addr: str, data_dir: Path):
        self.addr = addr
        self.data_dir = data_dir

    def write_session(self, session_id: str, **fields: object) -> None:
        write_session(self.data_dir, session_id, **fields)


@pytest.fixture(scope="session")
def server(amc_bin: str) -> Iterator[SharedServer]:
    """The live server of scripts/test-clients (AMC_TEST_ADDR, AMC_TEST_DATA_DIR), or one started here."""
    addr = os.environ.get("AMC_TEST_ADDR")
    if addr:
        yield SharedServer(addr, Path(os.environ["AMC_TEST_DATA_DIR"]))
        return
    with tempfile.TemporaryDirectory(prefix="amc-py-") as tmp:
        own = AmcServer(amc_bin, Path(tmp))
        write_session(own.data_dir, "prepared-attention", status="needs_attention", zellij_pane="1",
                      pending_questions=[{"question": "Proceed?", "header": "", "options": [],
                                          "multiSelect": False}])
        own.start()
        try:
            yield SharedServer(own.addr or "", own.data_dir)
        finally:
            own.close()


@pytest.fixture
def own_server(amc_bin: str, tmp_path: Path) -> Iterator[AmcServer]:
    """A server of the test's own (not started yet), for restart and shutdown tests."""
    srv = AmcServer(amc_bin, tmp_path)
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
