"""Random data directories for the differential test: a HOME with `~/.local/share/amc/sessions/*.json`,
`events/*.jsonl`, Claude transcripts under `~/.claude/projects/`, Codex rollouts under `~/.codex/sessions/`, and a
fake `zellij` printing Zellij's real `list-sessions --no-formatting` output (shared/docs/formats.md §5.1, §8.3).

A case is a *spec* (plain data, from a seeded `random.Random`), built into a directory twice at the same path: once
as it is, for amc, and once for the original, with the documented differences (docs/collector.md "Differences from
the original") applied to the original's copy of the inputs, so that the original's rules, run on that copy, state
what amc must do on the real one. Every such adjustment is named in `ORIGINAL_INPUT_ADJUSTMENTS` and counted.
"""

import json
import os
import random
import shutil
import stat
import uuid
from pathlib import Path

STALE_EVENT_AGE = 24 * 3600
STALE_STARTING_AGE = 3600

# The adjustments made to the original's copy of a case, each a documented difference of amc.
ORIGINAL_INPUT_ADJUSTMENTS = {
    "zellij-no-sessions": "docs/collector.md difference 1: exit 1 + 'No active zellij sessions found.' is an empty "
                          "list for amc; the original is given Zellij's empty answer with exit 0",
    "zellij-exited": "docs/collector.md difference 2 (README 'Differences from the original'): an EXITED session is "
                     "not alive; the original is given the list without its EXITED lines",
    "zellij-garbage": "docs/collector.md difference 3: output in which no line has Zellij's shape is unknown; the "
                      "original is given a failing zellij",
    "claude-lookup": "docs/collector.md difference 11 and docs/context-usage.md 'Finding the transcript': amc finds a "
                     "Claude transcript by transcript_path, by Claude Code's encoding of project_dir, in "
                     "~/.config/claude/projects, or in any project dir; the original is given that transcript (same "
                     "bytes and mtime) where its slash-only lookup looks",
    "codex-transcript-dir": "docs/collector.md difference 11: a transcript_path that is a directory is not a "
                            "transcript; the original's _get_conversation_mtime took a Codex one's mtime as "
                            "conversation_mtime_ns. The original's copy has no such directory",
    "old-non-object": "docs/collector.md 'Each sessions/*.json' step 1 and difference 15: a session file that is not "
                      "a JSON object (or not UTF-8) older than 1 h makes the original's _cleanup_stale raise "
                      "(data.get on a list / UnicodeDecodeError) and return nothing; amc skips it. The original runs "
                      "without such files, and amc must leave them untouched",
}

# Zellij names: dots, hyphens, underscores, emoji (no spaces: docs/collector.md difference 16).
ZELLIJ_BASES = ["main", "work", "api.v2", "proj-x", "emoji\U0001f600", "a_b", "dots.and-dashes", "7"]
DURATIONS = ["0s", "6s", "1m 15s", "11h 39m 1s", "1day 42m 19s", "2days 21h 42m 21s", "1month 9days 13h 33m 5s"]
TRANSCRIPT_EPOCH_NS = 1_780_000_000 * 10**9

# Session files that are valid JSON but not an object, or not UTF-8: the original's _cleanup_stale raises on them
# once they are older than STALE_STARTING_AGE ("old-non-object" above).
OLD_NON_OBJECT_KINDS = {"malformed-array", "malformed-null", "malformed-number", "malformed-string",
                        "malformed-non-utf8"}


def pick(rng, weighted):
    """Picks a value from [(weight, value), ...]."""
    total = sum(w for w, _ in weighted)
    x = rng.random() * total
    for w, v in weighted:
        x -= w
        if x < 0:
            return v
    return weighted[-1][1]


MISSING = object()


def claude_code_dir_name(cwd):
    """Claude Code's project dir name for `cwd` (formats.md §2.2): every UTF-16 unit that is not an ASCII letter or
    digit becomes '-' (the generator keeps names under 200 characters)."""
    out = []
    for c in cwd:
        if c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append("-" * (2 if ord(c) > 0xFFFF else 1))
    return "".join(out)


def plain_file_name(name):
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


class Spec:
    """One case: the files to create (in order), the zellij answer, and facts the comparison needs."""

    def __init__(self, root, case_id):
        self.root = Path(root)
        self.home = self.root / "home"
        self.case_id = case_id
        self.files = []  # dicts: rel, bytes | None (directory), age (seconds before build) | mtime_ns, kind
        self.zellij = None  # dict: mode, sessions [(name, state)], odd
        self.tags = set()
        self.no_events_dir = False

    @property
    def data_dir(self):
        return self.home / ".local" / "share" / "amc"

    def add(self, rel, content, kind, age=None, mtime_ns=None):
        self.files.append({"rel": str(rel), "bytes": content, "kind": kind, "age": age, "mtime_ns": mtime_ns})


def _uuid4(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _uuid7(rng):
    ms = 0x019C0000_0000 + rng.getrandbits(32)
    return "%08x-%04x-7%03x-%04x-%012x" % (
        ms >> 16, ms & 0xFFFF, rng.getrandbits(12), 0x8000 | rng.getrandbits(14), rng.getrandbits(48))


def _iso(rng):
    return "2026-0%d-%02dT%02d:%02d:%02d.%03dZ" % (
        rng.randint(1, 9), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
        rng.randint(0, 999))


def _jsonl(records, partial_last=None):
    text = "".join(json.dumps(r) + "\n" for r in records)
    if partial_last is not None:
        text += json.dumps(partial_last)  # no newline: not complete yet
    return text.encode()


def claude_transcript(rng):
    """A Claude transcript of a random shape; returns bytes."""
    sid = _uuid4(rng)

    def user():
        return {"type": "user", "sessionId": sid, "message": {"role": "user", "content": "hi"}, "timestamp": _iso(rng)}

    def assistant(inp, cc, cr, out, **extra):
        line = {"type": "assistant", "sessionId": sid, "timestamp": _iso(rng),
                "message": {"id": "msg_%x" % rng.getrandbits(32), "role": "assistant",
                            "model": rng.choice(["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-opus-4-7"]),
                            "usage": {"input_tokens": inp, "cache_creation_input_tokens": cc,
                                      "cache_read_input_tokens": cr, "output_tokens": out}}}
        line.update(extra)
        return line

    def usable():
        return assistant(rng.randint(1, 9), rng.randint(0, 5000), rng.randint(0, 150000), rng.randint(1, 900))

    shape = pick(rng, [(30, "usage"), (6, "zero-context"), (10, "no-usable"), (8, "compacted"), (4, "compacted-post"),
                       (5, "compacted-then-usage"), (6, "empty"), (6, "malformed"), (6, "partial-last"),
                       (4, "half-written-last"), (4, "user-only"), (2, "crlf")])
    recs = [user()]
    partial = None
    if shape == "usage":
        for _ in range(rng.randint(1, 3)):
            recs += [usable(), user()]
        if rng.random() < 0.5:
            recs.pop()
    elif shape == "zero-context":
        recs.append(assistant(0, 0, 0, rng.randint(1, 50)))
    elif shape == "no-usable":
        recs += [assistant(5, 0, 100, 10, isSidechain=True), assistant(0, 0, 0, 0),
                 assistant(3, 0, 0, 1, isApiErrorMessage=True)]
        recs[-1]["message"]["model"] = rng.choice(["<synthetic>", "claude-opus-4-6"])
    elif shape in ("compacted", "compacted-post", "compacted-then-usage"):
        recs += [usable(), {"type": "system", "subtype": "compact_boundary", "timestamp": _iso(rng),
                            "compactMetadata": {"trigger": "auto", "preTokens": 160000}}]
        if shape == "compacted-post":
            recs[-1]["compactMetadata"]["postTokens"] = rng.randint(1000, 9000)
        if shape == "compacted-then-usage":
            recs += [user(), usable()]
    elif shape == "empty":
        return b""
    elif shape == "malformed":
        text = _jsonl(recs[:1]) + b"{not json\n" + _jsonl([usable()] if rng.random() < 0.5 else []) + b"\xff\xfe\n"
        return text
    elif shape == "partial-last":
        # A complete JSON line without its newline yet: it counts (docs/context-usage.md).
        if rng.random() < 0.5:
            recs.append(usable())
        partial = usable()
    elif shape == "half-written-last":
        # A line cut in the middle: it does not count until the rest comes.
        if rng.random() < 0.5:
            recs.append(usable())
        return _jsonl(recs) + json.dumps(usable()).encode()[:-7]
    elif shape == "crlf":
        recs.append(usable())
        return _jsonl(recs).replace(b"\n", b"\r\n")
    return _jsonl(recs, partial)


def codex_rollout(rng, sid, cwd):
    """A Codex rollout of a random shape; returns bytes."""
    ts = _iso(rng)
    recs = [{"timestamp": ts, "type": "session_meta",
             "payload": {"id": sid, "timestamp": ts, "cwd": cwd, "originator": "codex_cli_rs", "cli_version": "0.169.0"}},
            {"timestamp": ts, "type": "turn_context", "payload": {"cwd": cwd, "model": "gpt-5.5-codex"}},
            {"timestamp": ts, "type": "event_msg", "payload": {"type": "task_started", "model_context_window": 258400}},
            {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": None}}]

    def count():
        inp, out = rng.randint(1000, 90000), rng.randint(10, 900)
        return {"timestamp": _iso(rng), "type": "event_msg",
                "payload": {"type": "token_count",
                            "info": {"last_token_usage": {"input_tokens": inp, "cached_input_tokens": inp // 2,
                                                          "output_tokens": out, "total_tokens": inp + out},
                                     "model_context_window": 258400}}}

    shape = pick(rng, [(40, "usage"), (12, "info-null"), (10, "compacted"), (8, "compacted-then-usage"),
                       (8, "partial-last"), (4, "half-written-last"), (6, "malformed")])
    partial = None
    if shape == "usage":
        recs += [count() for _ in range(rng.randint(1, 3))]
    elif shape == "compacted":
        recs += [count(), rng.choice([{"timestamp": ts, "type": "compacted", "payload": {"message": ""}},
                                      {"timestamp": ts, "type": "event_msg", "payload": {"type": "context_compacted"}}])]
    elif shape == "compacted-then-usage":
        recs += [count(), {"timestamp": ts, "type": "compacted", "payload": {"message": ""}}, count()]
    elif shape == "partial-last":
        partial = count()
    elif shape == "half-written-last":
        return _jsonl(recs + [count()]) + json.dumps(count()).encode()[:-9]
    elif shape == "malformed":
        return _jsonl(recs) + b"garbage\n" + _jsonl([count()])
    return _jsonl(recs, partial)


def generate(rng, root, case_id):
    """Generates one case."""
    spec = Spec(root, case_id)
    home = spec.home
    sessions_rel = Path(".local/share/amc/sessions")
    events_rel = Path(".local/share/amc/events")

    # --- zellij -----------------------------------------------------------------------------------------------
    prefix = "dz%06x-" % rng.getrandbits(24)  # no real process has these names in its ZELLIJ_SESSION_NAME
    names = [prefix + b for b in rng.sample(ZELLIJ_BASES, rng.randint(2, 5))]
    zstates = [(n, pick(rng, [(45, "live"), (10, "current"), (25, "exited"), (20, "absent")])) for n in names]
    mode = pick(rng, [(72, "list"), (8, "no-sessions"), (4, "missing-binary"), (4, "error"), (4, "garbage"),
                      (4, "empty-exit-0"), (4, "list-with-odd-line"), (0.5, "hang")])
    spec.zellij = {"mode": mode, "sessions": zstates, "odd": prefix + "odd", "order": rng.random()}

    def zellij_session_value():
        return pick(rng, [(70, lambda: rng.choice(names)), (8, lambda: prefix + "gone"), (5, lambda: ""),
                          (12, lambda: MISSING), (3, lambda: rng.choice([7, 0])),
                          (2, lambda: prefix + "odd")])()

    def pane_value():
        return pick(rng, [(40, lambda: rng.randint(1, 3)), (30, lambda: str(rng.randint(1, 3))), (15, lambda: MISSING),
                          (5, lambda: ""), (3, lambda: 0), (4, lambda: None), (3, lambda: "terminal_1"),
                          (1, lambda: 1.0), (1, lambda: True)])()

    projects = ["/home/u/proj%d" % i for i in range(3)] + ["/home/u/my.proj", "/home/u/my_proj", "/srv/a b"]

    # --- sessions ---------------------------------------------------------------------------------------------
    ids_used = []
    dupable = []  # ids of sessions without transcript_path: a copy of one finds the same transcript
    mtimes_used = []

    def transcript_mtime():
        if mtimes_used and rng.random() < 0.15:
            return rng.choice(mtimes_used)
        ns = TRANSCRIPT_EPOCH_NS + rng.randint(0, 5) * 10**9 + rng.randint(0, 10**9 - 1)
        mtimes_used.append(ns)
        return ns

    def session_age():
        return pick(rng, [(55, lambda: rng.uniform(0, 1800)), (25, lambda: rng.uniform(2 * 3600, 20 * 3600)),
                          (15, lambda: rng.uniform(2 * 86400, 5 * 86400)), (5, lambda: -rng.uniform(600, 3600))])()

    n_sessions = rng.randint(0, 10)
    alt = 0
    for n in range(n_sessions):
        agent = pick(rng, [(45, "claude"), (25, "codex"), (8, "gemini"), (10, MISSING), (4, ""), (3, None),
                           (5, "Claude")])
        duplicate = False
        r = rng.random()
        if r < 0.04:
            sid = MISSING
        elif r < 0.07:
            sid = ""
        elif r < 0.13 and dupable:
            sid = rng.choice(dupable)
            duplicate = True
        elif r < 0.15:
            sid = rng.choice(["../escape", "a/b", ".hidden"])
        else:
            sid = _uuid7(rng) if agent == "codex" else _uuid4(rng)
        if isinstance(sid, str) and sid:
            ids_used.append(sid)
        s = {}
        if sid is not MISSING:
            s["session_id"] = sid
        if agent is not MISSING:
            s["agent"] = agent
        status = pick(rng, [(22, "starting"), (25, "active"), (10, "needs_attention"), (28, "done"), (7, MISSING),
                            (4, "idle"), (4, None), (1, 3)])
        if status is not MISSING:
            s["status"] = status
        zs = zellij_session_value()
        if zs is not MISSING:
            s["zellij_session"] = zs
        zp = pane_value()
        if zp is not MISSING:
            s["zellij_pane"] = zp
        project_dir = pick(rng, [(80, lambda: rng.choice(projects)), (12, lambda: MISSING), (5, lambda: ""),
                                 (3, lambda: 12)])()
        if project_dir is not MISSING:
            s["project_dir"] = project_dir
            if isinstance(project_dir, str) and rng.random() < 0.7:
                s["cwd"] = project_dir
        last_event = pick(rng, [(45, "UserPromptSubmit"), (20, "Stop"), (10, "SessionStart"), (10, "PreToolUse"),
                                (15, MISSING)])
        if last_event is not MISSING:
            s["last_event"] = last_event
            s["last_event_at"] = _iso(rng)
        tst = pick(rng, [(70, MISSING), (15, rng.randint(0, 90000)), (10, None), (5, "12")])
        if tst is not MISSING:
            s["turn_start_tokens"] = tst
        cm = pick(rng, [(60, MISSING), (20, TRANSCRIPT_EPOCH_NS + rng.randint(0, 5 * 10**9)), (8, "abc"), (4, True),
                        (4, 1.78e18 + rng.randint(0, 5) * 1e9), (4, None)])
        if cm is not MISSING:
            s["conversation_mtime_ns"] = cm
        cu = pick(rng, [(85, MISSING), (10, {"current_tokens": 10, "window_tokens": 200000}), (5, {})])
        if cu is not MISSING:
            s["context_usage"] = cu
        if rng.random() < 0.3:
            s["pending_questions"] = [] if rng.random() < 0.5 else [{"question": "Proceed?"}]
        if rng.random() < 0.2:
            s["spawn_id"] = "sp-%d" % n
        if rng.random() < 0.2:
            s["extra_key_%d" % n] = rng.choice([1, "x", [1, 2], {"a": None}])
        s["started_at"] = _iso(rng)

        # Transcripts. Sessions sharing an id have no transcript_path, so every copy finds the same transcript.
        sid_plain = plain_file_name(s.get("session_id"))
        tp = MISSING
        if agent == "claude" and sid_plain:
            pd = project_dir if isinstance(project_dir, str) else ""
            canonical = Path(".claude/projects") / claude_code_dir_name(pd) / f"{sid}.jsonl"
            elsewhere = Path("elsewhere") / f"t-{n}.jsonl"
            placement = "none" if duplicate else pick(rng, [
                (30, "none"), (40, "canonical"), (8, "transcript_path"), (5, "both"), (5, "other-project-dir"),
                (4, "config-root"), (4, "slash-only-dir")])
            if placement in ("canonical", "both"):
                spec.add(canonical, claude_transcript(rng), "transcript", mtime_ns=transcript_mtime())
            if placement in ("transcript_path", "both"):
                spec.add(elsewhere, claude_transcript(rng), "transcript", mtime_ns=transcript_mtime())
                tp = str(home / elsewhere)
            if placement == "other-project-dir":
                spec.add(Path(".claude/projects/-home-u-started-here") / f"{sid}.jsonl", claude_transcript(rng),
                         "transcript", mtime_ns=transcript_mtime())
            if placement == "config-root":
                spec.add(Path(".config/claude/projects") / claude_code_dir_name(pd) / f"{sid}.jsonl",
                         claude_transcript(rng), "transcript", mtime_ns=transcript_mtime())
            if placement == "slash-only-dir":
                spec.add(Path(".claude/projects") / pd.replace("/", "-") / f"{sid}.jsonl", claude_transcript(rng),
                         "transcript", mtime_ns=transcript_mtime())
            if tp is MISSING and not duplicate:
                tp = pick(rng, [(40, str(home / canonical)), (10, str(home / "nowhere" / f"{sid}.jsonl")),
                                (5, str(home / ".claude")), (5, ""), (40, MISSING)])
        elif agent == "codex" and sid_plain:
            day = rng.randint(1, 9)
            rollout = Path(".codex/sessions/2026/01/%02d" % day) / f"rollout-2026-01-{day:02d}T10-00-00-{sid}.jsonl"
            if not duplicate and rng.random() < 0.7:
                cwd = project_dir if isinstance(project_dir, str) else "/home/u"
                spec.add(rollout, codex_rollout(rng, sid, cwd), "transcript", mtime_ns=transcript_mtime())
            if not duplicate:
                others = [f["rel"] for f in spec.files if f["rel"].startswith(".codex/")]
                tp = pick(rng, [(60, str(home / rollout)), (10, str(home / "nowhere" / "rollout-x.jsonl")),
                                (15, MISSING), (5, ""),
                                (5, str(home / rng.choice(others)) if others else str(home / rollout)),
                                (3, str(home / "dir-as-rollout.jsonl"))])
                if tp == str(home / "dir-as-rollout.jsonl") and not any(
                        f["rel"] == "dir-as-rollout.jsonl" for f in spec.files):
                    spec.add("dir-as-rollout.jsonl", None, "codex-transcript-dir", mtime_ns=transcript_mtime())
        elif rng.random() < 0.2 and not duplicate:
            tp = str(home / "elsewhere" / "unused.jsonl")
        if tp is not MISSING:
            s["transcript_path"] = tp
        elif isinstance(sid, str) and sid and not duplicate:
            dupable.append(sid)

        if isinstance(s.get("session_id"), str) and plain_file_name(s["session_id"]) and rng.random() < 0.9 \
                and not (duplicate and rng.random() < 0.6):
            name = f"{s['session_id']}.json"
            if any(f["rel"] == str(sessions_rel / name) for f in spec.files):
                alt += 1
                name = f"alt-{alt}.json"
        else:
            alt += 1
            name = f"alt-{alt}.json"
        text = json.dumps(s, indent=2) if rng.random() < 0.5 else json.dumps(s)
        if rng.random() < 0.5:
            text += "\n"
        spec.add(sessions_rel / name, text.encode(), "session", age=session_age())

    # --- malformed session files --------------------------------------------------------------------------------
    for k in range(pick(rng, [(50, 0), (30, 1), (15, 2), (5, 3)])):
        kind = rng.choice(["garbage", "empty", "array", "null", "number", "string", "truncated", "non-utf8", "dir",
                           "nested-status", "bom", "duplicate-keys", "hidden", "trailing-garbage",
                           "non-utf8-name"])
        content = {
            "garbage": b"not json{",
            "empty": b"",
            "array": b'[{"session_id": "x", "status": "starting"}]',
            "null": b"null",
            "number": b"42",
            "string": b'"starting"',
            "truncated": b'{"session_id": "trunc", "status": "starting", "zellij_se',
            "non-utf8": b'{"session_id": "bad-\xff", "status": "starting"}',
            "dir": None,
            "nested-status": b'{"status": {"nested": "starting"}, "session_id": "nested-%d"}' % k,
            "bom": b'\xef\xbb\xbf{"session_id": "bom-%d", "status": "starting"}' % k,
            # Python and serde_json both keep the last value of a repeated key.
            "duplicate-keys": b'{"session_id": "dup-%d", "status": "done", "agent": "claude", "status": "starting"}' % k,
            "hidden": json.dumps({"session_id": "hidden-%d" % k, "agent": "claude", "status": "active",
                                  "zellij_session": rng.choice(names)}).encode(),
            "trailing-garbage": b'{"session_id": "tg-%d", "status": "starting"} x' % k,
            # A valid session in a file whose name is not UTF-8 (Python's glob lists it).
            "non-utf8-name": json.dumps({"session_id": "nun-%d" % k, "agent": "claude", "status": "starting",
                                         "zellij_session": rng.choice(names)}).encode(),
        }[kind]
        age = rng.choice([rng.uniform(0, 1800), rng.uniform(2 * 3600, 10 * 86400)])
        name = {"hidden": f".bad-{k}.json", "non-utf8-name": os.fsdecode(b"bad-\xff%d.json" % k)}.get(kind, f"bad-{k}.json")
        spec.add(sessions_rel / name, content, "malformed-" + kind, age=age)

    # --- event logs ---------------------------------------------------------------------------------------------
    if rng.random() < 0.05:
        spec.no_events_dir = True
        return spec
    def event_age():
        return rng.choice([rng.uniform(0, 3600), rng.uniform(20 * 3600, 23 * 3600), rng.uniform(25 * 3600, 30 * 3600),
                           rng.uniform(3 * 86400, 9 * 86400), -rng.uniform(600, 3600)])

    for sid in sorted(set(i for i in ids_used if plain_file_name(i))):
        if rng.random() < 0.6:
            spec.add(events_rel / f"{sid}.jsonl", b'{"event": "Stop"}\n', "event", age=event_age())
    for k in range(rng.randint(0, 3)):
        spec.add(events_rel / f"orphan-{k}.jsonl", b'{"event": "Stop"}\n', "event", age=event_age())
    if rng.random() < 0.2:
        spec.add(events_rel / "notes.txt", b"not a log", "event-other", age=event_age())
    if rng.random() < 0.1:
        spec.add(events_rel / "a.b.jsonl", b"", "event", age=event_age())
    return spec


# --- building --------------------------------------------------------------------------------------------------


def zellij_answer(spec, for_original):
    """(stdout, stderr, exit code, binary present) of the fake zellij; for the original, with the adjustments."""
    z = spec.zellij
    mode = z["mode"]
    rng = random.Random(z["order"])
    if mode == "missing-binary":
        return "", "", 0, False
    if mode == "hang":  # past the 2 s timeout of both: unknown
        return None, "", 0, True
    if mode == "error":
        return "", "Error occurred: Permission denied (os error 13)\n", 1, True
    if mode == "no-sessions":
        if for_original:
            spec.tags.add("zellij-no-sessions")
            return "", "", 0, True
        return "", "No active zellij sessions found.\n", 1, True
    if mode == "empty-exit-0":
        return "", "", 0, True
    if mode == "garbage":
        if for_original:
            spec.tags.add("zellij-garbage")
            return "", "", 2, True
        return "Error: unexpected argument\nUsage: zellij [OPTIONS]\n", "", 0, True
    if mode == "list-with-odd-line" and all(state == "absent" for _, state in z["sessions"]):
        # The odd line alone: no line has Zellij's shape, so amc reads the output as unknown (difference 3).
        if for_original:
            spec.tags.add("zellij-garbage")
            return "", "", 2, True
        return z["odd"] + "\n", "", 0, True
    lines = []
    for name, state in z["sessions"]:
        dur = rng.choice(DURATIONS)
        if state == "live":
            lines.append(f"{name} [Created {dur} ago] ")
        elif state == "current":
            lines.append(f"{name} [Created {dur} ago] (current)")
        elif state == "exited":
            if for_original:
                spec.tags.add("zellij-exited")
                continue
            lines.append(f"{name} [Created {dur} ago] (EXITED - attach to resurrect)")
    rng.shuffle(lines)
    if mode == "list-with-odd-line":
        lines.insert(rng.randint(0, len(lines)), z["odd"])
    return "".join(line + "\n" for line in lines), "", 0, True


def _write_exe(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def build(spec, for_original, claude_fixups=None, now=None):
    """Creates the case's directory at `spec.root` (wiping what was there); returns (zellij_bin, fake_bin_dir).

    For the original: the zellij adjustments, the Claude transcript `claude_fixups` [(dest, src bytes | None,
    mtime_ns)], and no old non-object session files."""
    import time

    now = time.time() if now is None else now
    if spec.root.exists():
        shutil.rmtree(spec.root)
    spec.home.mkdir(parents=True)
    (spec.data_dir / "sessions").mkdir(parents=True)
    if not spec.no_events_dir:
        (spec.data_dir / "events").mkdir(parents=True)
    for f in spec.files:
        path = spec.home / f["rel"]
        if for_original and f["kind"] in OLD_NON_OBJECT_KINDS and f["age"] > STALE_STARTING_AGE:
            spec.tags.add("old-non-object")
            continue
        if for_original and f["kind"] == "codex-transcript-dir":
            spec.tags.add("codex-transcript-dir")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if f["bytes"] is None:
            path.mkdir()
        else:
            path.write_bytes(f["bytes"])
        if f["mtime_ns"] is not None:
            os.utime(path, ns=(f["mtime_ns"], f["mtime_ns"]))
        elif f["age"] is not None:
            t = now - f["age"]
            os.utime(path, (t, t))
    for dest, content, mtime_ns in claude_fixups or []:
        spec.tags.add("claude-lookup")
        if content is None:
            if dest.is_file():
                dest.unlink()
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(content)
        os.utime(dest, ns=(mtime_ns, mtime_ns))
    bin_dir = spec.root / "bin"
    bin_dir.mkdir()
    stdout, stderr, code, present = zellij_answer(spec, for_original)
    (bin_dir / "zellij.stdout").write_text(stdout or "")
    (bin_dir / "zellij.stderr").write_text(stderr)
    zellij = bin_dir / "zellij"
    if stdout is None:
        _write_exe(zellij, "#!/bin/sh\nexec sleep 6\n")
    elif present:
        _write_exe(zellij, "#!/bin/sh\n"
                           f'echo "$*" >> "{bin_dir}/zellij.calls"\n'
                           '[ "$1" = "list-sessions" ] || exit 2\n'
                           f'cat "{bin_dir}/zellij.stdout"\n'
                           f'cat "{bin_dir}/zellij.stderr" >&2\n'
                           f"exit {code}\n")
    else:
        zellij = bin_dir / "no-such-zellij"
    # No process holds any file open: lsof finds nothing (exit 1), as for a machine without codex running.
    _write_exe(bin_dir / "lsof", f'#!/bin/sh\necho "$*" >> "{bin_dir}/lsof.calls"\nexit 1\n')
    return zellij, bin_dir


# --- amc's Claude transcript lookup (docs/context-usage.md "Finding the transcript"), for the adjustments ----------


def amc_claude_transcript(home, session):
    """The transcript amc reads for a Claude session (on the built amc copy of the case), or None."""
    tp = session.get("transcript_path")
    if isinstance(tp, str) and tp and os.path.isfile(tp):
        return Path(tp)
    sid = session.get("session_id")
    if not plain_file_name(sid):
        return None
    pd = session.get("project_dir")
    encoded = claude_code_dir_name(pd if isinstance(pd, str) else "")
    roots = [home / ".claude" / "projects", home / ".config" / "claude" / "projects"]
    for root in roots:
        candidate = Path(os.path.join(root, encoded, f"{sid}.jsonl"))
        if candidate.is_file():
            return candidate
    for root in roots:
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            candidate = Path(entry.path) / f"{sid}.jsonl"
            if candidate.is_file():
                return candidate
    return None


def original_claude_transcript_path(home, session):
    """Where the original's lookup looks (original.py, `_get_claude_conversation_file`), or None."""
    sid = session.get("session_id", "")
    if not isinstance(sid, str) or not sid:
        return None
    pd = session.get("project_dir", "")
    pd = pd if isinstance(pd, str) else ""
    return home / ".claude" / "projects" / pd.replace("/", "-") / f"{sid}.jsonl"


def claude_fixups(spec):
    """On the built amc copy: the transcripts to put where the original looks, so that it reads what amc reads.

    Raises when two sessions would need different transcripts at one place (the generator avoids that)."""
    wanted = {}
    for f in spec.files:
        if f["kind"] != "session":
            continue
        try:
            session = json.loads(f["bytes"])
        except ValueError:
            continue
        if not isinstance(session, dict) or session.get("agent") != "claude":
            continue
        amc = amc_claude_transcript(spec.home, session)
        orig = original_claude_transcript_path(spec.home, session)
        if orig is None:
            if amc is not None:
                raise RuntimeError(f"amc reads {amc} for a session the original cannot look up")
            continue
        want = (orig, amc.read_bytes(), amc.stat().st_mtime_ns) if amc is not None else (orig, None, None)
        if wanted.setdefault(orig, want) != want:
            raise RuntimeError(f"two sessions need different transcripts at {orig}")
    out = []
    for orig, want in wanted.items():
        have = (orig, orig.read_bytes(), orig.stat().st_mtime_ns) if orig.is_file() else (orig, None, None)
        if have != want:
            out.append(want)
    return out
