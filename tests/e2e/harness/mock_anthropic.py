"""A loopback stand-in for the Anthropic Messages API, as Claude Code 2.1.331 calls it.

Claude Code points at it with ``ANTHROPIC_BASE_URL=http://127.0.0.1:PORT`` and ``ANTHROPIC_API_KEY=dummy``.

- ``POST /v1/messages`` (``?beta=true`` too): streaming SSE (``stream: true``) or a plain JSON message. The answer is
  the first matching scripted rule's reply, else a default reply. Every reply carries its own usage block; unless a
  rule fixes it, the usage is made unique per response (``input_tokens``, ``cache_creation_input_tokens`` and
  ``cache_read_input_tokens`` all grow with a counter), so a test can tell exactly which response amc reports.
- ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``.
- ``GET /v1/models``: a one-model list.
- anything else: a 404 in Anthropic's error shape, logged (so a test can see what else Claude Code asked for).

A reply is ``{"content": [...blocks...], "usage": {...}?, "stop_reason": ...?, "model": ...?}`` where a block is
``{"type": "text", "text": ...}`` or ``{"type": "tool_use", "name": ..., "input": {...}, "id": ...?}``, or an error
``{"error": {"status": 400, "type": "invalid_request_error", "message": ...}}``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from .mockbase import Logged, MockServer, Rule, send_json, send_sse

_ids = itertools.count(1)


def text(t: str) -> dict:
    return {"type": "text", "text": t}


def tool_use(name: str, input: dict, id: str | None = None) -> dict:
    return {"type": "tool_use", "name": name, "input": input, "id": id or f"toolu_mock{next(_ids):06d}"}


def ask_user_question(questions: list[dict], id: str | None = None) -> dict:
    """An AskUserQuestion tool call; each question ``{question, header, options: [{label, description}], multiSelect}``."""
    return tool_use("AskUserQuestion", {"questions": questions}, id)


# -- request inspection -------------------------------------------------------------------------------------------
def messages(req: Any) -> list:
    return req.get("messages", []) if isinstance(req, dict) else []


def last_user_blocks(req: Any) -> list:
    """The content blocks of the newest ``role: user`` message. (2.1.331 appends a ``role: system`` message with the
    environment after the user's turn, so the newest user message is not always the last message.)"""
    users = [m for m in messages(req) if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return []
    # An assistant message after the newest user message means the request is not answering a user turn.
    msgs = messages(req)
    if any(isinstance(m, dict) and m.get("role") == "assistant" for m in msgs[msgs.index(users[-1]) + 1:]):
        return []
    content = users[-1].get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


def last_user_text(req: Any) -> str:
    return "\n".join(b.get("text", "") for b in last_user_blocks(req) if isinstance(b, dict) and b.get("type") == "text")


def last_tool_results(req: Any) -> list[dict]:
    return [b for b in last_user_blocks(req) if isinstance(b, dict) and b.get("type") == "tool_result"]


def is_main_loop(req: Any) -> bool:
    """Claude Code's main agent loop sends its tools; side requests (titles, quota probes, ...) send none."""
    return isinstance(req, dict) and bool(req.get("tools"))


def user_says(marker: str) -> Callable[[Any], bool]:
    """Matches a main-loop request whose last user message contains ``marker`` (and is not a tool result)."""
    return lambda req: is_main_loop(req) and marker in last_user_text(req) and not last_tool_results(req)


def tool_result_for(tool_use_id: str) -> Callable[[Any], bool]:
    return lambda req: is_main_loop(req) and any(b.get("tool_use_id") == tool_use_id for b in last_tool_results(req))


# -- the mock -------------------------------------------------------------------------------------------------------
class MockAnthropic(MockServer):
    name = "mock-anthropic"

    def __init__(self) -> None:
        super().__init__()
        self._counter = itertools.count(1)
        self.default_model = "claude-opus-5-5"

    def script(self, name: str, match: Callable[[Any], bool], reply: dict, times: int | None = None,
               gate: threading.Event | None = None, delay: float = 0.0) -> Rule:
        """Adds a rule; ``reply`` as described in the module doc. Returns the rule (its reply's usage filled in)."""
        reply = dict(reply)
        if "error" not in reply:
            reply.setdefault("usage", self.unique_usage())
        return self.add_rule(Rule(name, match, reply, times=times, gate=gate, delay=delay))

    def unique_usage(self) -> dict:
        n = next(self._counter)
        return {
            "input_tokens": 100 + n,
            "cache_creation_input_tokens": 2_000 + 17 * n,
            "cache_read_input_tokens": 30_000 + 1_013 * n,
            "output_tokens": 40 + n,
        }

    @staticmethod
    def context_tokens(usage: dict) -> int:
        """Anthropic's context formula: input + cache creation + cache read (output excluded)."""
        return usage["input_tokens"] + usage.get("cache_creation_input_tokens", 0) + usage.get("cache_read_input_tokens", 0)

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, logged: Logged) -> None:
        path = logged.path.split("?", 1)[0]
        if logged.method == "POST" and path == "/v1/messages":
            return self._messages(h, logged)
        if logged.method == "POST" and path == "/v1/messages/count_tokens":
            logged.rule = "count_tokens"
            return send_json(h, logged, 200, {"input_tokens": 1234})
        if logged.method == "GET" and path in ("/v1/models", "/v1/models/"):
            logged.rule = "models"
            return send_json(h, logged, 200, {
                "data": [{"type": "model", "id": self.default_model, "display_name": "Mock Opus", "created_at": "2026-01-01T00:00:00Z"}],
                "has_more": False, "first_id": self.default_model, "last_id": self.default_model,
            })
        if logged.method == "HEAD":
            logged.rule = "head"
            return send_json(h, logged, 200, {})
        logged.rule = "unknown-path"
        send_json(h, logged, 404, {"type": "error", "error": {"type": "not_found_error", "message": f"mock: no route {logged.path}"}})

    def _messages(self, h: BaseHTTPRequestHandler, logged: Logged) -> None:
        req = logged.body if isinstance(logged.body, dict) else {}
        rule = self.pick_rule(req)
        if rule is not None:
            logged.rule = rule.name
            if rule.delay:
                time.sleep(rule.delay)
            reply = rule.reply
        else:
            logged.rule = "default-main" if is_main_loop(req) else "default-side"
            reply = {"content": [text("Mock reply.")], "usage": self.unique_usage()}
        if "error" in reply:
            err = reply["error"]
            logged.reply_summary = {"error": err}
            return send_json(h, logged, err.get("status", 400), {"type": "error", "error": {"type": err.get("type", "invalid_request_error"), "message": err.get("message", "mock error")}},
                             headers={"request-id": f"req_mock_{uuid.uuid4().hex[:12]}"})
        model = reply.get("model") or req.get("model") or self.default_model
        content = reply["content"]
        usage = reply["usage"]
        stop_reason = reply.get("stop_reason") or ("tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn")
        msg_id = f"msg_mock{next(_ids):06d}"
        logged.reply_summary = {"id": msg_id, "content": content, "usage": usage, "stop_reason": stop_reason}
        headers = {"request-id": f"req_mock_{uuid.uuid4().hex[:12]}"}
        if not req.get("stream"):
            return send_json(h, logged, 200, {
                "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
                "stop_reason": stop_reason, "stop_sequence": None, "usage": usage,
            }, headers=headers)
        start_usage = {k: v for k, v in usage.items() if k != "output_tokens"}
        start_usage["output_tokens"] = 1
        events: list[tuple[str, Any]] = [("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
        events.append(("ping", {"type": "ping"}))
        for i, block in enumerate(content):
            if block["type"] == "text":
                events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}))
                t = block["text"]
                for piece in [t[j:j + 40] for j in range(0, len(t), 40)] or [""]:
                    events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": piece}}))
            elif block["type"] == "tool_use":
                events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                         "usage": dict(usage)}))
        events.append(("message_stop", {"type": "message_stop"}))
        send_sse(h, logged, events, headers=headers, gate=rule.gate if rule else None, gate_after=2)
