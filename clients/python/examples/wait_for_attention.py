#!/usr/bin/env python3
"""Blocks until some amc session needs attention, prints it, and exits 0.

    python examples/wait_for_attention.py [--target 127.0.0.1:7400] [--timeout SECONDS] [--retries N]

Exit codes: 0 a session needs attention (printed), 1 amc unreachable (after the watch's retries), 2 --timeout passed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

import amc_client


def describe(session: amc_client.Session) -> str:
    lines = [f"{session.session_id} needs attention ({amc_client.Agent.Name(session.agent)}, {session.project_dir})"]
    if session.zellij_session:
        lines.append(f"  zellij: session {session.zellij_session}, pane {session.zellij_pane}")
    for q in session.pending_questions:
        lines.append(f"  question: {q.question}")
        for opt in q.options:
            lines.append(f"    - {opt.label}" + (f": {opt.description}" if opt.description else ""))
    if session.last_message_preview:
        lines.append(f"  last message: {session.last_message_preview}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("AMC_TARGET", amc_client.DEFAULT_TARGET))
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds (exit 2)")
    parser.add_argument("--retries", type=int, default=5, help="reconnect attempts in a row before exit 1")
    args = parser.parse_args()

    watch = amc_client.watch_state(args.target, filter={"exclude_dead": True}, max_retries=args.retries)
    timed_out = threading.Event()
    if args.timeout is not None:
        timer = threading.Timer(args.timeout, lambda: (timed_out.set(), watch.cancel()))
        timer.daemon = True
        timer.start()
    try:
        for state in watch:
            waiting = [s for s in state.sessions if s.status == amc_client.SESSION_STATUS_NEEDS_ATTENTION]
            if waiting:
                for session in waiting:
                    print(describe(session), flush=True)
                return 0
    except amc_client.AmcError as err:
        print(f"wait_for_attention: {err}", file=sys.stderr)
        return 1
    finally:
        watch.close()
    if timed_out.is_set():
        print(f"wait_for_attention: no session needed attention within {args.timeout:g} s", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
