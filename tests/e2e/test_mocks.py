"""The mocks themselves, without any agent: what they stream, that usage is unique per response, that rules match
only what they should (Claude's side requests and Codex's title request never take a scripted answer), and that
every request is logged. Fast; they run first."""

from __future__ import annotations

import http.client
import json
import threading
import time

from harness import mock_anthropic as ma
from harness import mock_openai as mo


def post(port: int, path: str, body: dict, headers: dict | None = None) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json", **(headers or {})})
    r = conn.getresponse()
    data = r.read().decode()
    conn.close()
    return r.status, r.getheader("content-type") or "", data


def sse_events(text: str) -> list[tuple[str, dict]]:
    out, name = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            out.append((name, json.loads(line[5:])))
    return out


MAIN = {"model": "claude-opus-5-5", "stream": True, "tools": [{"name": "Bash"}], "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                                  {"type": "text", "text": "hello MARK1"}]},
                     {"role": "system", "content": "environment"}]}


def test_anthropic_streams_a_scripted_tool_call_with_its_usage():
    with ma.MockAnthropic() as m:
        rule = m.script("ask", ma.user_says("MARK1"), {"content": [ma.text("Let me ask."), ma.ask_user_question(
            [{"question": "Q?", "header": "H", "multiSelect": False, "options": [{"label": "A", "description": "a"}]}], id="toolu_1")]})
        status, ctype, body = post(m.port, "/v1/messages?beta=true", MAIN)
        assert status == 200 and ctype.startswith("text/event-stream")
        ev = sse_events(body)
        names = [n for n, _ in ev]
        assert names[0] == "message_start" and names[-1] == "message_stop"
        start_usage = ev[0][1]["message"]["usage"]
        assert start_usage["cache_read_input_tokens"] == rule.reply["usage"]["cache_read_input_tokens"]
        tool_start = [d for n, d in ev if n == "content_block_start" and d["content_block"]["type"] == "tool_use"][0]
        assert tool_start["content_block"]["name"] == "AskUserQuestion" and tool_start["content_block"]["id"] == "toolu_1"
        partial = "".join(d["delta"]["partial_json"] for n, d in ev if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta")
        assert json.loads(partial)["questions"][0]["question"] == "Q?"
        delta = [d for n, d in ev if n == "message_delta"][0]
        assert delta["delta"]["stop_reason"] == "tool_use"
        assert m.log[-1].rule == "ask" and m.log[-1].t_sent is not None


def test_anthropic_plain_json_and_unique_usage_per_response():
    with ma.MockAnthropic() as m:
        body = dict(MAIN, stream=False)
        _, _, a = post(m.port, "/v1/messages", body)
        _, _, b = post(m.port, "/v1/messages", body)
        ua, ub = json.loads(a)["usage"], json.loads(b)["usage"]
        assert json.loads(a)["type"] == "message"
        assert ma.MockAnthropic.context_tokens(ua) != ma.MockAnthropic.context_tokens(ub)
        assert all(m.log[i].rule == "default-main" for i in range(2))


def test_anthropic_side_requests_and_tool_results_do_not_take_prompt_rules():
    with ma.MockAnthropic() as m:
        m.script("p", ma.user_says("MARK1"), {"content": [ma.text("scripted")]})
        m.script("r", ma.tool_result_for("toolu_9"), {"content": [ma.text("after answer")]})
        side = dict(MAIN, tools=[], stream=False)  # a title/quota request: no tools
        post(m.port, "/v1/messages", side)
        answered = dict(MAIN, stream=False, messages=[
            {"role": "user", "content": "hello MARK1"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "AskUserQuestion", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "A"}]}])
        _, _, b = post(m.port, "/v1/messages", answered)
        assert [e.rule for e in m.log] == ["default-side", "r"]
        assert json.loads(b)["content"][0]["text"] == "after answer"


def test_anthropic_errors_and_unknown_paths_are_answered_and_logged():
    with ma.MockAnthropic() as m:
        m.script("err", ma.user_says("MARK1"), {"error": {"status": 400, "type": "invalid_request_error", "message": "no"}})
        status, _, body = post(m.port, "/v1/messages", MAIN)
        assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
        status, _, body = post(m.port, "/v1/messages/count_tokens", MAIN)
        assert status == 200 and json.loads(body)["input_tokens"] > 0
        status, _, body = post(m.port, "/api/event_logging/batch", {"events": []})
        assert status == 404 and json.loads(body)["type"] == "error"
        assert [e.rule for e in m.log] == ["err", "count_tokens", "unknown-path"]


def test_anthropic_gate_stalls_mid_stream():
    with ma.MockAnthropic() as m:
        gate = threading.Event()
        m.script("stall", ma.user_says("MARK1"), {"content": [ma.text("late")]}, gate=gate)
        result = {}
        t = threading.Thread(target=lambda: result.update(r=post(m.port, "/v1/messages", MAIN)))
        t.start()
        time.sleep(0.5)
        assert t.is_alive(), "the stream must stall until the gate opens"
        gate.set()
        t.join(5)
        assert sse_events(result["r"][2])[-1][0] == "message_stop"


CODEX = {"model": "gpt-5.5", "stream": True, "input": [
    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex"}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>…"}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "do it MARK2"}]}], "tools": []}


def test_openai_responses_stream_and_usage():
    with mo.MockOpenAI() as m:
        rule = m.script("r", mo.user_says("MARK2"), {"text": "Done."})
        status, ctype, body = post(m.port, "/v1/responses", CODEX)
        assert status == 200 and ctype.startswith("text/event-stream")
        ev = sse_events(body)
        assert [n for n, _ in ev][0] == "response.created" and ev[-1][0] == "response.completed"
        done = [d for n, d in ev if n == "response.output_item.done"][0]
        assert done["item"]["content"][0]["text"] == "Done."
        usage = ev[-1][1]["response"]["usage"]
        assert usage == rule.reply["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_openai_title_request_never_takes_a_prompt_rule():
    with mo.MockOpenAI() as m:
        m.script("r", mo.user_says("MARK2"), {"text": "Done."})
        title = dict(CODEX, text={"format": {"type": "json_schema", "name": "codex_output_schema", "schema": {}}})
        _, _, body = post(m.port, "/v1/responses", title)
        assert m.log[-1].rule == "title"
        done = [d for n, d in sse_events(body) if n == "response.output_item.done"][0]
        assert json.loads(done["item"]["content"][0]["text"])["title"]
        status, _, _ = post(m.port, "/v1/unknown", {})
        assert status == 404 and m.log[-1].rule == "unknown-path"
