"""The pinned agent and Zellij versions, where the harness finds them, and the check that they are what was pinned.

Installation is ``scripts/test-e2e``'s job (npm and ``cargo install --locked``, cached under ``$AMC_E2E_TOOLS``,
default ``~/.cache/amc-e2e``); the suite itself only verifies and fails with the reason when a tool is missing.
To move to a new version, change its one line in ``tests/e2e/pins.env`` (docs/real-agents.md).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PINS_FILE = Path(__file__).resolve().parents[1] / "pins.env"


def read_pins(path: Path = PINS_FILE) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            pins[k.strip()] = v.strip()
    return pins


_PINS = read_pins()
CLAUDE_VERSION = _PINS["CLAUDE_CODE_VERSION"]
CODEX_VERSION = _PINS["CODEX_VERSION"]
ZELLIJ_VERSION = _PINS["ZELLIJ_VERSION"]


def tools_dir() -> Path:
    return Path(os.environ.get("AMC_E2E_TOOLS") or Path.home() / ".cache" / "amc-e2e")


@dataclass(frozen=True)
class Tools:
    claude: Path
    codex: Path
    zellij: Path
    tmux: Path
    amc: Path


class ToolMissing(RuntimeError):
    pass


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"<cannot run: {e}>"
    return (out.stdout + out.stderr).strip()


def find_tools() -> Tools:
    """Returns the pinned tools, or raises ToolMissing naming what is missing or has the wrong version."""
    t = tools_dir()
    npm_bin = t / "npm" / "node_modules" / ".bin"
    tools = Tools(
        claude=npm_bin / "claude",
        codex=npm_bin / "codex",
        zellij=t / "zellij" / "bin" / "zellij",
        tmux=Path(_which("tmux") or "/usr/bin/tmux"),
        amc=Path(os.environ.get("AMC_BIN") or REPO / "target" / "debug" / "amc"),
    )
    problems = []
    for name, path, want, cmd in [
        ("claude", tools.claude, CLAUDE_VERSION, [str(tools.claude), "--version"]),
        ("codex", tools.codex, CODEX_VERSION, [str(tools.codex), "--version"]),
        ("zellij", tools.zellij, ZELLIJ_VERSION, [str(tools.zellij), "--version"]),
    ]:
        if not path.exists():
            problems.append(f"{name} {want} is not installed at {path} (run scripts/test-e2e, which installs it)")
            continue
        got = _version(cmd)
        if want not in got:
            problems.append(f"{name} at {path} reports {got!r}, pinned {want}")
    if not tools.tmux.exists():
        problems.append("tmux is not installed (apt-get install -y tmux)")
    if not tools.amc.exists():
        problems.append(f"amc is not built at {tools.amc} (cargo build --bin amc)")
    if problems:
        raise ToolMissing("; ".join(problems))
    return tools


def _which(name: str) -> str | None:
    for d in os.environ.get("PATH", "").split(":"):
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None
