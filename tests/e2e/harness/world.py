"""A throw-away world for one test: a temp HOME with Claude Code, Codex and Zellij configured so no first-run dialog
blocks, amc's data dir, a private Zellij socket dir, project dirs, and the environments each program gets.

What each agent needs (found by running the pinned versions under tmux and reading the screen):

- Claude Code 2.1.331: ``$CLAUDE_CONFIG_DIR/.claude.json`` (and ``~/.claude.json``) with ``hasCompletedOnboarding``,
  the API key approved (``customApiKeyResponses.approved`` holds the key's last 20 characters) and
  ``projects[<cwd>].hasTrustDialogAccepted``. No permission prompt shows for the tools the tests use: 2.1.331's
  default permission mode is ``auto``.
- Codex 0.169.0: a custom ``model_providers`` entry (``wire_api = "responses"``), the project trusted, and the three
  notices it would otherwise show once (``[notice.model_migrations]``, ``[tui.model_availability_nux]``,
  ``tui.screen_reader_detection_done``).
- Zellij 0.45.1: ``~/.config/zellij/config.kdl`` (no setup wizard), a private ``ZELLIJ_SOCKET_DIR`` so the tests
  never see or touch the machine's real sessions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .procs import MARK
from .tools import Tools

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class World:
    def __init__(self, tools: Tools, name: str = "t", keep: bool = False) -> None:
        self.tools = tools
        # The run's mark (scripts/test-e2e exports one for the whole run) plus one per world.
        self.run_id = f"{os.environ.get(MARK) or 'adhoc'}.{uuid.uuid4().hex[:8]}"
        self.root = Path(tempfile.mkdtemp(prefix=f"amc-e2e-{name[:24]}-"))
        self.keep = keep
        self.home = self.root / "home"
        self.claude_dir = self.home / ".claude"
        self.codex_home = self.home / ".codex"
        self.data_dir = self.root / "data"
        # Extra environment for `amc serve` (e.g. AMC_APPROVALS_HOLD), set before it starts.
        self.amc_extra: dict[str, str] = {}
        self.zsock = self.root / "zsock"
        self.logs = self.root / "logs"
        for d in (self.home, self.claude_dir, self.codex_home, self.data_dir, self.logs, self.home / ".config" / "zellij"):
            d.mkdir(parents=True, exist_ok=True)
        self.zsock.mkdir(mode=0o700)
        self.projects: list[Path] = []
        self.anthropic_url: str | None = None
        self.openai_url: str | None = None
        (self.home / ".config" / "zellij" / "config.kdl").write_text(
            "// amc e2e: no wizard, no tips, nothing saved between runs\n"
            "show_startup_tips false\nshow_release_notes false\nsession_serialization false\n"
            "pane_frames false\ndefault_shell \"bash\"\nmouse_mode false\n"
        )

    # -- projects ----------------------------------------------------------------------------------------------
    def project(self, name: str) -> Path:
        p = self.root / "projects" / name
        p.mkdir(parents=True, exist_ok=True)
        self.projects.append(p)
        return p

    # -- configuration -----------------------------------------------------------------------------------------
    def configure_claude(self, anthropic_url: str, api_key: str = "dummy") -> None:
        self.anthropic_url = anthropic_url
        self.claude_api_key = api_key
        state = {
            "hasCompletedOnboarding": True,
            "numStartups": 1,
            "installMethod": "npm",
            "autoUpdates": False,
            "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
            "projects": {str(p): {"hasTrustDialogAccepted": True, "allowedTools": [], "hasCompletedProjectOnboarding": True}
                         for p in self.projects},
        }
        for path in (self.home / ".claude.json", self.claude_dir / ".claude.json"):
            path.write_text(json.dumps(state, indent=2))

    def install_hooks(self) -> str:
        """``amc hooks install --settings $HOME/.claude/settings.json`` (the command under test installs itself)."""
        out = subprocess.run(
            [str(self.tools.amc), "hooks", "install", "--settings", str(self.claude_dir / "settings.json")],
            env=self.amc_env(), capture_output=True, text=True, timeout=60,
        )
        if out.returncode != 0:
            raise RuntimeError(f"amc hooks install failed ({out.returncode}): {out.stderr}")
        return out.stdout

    def install_codex_hooks(self) -> str:
        """``amc hooks install --agent codex``: writes ``$CODEX_HOME/hooks.json`` and has the real Codex (its npm
        launcher, ``codex app-server``) record its trust in them."""
        env = self.amc_env()
        env["PATH"] = f"{self.tools.codex.parent}:{env['PATH']}:/usr/local/bin"
        out = subprocess.run(
            [str(self.tools.amc), "hooks", "install", "--agent", "codex", "--codex-bin", str(self.tools.codex)],
            env=env, cwd=str(self.projects[0]) if self.projects else None, capture_output=True, text=True, timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"amc hooks install --agent codex failed ({out.returncode}): {out.stderr}")
        return out.stdout + out.stderr

    def codex_approvals(self) -> None:
        """Codex asks before a command that wants to leave its sandbox (the model asks for escalation)."""
        cfg = self.codex_home / "config.toml"
        cfg.write_text(cfg.read_text().replace('approval_policy = "never"', 'approval_policy = "on-request"')
                       .replace('sandbox_mode = "danger-full-access"', 'sandbox_mode = "workspace-write"'))

    def configure_codex(self, openai_url: str) -> None:
        self.openai_url = openai_url
        trust = "".join(f'\n[projects."{p}"]\ntrust_level = "trusted"\n' for p in self.projects)
        (self.codex_home / "config.toml").write_text(f"""# amc e2e: the mock Responses API, no first-run notices
model = "gpt-5.5"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.mock]
name = "mock"
base_url = "{openai_url}/v1"
wire_api = "responses"
env_key = "MOCK_OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0
{trust}
[analytics]
enabled = false

[tui]
screen_reader_detection_done = true

[tui.model_availability_nux]
"gpt-6.1-sol" = 1

[notice.model_migrations]
"gpt-5.5" = "gpt-6-sol"
""")

    # -- environments ------------------------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "PATH": BASE_PATH,
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "SHELL": "/bin/bash",
            "USER": os.environ.get("USER", "root"),
            "TMPDIR": "/tmp",
            "ZELLIJ_SOCKET_DIR": str(self.zsock),
            MARK: self.run_id,
        }

    def amc_env(self) -> dict[str, str]:
        env = self.base_env()
        env.update({
            "AMC_DATA_DIR": str(self.data_dir),
            "CLAUDE_CONFIG_DIR": str(self.claude_dir),
            "CODEX_HOME": str(self.codex_home),
            "AMC_ZELLIJ_BIN": str(self.tools.zellij),
            "RUST_LOG": os.environ.get("AMC_E2E_RUST_LOG", "info"),
            "NO_COLOR": "1",
        })
        env.update(self.amc_extra)
        return env

    def claude_env(self) -> dict[str, str]:
        assert self.anthropic_url, "configure_claude first"
        env = self.base_env()
        env.update({
            "AMC_DATA_DIR": str(self.data_dir),  # for the hook
            "CLAUDE_CONFIG_DIR": str(self.claude_dir),
            "ANTHROPIC_BASE_URL": self.anthropic_url,
            "ANTHROPIC_API_KEY": self.claude_api_key,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        })
        return env

    def codex_env(self) -> dict[str, str]:
        assert self.openai_url, "configure_codex first"
        env = self.base_env()
        env.update({"CODEX_HOME": str(self.codex_home), "MOCK_OPENAI_API_KEY": "dummy",
                    "AMC_DATA_DIR": str(self.data_dir)})  # for `amc hook --agent codex`, when installed
        return env

    def zellij_env(self) -> dict[str, str]:
        return self.base_env()

    # -- teardown ----------------------------------------------------------------------------------------------
    def remove(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
