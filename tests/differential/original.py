"""Runs the ORIGINAL Python collector (`StateMixin` of `../shared/seed/state.py`) on a data directory.

state.py is loaded as it is (never copied, never edited). It imports a few names from its package (`amc_server.config`,
`amc_server.zellij`, `amc_server.logging_utils`, `amc_server.agents`); this module provides them as stand-in modules,
and provides the four methods the mixin calls that live in other mixins of the original, which the seed does not
contain:

- `_discover_active_codex_sessions`: a no-op. The differential runs no `codex` process, so the original's discovery
  (pgrep/ps/lsof) would find nothing, and amc's finds nothing either (docs/collector.md "Codex discovery").
- `_get_claude_conversation_file(session_id, project_dir)`: the original's documented lookup,
  `~/.claude/projects/<project_dir with every "/" replaced by "-">/<session_id>.jsonl` (shared/docs/amc-original.md
  §1.8, §3.1). amc looks elsewhere too (docs/collector.md difference 11); the harness accounts for that in the data it
  gives the original (world.py, `claude_lookup_fixups`), not here.
- `_find_codex_transcript_file(session_id)`: the rollout under `~/.codex/sessions` whose file name ends with
  `<session_id>.jsonl` (amc-original.md §1.12, §7).
- `_get_context_usage_for_session(data)`: the transcript's context usage, by the formula of docs/context-usage.md
  (the original's `parsing.py` is not in the seed either). Only its presence and `current_tokens` matter to the
  collector's rules (`turn_start_tokens`, dedupe ranking), and those are what the harness compares.

Subprocesses are the real ones: `zellij` is `ZELLIJ_BIN` (the case's fake zellij) and `lsof` is found on `PATH`, which
the caller points at the case's fake `lsof` (nothing is open: no codex process runs).
"""

import importlib.util
import json
import logging
import os
import sys
import threading
import types
from pathlib import Path

LOGGER = logging.getLogger("amc-original")
LOGGER.addHandler(logging.NullHandler())
LOGGER.propagate = False

# The constants of amc_server/config.py that state.py uses (amc-original.md §1.6).
STALE_EVENT_AGE = 86400
STALE_STARTING_AGE = 3600

_CURRENT_FILE = {"path": None}


class TrackingPath(type(Path())):
    """A Path whose `read_text` records which file was read last, so the harness knows which session file each listed
    session came from (needed only to model docs/collector.md difference 9; see `OriginalCollector`)."""

    def read_text(self, *args, **kwargs):
        _CURRENT_FILE["path"] = self
        return super().read_text(*args, **kwargs)


def _install_package():
    """Creates the `amc_server` stand-in modules once."""
    if "amc_server" in sys.modules and getattr(sys.modules["amc_server"], "_differential_stub", False):
        return
    pkg = types.ModuleType("amc_server")
    pkg.__path__ = []
    pkg._differential_stub = True
    config = types.ModuleType("amc_server.config")
    config.EVENTS_DIR = Path("/nonexistent/events")
    config.SESSIONS_DIR = Path("/nonexistent/sessions")
    config.STALE_EVENT_AGE = STALE_EVENT_AGE
    config.STALE_STARTING_AGE = STALE_STARTING_AGE
    config._state_lock = threading.RLock()
    zellij = types.ModuleType("amc_server.zellij")
    zellij.ZELLIJ_BIN = "zellij"
    zellij._zellij_cache = {"sessions": None, "expires": 0}
    logging_utils = types.ModuleType("amc_server.logging_utils")
    logging_utils.LOGGER = LOGGER
    agents = types.ModuleType("amc_server.agents")
    agents.CODEX_SESSIONS_DIR = Path("/nonexistent/codex/sessions")
    for name, mod in [
        ("amc_server", pkg),
        ("amc_server.config", config),
        ("amc_server.zellij", zellij),
        ("amc_server.logging_utils", logging_utils),
        ("amc_server.agents", agents),
    ]:
        sys.modules[name] = mod
    pkg.config, pkg.zellij, pkg.logging_utils, pkg.agents = config, zellij, logging_utils, agents


def load_state_module(state_py):
    """Loads state.py (as module `amc_original_state`) with the stand-in package; returns the module."""
    _install_package()
    spec = importlib.util.spec_from_file_location("amc_original_state", state_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- context usage (docs/context-usage.md), for the shapes the generator writes ------------------------------------


# docs/context-usage.md "Reading transcripts of any size": an unterminated last line of at most this many bytes that
# is already complete JSON counts.
MAX_TENTATIVE_TAIL_BYTES = 1024 * 1024


def _complete_lines(path):
    """The lines of a transcript that count: every line ended by a newline, and an unterminated last line only when it
    already is complete JSON (a half-written one waits for the rest)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()
    if tail and len(tail) <= MAX_TENTATIVE_TAIL_BYTES and _json_line(tail) is not _INVALID:
        lines.append(tail)
    return lines


_INVALID = object()


def _json_line(raw):
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _INVALID


def _u64(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def claude_context_usage(path):
    """`{"current_tokens": ..., ...}` of a Claude transcript, or None without a usable assistant line."""
    usage = None
    compaction = None  # None, or ("post", tokens-or-None)
    for raw in _complete_lines(path):
        line = _json_line(raw)
        if not isinstance(line, dict):
            continue
        sidechain = line.get("isSidechain") is True
        kind = line.get("type")
        if kind == "assistant":
            if sidechain or line.get("isApiErrorMessage") is True:
                continue
            message = line.get("message")
            if not isinstance(message, dict):
                continue
            model = message.get("model") if isinstance(message.get("model"), str) else None
            if model == "<synthetic>":
                continue
            u = message.get("usage")
            if not isinstance(u, dict):
                continue
            parts = {k: _u64(u.get(k)) or 0 for k in
                     ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")}
            context = parts["input_tokens"] + parts["cache_creation_input_tokens"] + parts["cache_read_input_tokens"]
            if context == 0 and parts["output_tokens"] == 0:
                continue
            usage = {"current_tokens": context, "model": model, "output_tokens": parts["output_tokens"]}
            compaction = None
        elif kind == "system" and line.get("subtype") == "compact_boundary" and not sidechain and usage is not None:
            meta = line.get("compactMetadata")
            post = _u64(meta.get("postTokens")) if isinstance(meta, dict) else None
            compaction = post
            usage = dict(usage, compacted=True, current_tokens=post)
    if usage is None:
        return None
    usage.setdefault("compacted", False)
    return usage


def codex_context_usage(path):
    """`{"current_tokens": ..., ...}` of a Codex rollout, or None without a `token_count` carrying `info`."""
    usage = None
    for raw in _complete_lines(path):
        line = _json_line(raw)
        if not isinstance(line, dict):
            continue
        kind = line.get("type")
        if kind == "compacted":
            if usage is not None:
                usage = dict(usage, compacted=True, current_tokens=None)
            continue
        payload = line.get("payload")
        if not isinstance(payload, dict):
            continue
        if kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if not isinstance(info, dict) or not isinstance(info.get("last_token_usage"), dict):
                continue
            last = info["last_token_usage"]
            parts = [_u64(last.get(k)) or 0 for k in
                     ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens")]
            total = _u64(last.get("total_tokens"))
            if total is None:
                total = parts[0] + parts[3]
            if total == 0 and not any(parts):
                continue  # an all-zero usage is not usable
            usage = {"current_tokens": total, "compacted": False}
        elif kind == "event_msg" and payload.get("type") == "context_compacted" and usage is not None:
            usage = dict(usage, compacted=True, current_tokens=None)
    return usage


def _plain_file_name(name):
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def make_collector_class(state_module):
    """Returns `OriginalCollector`: the seed's StateMixin plus the stand-ins for the methods it does not contain."""

    class OriginalCollector(state_module.StateMixin):
        def __init__(self, home):
            self.home = Path(home)
            self.claude_projects_dir = self.home / ".claude" / "projects"
            self.codex_sessions_dir = self.home / ".codex" / "sessions"
            # id(session dict) -> the file it was read from (TrackingPath), for the difference-9 model below.
            self.source_files = {}
            self.dedupe_model_used = 0

        # -- stand-ins for methods of other mixins (not in the seed) ---------------------------------------------

        def _discover_active_codex_sessions(self):
            return None

        def _get_claude_conversation_file(self, session_id, project_dir):
            if not isinstance(session_id, str) or not session_id:
                return None
            project_dir = project_dir if isinstance(project_dir, str) else ""
            candidate = self.claude_projects_dir / project_dir.replace("/", "-") / f"{session_id}.jsonl"
            try:
                return candidate if candidate.is_file() else None
            except (OSError, ValueError):
                return None

        def _find_codex_transcript_file(self, session_id):
            if not _plain_file_name(session_id) or not self.codex_sessions_dir.is_dir():
                return None
            suffix = f"{session_id}.jsonl"
            matches = sorted(p for p in self.codex_sessions_dir.rglob("*.jsonl")
                             if p.name.endswith(suffix) and p.is_file())
            return matches[-1] if matches else None

        def _get_context_usage_for_session(self, data):
            self.source_files[id(data)] = _CURRENT_FILE["path"]
            agent = data.get("agent")
            if agent == "claude":
                f = self._get_claude_conversation_file(data.get("session_id", ""), data.get("project_dir", ""))
                return claude_context_usage(f) if f else None
            if agent == "codex":
                # The transcript the seed's _get_conversation_mtime uses: transcript_path, else the rollout by id.
                tp = data.get("transcript_path", "")
                f = None
                if isinstance(tp, str) and tp:
                    p = Path(tp)
                    if p.is_file():
                        f = p
                if f is None:
                    f = self._find_codex_transcript_file(data.get("session_id", ""))
                return codex_context_usage(f) if f else None
            return None

        # -- docs/collector.md differences 9 and 10, modelled on the seed's own dedupe -----------------------------

        def _needs_dedupe_model(self, sessions):
            """Whether differences 9 or 10 can change this pass's dedupe: some pane holds two or more sessions (by the
            seed's keys or by string form) and either the two keyings group differently (difference 10: pane `3` and
            `"3"`), or a grouped session's file is not `sessions/<session_id>.json`, or its id is shared by another
            listed session (difference 9)."""

            def keys(s):
                zs, zp = s.get("zellij_session", ""), s.get("zellij_pane", "")
                if not (zs and zp):
                    return None
                form = lambda v: v if isinstance(v, str) else json.dumps(v)  # noqa: E731
                return (zs, zp), (form(zs), form(zp))

            raw_groups, str_groups = {}, {}
            for i, s in enumerate(sessions):
                k = keys(s)
                if k is not None:
                    raw_groups.setdefault(k[0], []).append(i)
                    str_groups.setdefault(k[1], []).append(i)
            partition = lambda g: sorted(v for v in g.values() if len(v) > 1)  # noqa: E731
            if not partition(raw_groups) and not partition(str_groups):
                return False
            if partition(raw_groups) != partition(str_groups):
                return True
            ids = [s.get("session_id") for s in sessions]
            for group in partition(raw_groups):
                for i in group:
                    sid = ids[i]
                    if not sid:
                        continue
                    source = self.source_files.get(id(sessions[i]))
                    if not isinstance(sid, str) or source is None or source.name != f"{sid}.json":
                        return True
                    if ids.count(sid) > 1:
                        return True
            return False

        def _dedupe_same_pane_sessions(self, sessions):
            """The seed's dedupe, unless the pass holds what docs/collector.md differences 9 (dedupe removes the file
            the loser was read from, and exactly the losers) and 10 (panes compare by string form) change. Then the
            seed's dedupe still groups and ranks, but on proxies: each session with an id gets a unique proxy id, pane
            values their string form, and the seed unlinks proxy files in a scratch dir; the harness then removes the
            real source files of the proxies the seed dropped."""
            if not self._needs_dedupe_model(sessions):
                return super()._dedupe_same_pane_sessions(sessions)
            self.dedupe_model_used += 1
            proxies = []
            for i, s in enumerate(sessions):
                p = dict(s)
                if s.get("session_id"):
                    p["session_id"] = f"proxy-{i}"
                for key in ("zellij_session", "zellij_pane"):
                    v = s.get(key)
                    if v and not isinstance(v, str):
                        p[key] = json.dumps(v)
                proxies.append(p)
            scratch = self.home / ".differential-dedupe-scratch"
            scratch.mkdir(exist_ok=True)
            for p in proxies:
                if p.get("session_id"):
                    (scratch / f"{p['session_id']}.json").write_text("{}")
            real_dir = state_module.SESSIONS_DIR
            state_module.SESSIONS_DIR = scratch
            try:
                kept = super()._dedupe_same_pane_sessions(proxies)
            finally:
                state_module.SESSIONS_DIR = real_dir
            kept_ids = {id(p) for p in kept}
            out = []
            for s, p in zip(sessions, proxies):
                if id(p) in kept_ids:
                    out.append(s)
                    continue
                source = self.source_files.get(id(s))
                if source is not None:
                    source.unlink(missing_ok=True)
            for f in scratch.iterdir():
                f.unlink()
            scratch.rmdir()
            return out

    return OriginalCollector


def configure(state_module, home, zellij_bin):
    """Points the module-level paths of the seed (and the stand-in package) at `home`, and resets the Zellij cache."""
    home = Path(home)
    data = home / ".local" / "share" / "amc"
    sessions = TrackingPath(data / "sessions")
    events = data / "events"
    config = sys.modules["amc_server.config"]
    config.SESSIONS_DIR, config.EVENTS_DIR = sessions, events
    state_module.SESSIONS_DIR, state_module.EVENTS_DIR = sessions, events
    zellij = sys.modules["amc_server.zellij"]
    zellij.ZELLIJ_BIN = str(zellij_bin)
    state_module.ZELLIJ_BIN = str(zellij_bin)
    state_module._zellij_cache["sessions"] = None
    state_module._zellij_cache["expires"] = 0
    sys.modules["amc_server.agents"].CODEX_SESSIONS_DIR = home / ".codex" / "sessions"


def run_passes(state_module, collector_class, home, zellij_bin, fake_bin_dir, passes, snapshot_dirs):
    """Runs `passes` collection passes of the original with HOME=`home` and the fake binaries first on PATH.

    Returns a list, per pass, of `{"sessions": [...], "files": snapshot_dirs()}`; `"error"` instead when the original
    raised."""
    configure(state_module, home, zellij_bin)
    saved = {k: os.environ.get(k) for k in ("HOME", "PATH")}
    os.environ["HOME"] = str(home)
    os.environ["PATH"] = f"{fake_bin_dir}:{saved['PATH'] or '/usr/bin:/bin'}"
    results = []
    try:
        collector = collector_class(home)
        for _ in range(passes):
            try:
                sessions = collector._collect_sessions()
                # What `/api/state` would send: the JSON round trip of the list.
                sessions = json.loads(json.dumps(sessions))
                results.append({"sessions": sessions, "files": snapshot_dirs()})
            except Exception as error:  # noqa: BLE001 - reported as a mismatch by the caller
                results.append({"error": f"{type(error).__name__}: {error}", "files": snapshot_dirs()})
                break
        return results, collector.dedupe_model_used
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
