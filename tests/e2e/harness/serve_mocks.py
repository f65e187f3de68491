"""Runs both mocks by hand (for poking at an agent interactively):

    cd tests/e2e && python3 -m harness.serve_mocks /tmp/mocks

writes ``/tmp/mocks/ports.json`` ({"anthropic": PORT, "openai": PORT}) and appends every request to
``/tmp/mocks/anthropic.jsonl`` / ``openai.jsonl`` every second. A prompt containing ``ASKQ`` gets an AskUserQuestion,
one containing ``QUESTION`` a reply ending in a question, ``APIERR`` a 400 error, ``SLOW`` a reply after 8 s; anything else a plain reply.
"""

from __future__ import annotations

import json
import os
import sys
import time

from . import mock_anthropic as ma
from . import mock_openai as mo


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/amc-mocks"
    os.makedirs(out, exist_ok=True)
    a = ma.MockAnthropic().start()
    o = mo.MockOpenAI().start()
    a.script("askq", ma.user_says("ASKQ"), {"content": [ma.text("Let me ask."), ma.ask_user_question([
        {"question": "Which colour?", "header": "Colour", "multiSelect": False,
         "options": [{"label": "Red", "description": "warm"}, {"label": "Blue", "description": "cool"}]}], id="toolu_askq")]})
    a.script("askq-answer", ma.tool_result_for("toolu_askq"), {"content": [ma.text("Thanks, noted.")]})
    a.script("question", ma.user_says("QUESTION"), {"content": [ma.text("I looked.\n\nShall I go on?")]})
    a.script("apierr", ma.user_says("APIERR"), {"error": {"status": 400, "type": "invalid_request_error", "message": "mock says no"}})
    a.script("slow", ma.user_says("SLOW"), {"content": [ma.text("Slow reply.")]}, delay=8)
    o.script("slow", mo.user_says("SLOW"), {"text": "Slow reply."}, delay=8)
    o.script("question", mo.user_says("QUESTION"), {"text": "Shall I go on?"})
    with open(os.path.join(out, "ports.json"), "w") as f:
        json.dump({"anthropic": a.port, "openai": o.port}, f)
    print(json.dumps({"anthropic": a.port, "openai": o.port}), flush=True)
    while True:
        time.sleep(1)
        a.dump_log(os.path.join(out, "anthropic.jsonl"))
        o.dump_log(os.path.join(out, "openai.jsonl"))


if __name__ == "__main__":
    main()
