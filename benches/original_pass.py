#!/usr/bin/env python3
"""Times the ORIGINAL collector's in-process pass (`_collect_sessions` of ../shared/seed/state.py) on a bench HOME, the
way the differential test loads it (tests/differential/original.py: the seed as it is, plus the documented stand-ins
for the methods that live in other mixins). Used by `cargo bench --bench first_look`.

Usage: original_pass.py HOME ZELLIJ_BIN RUNS MODE

MODE `full`: the stand-in `_get_context_usage_for_session` reads every line of each transcript (the original's
`parsing.py` is not in the seed; the harness's stand-in computes the same rule over the whole file).
MODE `no-transcripts`: the same pass with that method answering `None` without opening the transcript, i.e. the cost of
everything else the original does per pass (a lower bound for any original).

`restore` (a shell command, env AMC_BENCH_RESTORE) runs before each pass, outside the timed part, so every pass sees the
same files (the original deletes the losers of the same-pane dedupe). Prints one JSON line:
{"mode": ..., "runs_ms": [...], "sessions": N}.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "differential"))

import original  # noqa: E402


def main():
    home, zellij_bin, runs, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    state_py = os.environ.get("AMC_STATE_PY", str(HERE.parent.parent / "shared" / "seed" / "state.py"))
    state_module = original.load_state_module(state_py)
    collector_class = original.make_collector_class(state_module)
    if mode == "no-transcripts":
        collector_class._get_context_usage_for_session = lambda self, data: None
    original.configure(state_module, home, zellij_bin)
    os.environ["HOME"] = home
    restore = os.environ.get("AMC_BENCH_RESTORE")
    times, sessions = [], 0
    for _ in range(runs):
        if restore:
            subprocess.run(restore, shell=True, check=True)
        # Expire the seed's 5 s Zellij cache, as a fresh process would find it.
        state_module._zellij_cache["sessions"] = None
        state_module._zellij_cache["expires"] = 0
        collector = collector_class(home)
        started = time.perf_counter()
        result = collector._collect_sessions()
        times.append((time.perf_counter() - started) * 1000)
        sessions = len(result)
    print(json.dumps({"mode": mode, "runs_ms": times, "sessions": sessions}))


if __name__ == "__main__":
    main()
