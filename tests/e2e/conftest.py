"""Fixtures of amc's end-to-end suite (real Claude Code, Codex and Zellij; see docs/real-agents.md)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness.rig import Rig  # noqa: E402
from harness.tools import ToolMissing, find_tools  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def tools(tmp_path_factory):
    try:
        found = find_tools()
    except ToolMissing as e:
        pytest.fail(f"pinned tools missing: {e}", pytrace=False)
    # A private copy of amc: `cargo build` elsewhere may replace target/debug/amc mid-run, and the hook Claude Code
    # runs is this binary (`amc hooks install` records its own path).
    copy = tmp_path_factory.mktemp("amc-bin") / "amc"
    shutil.copy2(found.amc, copy)
    return dataclasses.replace(found, amc=copy)


@pytest.fixture
def rig(tools, request):
    r = Rig(tools, request.node.name.removeprefix("test_"))
    try:
        yield r
    finally:
        rep = getattr(request.node, "rep_call", None)
        failed = rep is None or rep.failed or os.environ.get("AMC_E2E_KEEP") == "1"
        leftover = r.close(failed)
        if leftover:
            print(f"[rig] cleanup ended {len(leftover)} leftover processes: {leftover}")


# -- timings: every latency a test measured, printed at the end (and written to $AMC_E2E_TIMINGS as JSON lines) --
TIMINGS: list[dict] = []


@pytest.fixture
def timing(request):
    """``timing(label, seconds, limit=None)`` records one measured latency (and asserts ``seconds <= limit``)."""

    def record(label: str, seconds: float, limit: float | None = None) -> float:
        row = {"test": request.node.name, "what": label, "seconds": round(seconds, 3), "limit": limit}
        TIMINGS.append(row)
        path = os.environ.get("AMC_E2E_TIMINGS")
        if path:
            import json

            with open(path, "a") as f:
                f.write(json.dumps(row) + "\n")
        if limit is not None:
            assert seconds <= limit, f"{label}: {seconds:.3f} s > {limit} s"
        return seconds

    return record


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("amc e2e timings")
        for row in TIMINGS:
            limit = f" (limit {row['limit']} s)" if row["limit"] is not None else ""
            terminalreporter.write_line(f"{row['seconds']:7.3f} s  {row['test']}: {row['what']}{limit}")
