#!/usr/bin/env python3
"""Differential test: the original Python collector (../shared/seed/state.py) and `amc snapshot` on the same random
data directories. See docs/collector.md "Differential test".

Usage: python3 tests/differential/run.py [--cases N] [--seed S] [--case K] [--amc PATH] [--state-py PATH] [--keep DIR]

Each case is built twice at the same path (world.py): as it is for amc, and for the original with the documented
differences applied to its inputs. Both run two passes (the second sees what the first left). Compared per pass:
the sessions listed (ids and order) and every key of each (the file's keys, `is_dead`, `turn_start_tokens`,
`conversation_mtime_ns`; `context_usage` by presence and `current_tokens`), then the files left in `sessions/` and
`events/` (names and contents; `turn_start_tokens` written into a file), and that amc moved to `trash/` exactly what
the original deleted. Ends with `differential: N passed, M failed`.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import original  # noqa: E402
import world  # noqa: E402

REPO = HERE.parent.parent
DEFAULT_STATE_PY = REPO.parent / "shared" / "seed" / "state.py"

# Keys only amc computes (docs/collector.md difference 12; status_reason: README "Differences from the original",
# from process evidence, which these cases never have; cost, rate limits, burn rate, forecast and context history:
# README "Cost, rate limits and forecasts"). Checked to be absent from the original's output.
AMC_ONLY_KEYS = {
    "context_window_inferred",
    "liveness_reason",
    "status_reason",
    "cost",
    "rate_limits",
    "burn_rate",
    "compaction_forecast",
    "context_history",
}
MISSING = "<missing>"


def snapshot_dirs(data_dir):
    """{"sessions": {name: bytes | "<dir>"}, "events": {...}, "trash": [names]} of a data dir."""

    def listing(d):
        out = {}
        if d.is_dir():
            for p in sorted(d.iterdir()):
                out[p.name] = "<dir>" if p.is_dir() else p.read_bytes()
        return out

    return {
        "sessions": listing(data_dir / "sessions"),
        "events": listing(data_dir / "events"),
        "trash": sorted(p.name for p in (data_dir / "trash").iterdir()) if (data_dir / "trash").is_dir() else [],
    }


def run_amc(amc, spec, zellij_bin, bin_dir, passes):
    env = {
        "HOME": str(spec.home),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "AMC_ZELLIJ_BIN": str(zellij_bin),
        "RUST_LOG": "error",
        "LANG": "C.UTF-8",
    }
    results = []
    for _ in range(passes):
        proc = subprocess.run([str(amc), "snapshot"], env=env, cwd=spec.root, capture_output=True, timeout=60)
        files = snapshot_dirs(spec.data_dir)
        if proc.returncode != 0:
            results.append({"error": f"amc snapshot exited {proc.returncode}: {proc.stderr.decode()[-2000:]}",
                            "files": files})
            break
        results.append({"sessions": json.loads(proc.stdout)["sessions"], "files": files})
    return results


def initial_files(spec):
    return snapshot_dirs(spec.data_dir)


def describe(s):
    return json.dumps({k: s.get(k) for k in ("session_id", "agent", "status", "zellij_session", "zellij_pane")},
                      ensure_ascii=False)


def compare_sessions(pass_no, orig, amc, problems):
    o_ids = [s.get("session_id", MISSING) for s in orig]
    a_ids = [s.get("session_id", MISSING) for s in amc]
    if o_ids != a_ids:
        problems.append(f"pass {pass_no}: sessions listed differ:\n      original {o_ids}\n      amc      {a_ids}")
        return
    for o, a in zip(orig, amc):
        for key in AMC_ONLY_KEYS:
            if key in o:
                problems.append(f"pass {pass_no}: the original computed {key}?")
        keys = (set(o) | set(a)) - AMC_ONLY_KEYS - {"context_usage"}
        for key in sorted(keys):
            ov, av = o.get(key, MISSING), a.get(key, MISSING)
            if ov != av or type(ov) is not type(av):
                problems.append(f"pass {pass_no}: {describe(o)}: {key}: original {ov!r}, amc {av!r}")
        oc, ac = o.get("context_usage", MISSING), a.get("context_usage", MISSING)
        if (oc is MISSING) != (ac is MISSING):
            problems.append(f"pass {pass_no}: {describe(o)}: context_usage: original {oc!r}, amc {ac!r}")
        elif isinstance(oc, dict) and isinstance(ac, dict) and oc.get("current_tokens") != ac.get("current_tokens"):
            problems.append(f"pass {pass_no}: {describe(o)}: context_usage.current_tokens: original "
                            f"{oc.get('current_tokens')!r}, amc {ac.get('current_tokens')!r}")
        if a.get("is_dead") is True and "liveness_reason" not in a:
            problems.append(f"pass {pass_no}: {describe(a)}: amc says dead without a liveness_reason")


def parse(b):
    try:
        return json.loads(b)
    except (ValueError, TypeError):
        return MISSING


def compare_files(pass_no, prev_o, prev_a, now_o, now_a, untouched_by_original, problems):
    """The files left in sessions/ and events/, and the trash."""
    for d in ("sessions", "events"):
        po, pa, no, na = prev_o[d], prev_a[d], now_o[d], now_a[d]
        # Files the original never saw (old non-objects): amc leaves them as they were.
        for name in untouched_by_original.get(d, ()):
            if na.get(name) != pa.get(name):
                problems.append(f"pass {pass_no}: {d}/{name} (not an object, old) was changed or removed by amc")
        na = {k: v for k, v in na.items() if k not in untouched_by_original.get(d, ())}
        pa = {k: v for k, v in pa.items() if k not in untouched_by_original.get(d, ())}
        if set(no) != set(na):
            problems.append(f"pass {pass_no}: {d}/ differs: only the original kept {sorted(set(no) - set(na))}, "
                            f"only amc kept {sorted(set(na) - set(no))}")
        for name in sorted(set(no) & set(na)):
            ob, ab, pob, pab = no[name], na[name], po.get(name), pa.get(name)
            changed_o, changed_a = ob != pob, ab != pab
            if not changed_o and not changed_a:
                continue  # as the previous pass left it (checked then)
            if changed_o != changed_a:
                problems.append(f"pass {pass_no}: {d}/{name}: written by {'the original' if changed_o else 'amc'} "
                                f"only:\n      original {ob!r}\n      amc      {ab!r}")
                continue
            # Both wrote it: the turn_start_tokens write-back. amc inserts only that key (docs/collector.md
            # difference 7); the original rewrote the whole dict, its computed context_usage included.
            oj, aj, poj, paj = parse(ob), parse(ab), parse(pob), parse(pab)
            if not all(isinstance(x, dict) for x in (oj, aj, poj, paj)):
                problems.append(f"pass {pass_no}: {d}/{name}: rewritten into something that is not an object")
                continue
            tst = oj.get("turn_start_tokens", MISSING)
            if aj != dict(paj, turn_start_tokens=tst) or aj.get("turn_start_tokens", MISSING) != tst:
                problems.append(f"pass {pass_no}: {d}/{name}: amc wrote {aj!r}, expected its previous content plus "
                                f"turn_start_tokens={tst!r}")
            expect_o = dict(poj, turn_start_tokens=tst)
            if {k: v for k, v in oj.items() if k != "context_usage"} != \
                    {k: v for k, v in expect_o.items() if k != "context_usage"}:
                problems.append(f"pass {pass_no}: {d}/{name}: the original wrote more than turn_start_tokens?")

    # Every file amc removed is in trash/ (README "Differences from the original": moved, not unlinked).
    removed = set()
    for d in ("sessions", "events"):
        removed |= set(prev_a[d]) - set(now_a[d])
    new_trash = set(now_a["trash"]) - set(prev_a["trash"])
    for name in sorted(removed):
        if not any(t.startswith(name + ".") for t in new_trash):
            problems.append(f"pass {pass_no}: amc removed {name} without moving it to trash/")
    if len(new_trash) != len(removed):
        problems.append(f"pass {pass_no}: trash/ gained {len(new_trash)} files for {len(removed)} removals")


def run_case(args, state_module, collector_class, seed, case_no, root):
    rng = random.Random(f"{seed}:{case_no}")
    spec = world.generate(rng, root, case_no)
    problems = []

    # amc, on the case as it is.
    zellij_bin, bin_dir = world.build(spec, for_original=False)
    fixups = world.claude_fixups(spec)
    start_a = initial_files(spec)
    amc_results = run_amc(args.amc, spec, zellij_bin, bin_dir, args.passes)
    if args.keep:
        keep = Path(args.keep) / f"case-{case_no}"
        subprocess.run(["rm", "-rf", str(keep)], check=True)
        world.build(spec, for_original=False)
        subprocess.run(["cp", "-a", str(spec.root), str(keep)], check=True)

    # The original, on its copy (documented differences applied to its inputs).
    zellij_bin, bin_dir = world.build(spec, for_original=True, claude_fixups=fixups)
    start_o = initial_files(spec)
    orig_results, model_used = original.run_passes(
        state_module, collector_class, spec.home, zellij_bin, bin_dir, args.passes,
        lambda: snapshot_dirs(spec.data_dir))
    if model_used:
        spec.tags.add("dedupe-ids")

    untouched = {d: set(start_a[d]) - set(start_o[d]) for d in ("sessions", "events")}
    for d in ("sessions", "events"):
        if {k: v for k, v in start_a[d].items() if k not in untouched[d]} != start_o[d]:
            problems.append(f"harness: the two copies of {d}/ differ before the first pass")
    prev_o, prev_a = start_o, start_a
    for i, (o, a) in enumerate(zip(orig_results, amc_results), start=1):
        if "error" in o:
            problems.append(f"pass {i}: the original raised {o['error']}")
        if "error" in a:
            problems.append(f"pass {i}: {a['error']}")
        if "error" in o or "error" in a:
            break
        compare_sessions(i, o["sessions"], a["sessions"], problems)
        compare_files(i, prev_o, prev_a, o["files"], a["files"], untouched, problems)
        prev_o, prev_a = o["files"], a["files"]
    return spec, problems, orig_results, amc_results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=int(os.environ.get("AMC_DIFF_CASES", "300")))
    parser.add_argument("--seed", default=os.environ.get("AMC_DIFF_SEED", "amc-differential-1"))
    parser.add_argument("--case", type=int, action="append", help="run only this case number (repeatable)")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--amc", default=os.environ.get("AMC_BIN", str(REPO / "target" / "debug" / "amc")))
    parser.add_argument("--state-py", default=os.environ.get("AMC_STATE_PY", str(DEFAULT_STATE_PY)))
    parser.add_argument("--keep", help="copy each case's amc input dir here (for debugging)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the sessions of failing cases")
    args = parser.parse_args()

    state_py = Path(args.state_py)
    if not state_py.is_file():
        print(f"SKIP: {state_py} is absent (the original collector lives in ../shared/seed/state.py); "
              "the differential test needs it")
        print("differential: 1 passed, 0 failed (skipped: no ../shared/seed/state.py)")
        return 0
    if not Path(args.amc).is_file():
        print(f"no amc binary at {args.amc}: run `cargo build --bin amc` first (or set AMC_BIN)")
        print("differential: 0 passed, 1 failed")
        return 1

    state_module = original.load_state_module(state_py)
    collector_class = original.make_collector_class(state_module)
    cases = args.case or list(range(args.cases))
    passed = failed = 0
    tag_counts = {}
    stats = {"sessions": 0, "dead": 0, "context_usage": 0}
    with tempfile.TemporaryDirectory(prefix="amc-differential-") as tmp:
        # A private copy: a concurrent `cargo build` replacing target/debug/amc must not change the binary mid-run.
        private_amc = Path(tmp) / "amc"
        shutil.copy2(args.amc, private_amc)
        args.amc = str(private_amc)
        root = Path(tmp) / "case"
        for case_no in cases:
            try:
                spec, problems, orig_results, amc_results = run_case(args, state_module, collector_class, args.seed,
                                                                     case_no, root)
            except Exception:  # noqa: BLE001 - a harness error fails the case, visibly
                spec, orig_results, amc_results = world.Spec(root, case_no), [], []
                problems = ["harness error:\n" + traceback.format_exc()]
            for tag in spec.tags:
                tag_counts[tag] = tag_counts.get(tag, 0) + 1
            if orig_results and "sessions" in orig_results[0]:
                first = orig_results[0]["sessions"]
                stats["sessions"] += len(first)
                stats["dead"] += sum(1 for s in first if s.get("is_dead"))
                stats["context_usage"] += sum(1 for s in first if "context_usage" in s)
            if problems:
                failed += 1
                print(f"FAIL case {case_no} (seed {args.seed!r}; rerun: --seed {args.seed!r} --case {case_no}):")
                for p in problems[:30]:
                    print(f"    {p}")
                if args.verbose:
                    for label, res in (("original", orig_results), ("amc", amc_results)):
                        for i, r in enumerate(res, 1):
                            print(f"    {label} pass {i}: {json.dumps(r.get('sessions', r.get('error')))[:4000]}")
            else:
                passed += 1
    print(f"cases: {len(cases)} (seed {args.seed!r}); sessions listed by the original in first passes: "
          f"{stats['sessions']} ({stats['dead']} dead, {stats['context_usage']} with context_usage)")
    print("documented differences applied to the original's inputs (cases): "
          + ", ".join(f"{k} {v}" for k, v in sorted(tag_counts.items())))
    print(f"differential: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
