"""A real Zellij session, headless: a Zellij client runs inside a detached tmux session of a private tmux server
(``tmux -L <socket>``), and the tests drive it with ``zellij --session S action ...`` (new-pane prints the pane id;
write-chars/write with ``--pane-id`` type into that pane; dump-screen reads it).
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

from .world import World


class ZellijError(RuntimeError):
    pass


class Zellij:
    def __init__(self, world: World, session: str) -> None:
        self.world = world
        self.session = session
        self.tmux_socket = f"amc-e2e-{world.run_id}-{session}"
        self.log = world.logs / f"zellij-{session}.log"
        self.started = False

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _zellij(self, *args: str, timeout: float = 20, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.world.tools.zellij), *args]
        out = subprocess.run(cmd, env=self.world.zellij_env(), capture_output=True, text=True, timeout=timeout)
        with open(self.log, "a") as f:
            f.write(f"$ {shlex.join(cmd)}\n-> {out.returncode} {out.stdout.strip()[:500]} {out.stderr.strip()[:500]}\n")
        if check and out.returncode != 0:
            raise ZellijError(f"{shlex.join(cmd)} exited {out.returncode}: {out.stderr.strip() or out.stdout.strip()}")
        return out

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.world.tools.tmux), "-L", self.tmux_socket, "-f", "/dev/null", *args]
        return subprocess.run(cmd, env=self.world.zellij_env(), capture_output=True, text=True, timeout=20, check=check)

    def action(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self._zellij("--session", self.session, "action", *args, **kw)

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self, timeout: float | None = None) -> "Zellij":
        """Starts the session and waits until it serves actions and has its first shell pane.

        Under load (2 shared cores) a Zellij client can take well over 30 s to bring its server up, and an action
        sent while the server socket exists but does not answer yet says "There is no active session!". So each
        attempt waits up to ``timeout`` (``AMC_E2E_ZELLIJ_START_S``, default 90 s), polling ``list-sessions`` and then
        ``list-panes``, and gives up early when the client process exits. A failed attempt is cleaned up and retried
        once; a second failure raises with both attempts' reasons, the client's last screen and the log's tail."""
        import os

        per_attempt = timeout if timeout is not None else float(os.environ.get("AMC_E2E_ZELLIJ_START_S", "90"))
        reasons: list[str] = []
        for attempt in (1, 2):
            reason = self._start_once(per_attempt)
            if reason is None:
                if reasons:
                    print(f"[zellij] session {self.session} came up on attempt {attempt} after "
                          f"{reasons[0].splitlines()[0]}")
                return self
            reasons.append(f"attempt {attempt}: {reason}")
            with open(self.log, "a") as f:
                f.write(f"# start attempt {attempt} failed: {reason}\n")
            self.stop()
            self._zellij("delete-session", "--force", self.session, check=False)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise ZellijError(f"zellij session {self.session} did not come up ({'; '.join(reasons)}); log tail:\n{tail}")

    def _start_once(self, timeout: float) -> str | None:
        """One start: None once the session is up, else why not (the client's screen included)."""
        import json

        zellij = shlex.quote(str(self.world.tools.zellij))
        # tmux exports TMUX/TMUX_PANE/TERM_PROGRAM into the client; strip them so the agents do not believe they run
        # under tmux (Claude Code would record a tmux pane and print tmux hints).
        inner = (f"exec env -u TMUX -u TMUX_PANE -u TERM_PROGRAM -u TERM_PROGRAM_VERSION "
                 f"{zellij} --session {shlex.quote(self.session)}")
        inner += f" 2>>{shlex.quote(str(self.log))}"
        # remain-on-exit keeps a crashed client's last screen for the error message.
        self._tmux("new-session", "-d", "-s", "z", "-x", "220", "-y", "50", inner, ";", "set-option", "-t", "z", "remain-on-exit", "on")
        self.started = True
        started = time.time()
        deadline = started + timeout
        last = "not listed by list-sessions"
        while time.time() < deadline:
            if self.session in self.live_sessions():
                # Wait for the first tab's shell pane: a pane opened before it exists would take its id 0.
                out = self.action("list-panes", "--json", check=False)
                if out.returncode != 0:
                    last = f"listed, but list-panes says {out.stderr.strip() or out.stdout.strip()!r}"
                else:
                    try:
                        if any(not p.get("is_plugin") for p in json.loads(out.stdout)):
                            return None
                        last = "listed, no shell pane yet"
                    except ValueError:
                        last = f"listed, list-panes printed {out.stdout[:200]!r}"
            elif self.client_exited():
                return f"the zellij client exited after {time.time() - started:.1f} s; screen:\n{self.client_screen()}"
            time.sleep(0.2)
        return f"not up in {timeout:.0f} s ({last}); screen:\n{self.client_screen()}"

    def client_exited(self) -> bool:
        """Whether the Zellij client in the tmux pane has exited (the pane stays, dead, with remain-on-exit)."""
        out = self._tmux("list-panes", "-t", "z", "-F", "#{pane_dead}", check=False)
        return out.returncode != 0 or out.stdout.strip() == "1"

    def live_sessions(self) -> list[str]:
        out = self._zellij("list-sessions", "--no-formatting", check=False)
        names = []
        for line in out.stdout.splitlines():
            if "[Created" in line and "EXITED" not in line:
                names.append(line.split(" [Created", 1)[0])
        return names

    def kill(self) -> None:
        """``zellij kill-session S`` (what the test measures), then the tmux server that hosted the client."""
        self._zellij("kill-session", self.session, check=False)

    def stop(self) -> None:
        if self.started:
            self._zellij("kill-session", self.session, check=False)
            self._tmux("kill-server", check=False)
            self.started = False

    def client_screen(self) -> str:
        out = self._tmux("capture-pane", "-p", "-t", "z", check=False)
        return out.stdout

    # -- panes -------------------------------------------------------------------------------------------------
    def new_pane(self, argv: list[str], cwd: Path, env: dict[str, str], name: str | None = None) -> str:
        """Opens a pane running ``argv`` in ``cwd`` with ``env`` added to the Zellij server's environment (which is
        the world's base environment: Zellij adds ``ZELLIJ``, ``ZELLIJ_SESSION_NAME``, ``ZELLIJ_PANE_ID``); returns its
        id (``"3"`` for ``terminal_3``)."""
        cmd = ["/usr/bin/env", *[f"{k}={v}" for k, v in env.items()], *argv]
        args = ["new-pane", "--cwd", str(cwd)]
        if name:
            args += ["--name", name]
        out = self.action(*args, "--", *cmd)
        pane = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
        if not pane.startswith("terminal_"):
            raise ZellijError(f"new-pane printed {out.stdout!r}, expected terminal_N")
        return pane.removeprefix("terminal_")

    def panes(self) -> list[dict]:
        import json

        out = self.action("list-panes", "--json")
        return json.loads(out.stdout)

    def type(self, pane: str, text: str, enter: bool = True) -> None:
        """Types ``text`` into the pane, then Enter as a separate write (like amc's own two-step submit)."""
        if text:
            self.action("write-chars", "--pane-id", f"terminal_{pane}", text)
        if enter:
            time.sleep(0.3)
            self.action("write", "--pane-id", f"terminal_{pane}", "13")

    def key(self, pane: str, *codes: int) -> None:
        self.action("write", "--pane-id", f"terminal_{pane}", *[str(c) for c in codes])

    def escape(self, pane: str) -> None:
        self.key(pane, 27)

    def screen(self, pane: str) -> str:
        out = self.action("dump-screen", "--pane-id", f"terminal_{pane}", check=False)
        return out.stdout

    def wait_screen_gone(self, pane: str, needle: str, timeout: float = 30) -> str:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            last = self.screen(pane)
            if needle not in last:
                return last
            time.sleep(0.25)
        raise ZellijError(f"{needle!r} still on pane {pane} after {timeout}s; screen:\n{last}")

    def wait_screen(self, pane: str, needle: str, timeout: float = 30) -> str:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            last = self.screen(pane)
            if needle in last:
                return last
            time.sleep(0.25)
        raise ZellijError(f"{needle!r} not on pane {pane} within {timeout}s; screen:\n{last}")
