"""A loopback stand-in for the OpenAI Responses API, as Codex CLI 0.169.0 calls it.

Codex reaches it through a custom provider in ``$CODEX_HOME/config.toml``::

    model_provider = "mock"
    [model_providers.mock]
    name = "mock"
    base_url = "http://127.0.0.1:PORT/v1"
    wire_api = "responses"
    env_key = "MOCK_OPENAI_API_KEY"

- ``POST /v1/responses``: an SSE stream ``response.created`` → ``response.output_item.added`` →
  ``response.output_text.delta`` → ``response.output_item.done`` → ``response.completed`` whose ``usage`` is unique
  per response unless the rule fixes it (``total_tokens = input_tokens + output_tokens``).
- ``GET /v1/models``: an empty list in both shapes Codex knows (``data`` and ``models``).
- anything else: 404 in OpenAI's error shape, logged.

A reply is ``{"text": ..., "usage": {...}?, "calls": [...]?}`` or ``{"error": {"status": 400, "message": ...}}``; each of
``calls`` is a function call ``{"name": ..., "arguments": {...}, "call_id": ...}`` sent after the text (a tool call the
model asks Codex to run).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from .mockbase import Logged, MockServer, Rule, send_json, send_sse

_ids = itertools.count(1)


def input_items(req: Any) -> list:
    items = req.get("input") if isinstance(req, dict) else None
    return items if isinstance(items, list) else []


def last_user_text(req: Any) -> str:
    """The text of the newest ``role: user`` message item (Codex also injects AGENTS.md / environment context as
    user messages; those come first, so the newest one is the typed prompt)."""
    for item in reversed(input_items(req)):
        if isinstance(item, dict) and item.get("type") == "message" and item.get("role") == "user":
            return "\n".join(c.get("text", "") for c in item.get("content", []) if isinstance(c, dict))
    return ""


def is_title_request(req: Any) -> bool:
    """Codex 0.169.0 asks the model for a thread title right after the first prompt, in a side thread: a
    ``text.format`` JSON schema named ``codex_output_schema`` and ``thread_source: "thread_title"`` in the turn
    metadata. It quotes the prompt, so marker rules must not answer it."""
    if not isinstance(req, dict):
        return False
    fmt = (req.get("text") or {}).get("format") or {}
    meta = (req.get("client_metadata") or {}).get("x-codex-turn-metadata") or ""
    return fmt.get("name") == "codex_output_schema" or '"thread_source":"thread_title"' in meta


def user_says(marker: str) -> Callable[[Any], bool]:
    return lambda req: not is_title_request(req) and marker in last_user_text(req) and not call_outputs(req)


def call_outputs(req: Any) -> list[dict]:
    """The ``function_call_output`` items after the newest user message (the results of the tools Codex ran)."""
    out: list[dict] = []
    for item in reversed(input_items(req)):
        if isinstance(item, dict) and item.get("type") == "message" and item.get("role") == "user":
            break
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            out.append(item)
    return out


def output_for(call_id: str) -> Callable[[Any], bool]:
    return lambda req: any(o.get("call_id") == call_id for o in call_outputs(req))


class MockOpenAI(MockServer):
    name = "mock-openai"

    def __init__(self) -> None:
        super().__init__()
        self._counter = itertools.count(1)

    def script(self, name: str, match: Callable[[Any], bool], reply: dict, times: int | None = None,
               gate: threading.Event | None = None, delay: float = 0.0) -> Rule:
        reply = dict(reply)
        if "error" not in reply:
            reply.setdefault("usage", self.unique_usage())
        return self.add_rule(Rule(name, match, reply, times=times, gate=gate, delay=delay))

    def unique_usage(self) -> dict:
        n = next(self._counter)
        inp, cached, out, reasoning = 7_000 + 113 * n, 6_000 + 50 * n, 30 + n, 0
        return {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out,
        }

    def handle(self, h: BaseHTTPRequestHandler, logged: Logged) -> None:
        path = logged.path.split("?", 1)[0]
        if logged.method == "POST" and path in ("/v1/responses", "/responses"):
            return self._responses(h, logged)
        if logged.method == "GET" and path in ("/v1/models", "/models"):
            logged.rule = "models"
            return send_json(h, logged, 200, {"object": "list", "data": [], "models": []})
        logged.rule = "unknown-path"
        send_json(h, logged, 404, {"error": {"message": f"mock: no route {logged.path}", "type": "invalid_request_error", "code": "not_found"}})

    def _responses(self, h: BaseHTTPRequestHandler, logged: Logged) -> None:
        req = logged.body if isinstance(logged.body, dict) else {}
        rule = self.pick_rule(req)
        if rule is not None:
            logged.rule = rule.name
            if rule.delay:
                time.sleep(rule.delay)
            reply = rule.reply
        elif is_title_request(req):
            logged.rule = "title"
            reply = {"text": '{"title":"Mock task"}', "usage": self.unique_usage()}
        else:
            logged.rule = "default"
            reply = {"text": "Mock reply.", "usage": self.unique_usage()}
        if "error" in reply:
            err = reply["error"]
            logged.reply_summary = {"error": err}
            return send_json(h, logged, err.get("status", 400), {"error": {"message": err.get("message", "mock error"), "type": err.get("type", "invalid_request_error"), "code": err.get("code")}})
        n = next(_ids)
        resp_id, item_id = f"resp_mock{n:06d}", f"msg_mock{n:06d}"
        model = req.get("model", "gpt-5.5")
        t = reply["text"]
        usage = reply["usage"]
        logged.reply_summary = {"id": resp_id, "text": t, "usage": usage}
        item_done = {"type": "message", "role": "assistant", "id": item_id, "status": "completed",
                     "content": [{"type": "output_text", "text": t, "annotations": []}]}
        events: list[tuple[str, Any]] = [
            ("response.created", {"type": "response.created", "response": {"id": resp_id, "object": "response", "model": model, "status": "in_progress"}}),
            ("response.in_progress", {"type": "response.in_progress", "response": {"id": resp_id, "status": "in_progress"}}),
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                            "item": {"type": "message", "role": "assistant", "id": item_id, "status": "in_progress", "content": []}}),
        ]
        for piece in [t[j:j + 40] for j in range(0, len(t), 40)]:
            events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece}))
        events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item_done}))
        output = [item_done]
        for i, call in enumerate(reply.get("calls") or [], start=1):
            item = {"type": "function_call", "id": f"fc_mock{n:06d}_{i}", "call_id": call["call_id"], "name": call["name"],
                    "arguments": json.dumps(call["arguments"]), "status": "completed"}
            events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": i, "item": dict(item, status="in_progress")}))
            events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": item}))
            output.append(item)
        events.append(("response.completed", {"type": "response.completed", "response": {
            "id": resp_id, "object": "response", "model": model, "status": "completed", "output": output, "usage": usage}}))
        send_sse(h, logged, events, gate=rule.gate if rule else None, gate_after=3)
