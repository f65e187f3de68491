"""/metrics against a live `amc serve`, parsed by Python's prometheus_client (the OpenMetrics parser, strict, and the
classic text-format parser), plus the JSON logs of the same run parsed line by line.

Run by scripts/test-ops (tests/scrape/) (which installs prometheus_client). AMC_BIN names the binary. Ends with one line
`ops: N passed, M failed`.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_classic

AMC = os.environ["AMC_BIN"]
TOKEN = "ops-test-token-0123456789"
results = []


def case(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                results.append((name, None))
                print(f"ok   {name}")
            except Exception as error:  # noqa: BLE001 - every failure is reported, the run goes on
                results.append((name, error))
                print(f"FAIL {name}: {error!r}")

        run()
        return run

    return wrap


def get(url, token=TOKEN, timeout=5):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.headers.get("content-type", ""), response.read().decode()


def families(text):
    return {f.name: f for f in parse_openmetrics(text)}


def value(fams, name, **labels):
    """The sum of the samples of family `name` whose labels include `labels`."""
    total = 0.0
    for s in fams[name].samples:
        if s.name in (name, name + "_total") and all(s.labels.get(k) == v for k, v in labels.items()):
            total += s.value
    return total


def wait_for(predicate, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def session(sid, status, agent):
    return json.dumps({"session_id": sid, "status": status, "agent": agent, "project_dir": "/p"})


def main():
    home = tempfile.mkdtemp(prefix="amc-ops-")
    data = os.path.join(home, "data")
    sessions = os.path.join(data, "sessions")
    events = os.path.join(data, "events")
    os.makedirs(sessions)
    os.makedirs(events)
    for sid, status, agent in [("a", "active", "claude"), ("b", "done", "codex"), ("c", "needs_attention", "claude")]:
        with open(os.path.join(sessions, f"{sid}.json"), "w") as f:
            f.write(session(sid, status, agent))
    # Session a has a transcript: 102,168 tokens of the default 200,000 window.
    # (In a dir of its own: amc watches the transcript's dir, and the server's log file must not be there.)
    os.makedirs(os.path.join(home, ".claude", "projects", "p"))
    transcript = os.path.join(home, ".claude", "projects", "p", "a.jsonl")
    with open(transcript, "w") as f:
        f.write(json.dumps({"type": "assistant", "isSidechain": False, "timestamp": "2026-02-12T15:05:00.586Z",
                            "message": {"model": "claude-opus-4-6", "id": "m", "usage": {
                                "input_tokens": 1, "cache_creation_input_tokens": 304,
                                "cache_read_input_tokens": 101863, "output_tokens": 1}}}) + "\n")
    with open(os.path.join(sessions, "a.json"), "w") as f:
        f.write(json.dumps({"session_id": "a", "status": "active", "agent": "claude", "project_dir": "/p",
                            "transcript_path": transcript}))
    with open(os.path.join(events, "a.jsonl"), "w") as f:
        f.write('{"event":"SessionStart"}\n{"event":"UserPromptSubmit"}\n')
    with open(os.path.join(data, "hook.log"), "w") as f:
        f.write("2026-01-01T00:00:00Z amc hook: rejected payload: not JSON\n")
    addr_file = os.path.join(home, "addr")
    log_path = os.path.join(home, "stderr.log")
    env = {
        "HOME": home,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AMC_DATA_DIR": data,
        "AMC_ZELLIJ_BIN": os.path.join(home, "no-zellij"),
        "AMC_TOKEN": TOKEN,
        "AMC_LIVENESS_MS": "3600000",
        "AMC_RECONCILE_MS": "3600000",
        "AMC_LOG_FORMAT": "json",
        "RUST_LOG": "amc=debug",
    }
    log = open(log_path, "w")
    server = subprocess.Popen(
        [AMC, "serve", "--listen", "127.0.0.1:0", "--addr-file", addr_file],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        if not wait_for(lambda: os.path.exists(addr_file) and open(addr_file).read().strip(), 30):
            raise SystemExit("amc serve did not start")
        base = "http://" + open(addr_file).read().strip()
        url = base + "/metrics"
        run_cases(base, url, data, sessions, events)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    json_logs(log_path)
    failed = [r for r in results if r[1] is not None]
    print(f"ops: {len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def run_cases(base, url, data, sessions, events):
    @case("/metrics needs a token like every read")
    def _():
        try:
            get(url, token=None)
        except urllib.error.HTTPError as error:
            assert error.code == 401, error.code
        else:
            raise AssertionError("answered without a token")

    @case("the exposition parses (OpenMetrics, strict) with every family and type")
    def _():
        status, ctype, text = get(url)
        assert status == 200
        assert ctype.startswith("application/openmetrics-text"), ctype
        fams = families(text)
        want = {
            "amc_sessions": "gauge",
            "amc_session_context_ratio": "gauge",
            "amc_passes": "counter",
            "amc_pass_duration_seconds": "histogram",
            "amc_file_events": "counter",
            "amc_watched_directories": "gauge",
            "amc_revisions_published": "counter",
            "amc_transcript_read_bytes": "counter",
            "amc_stream_clients": "gauge",
            "amc_http_requests": "counter",
            "amc_hook_invocations": "counter",
            "amc_hook_failures": "counter",
            "amc_build_info": "gauge",
            "amc_warming": "gauge",
        }
        for name, kind in want.items():
            assert name in fams, f"{name} missing; have {sorted(fams)}"
            assert fams[name].type == kind, f"{name} is {fams[name].type}, want {kind}"

    @case("the classic Prometheus text parser reads it too")
    def _():
        text = get(url)[2]
        names = {f.name for f in parse_classic(text)}
        assert "amc_sessions" in names and "amc_pass_duration_seconds" in names, sorted(names)

    @case("sessions by status, agent and host; labels bounded")
    def _():
        fams = families(get(url)[2])
        assert value(fams, "amc_sessions") == 3, fams["amc_sessions"].samples
        assert value(fams, "amc_sessions", status="active", agent="claude") == 1
        assert value(fams, "amc_sessions", status="done", agent="codex") == 1
        assert value(fams, "amc_sessions", status="needs_attention", agent="claude") == 1
        hosts = {s.labels["host"] for s in fams["amc_sessions"].samples}
        assert len(hosts) == 1 and "" not in hosts, hosts
        ratio = value(fams, "amc_session_context_ratio", session_id="a", agent="claude")
        assert abs(ratio - 102168 / 200000) < 0.01, fams["amc_session_context_ratio"].samples
        assert value(fams, "amc_transcript_read_bytes") > 0
        assert value(fams, "amc_build_info") == 1
        assert value(fams, "amc_warming") == 0

    @case("hook invocations and failures are counted from the event logs and hook.log")
    def _():
        fams = families(get(url)[2])
        assert value(fams, "amc_hook_invocations") == 2, fams["amc_hook_invocations"].samples
        assert value(fams, "amc_hook_failures") == 1
        with open(os.path.join(events, "a.jsonl"), "a") as f:
            f.write('{"event":"Stop"}\n')
        with open(os.path.join(data, "hook.log"), "a") as f:
            f.write("x amc hook: another\nx amc hook: third\n")
        assert wait_for(lambda: value(families(get(url)[2]), "amc_hook_invocations") == 3, 5)
        assert value(families(get(url)[2]), "amc_hook_failures") == 3

    @case("a file event runs an event pass and publishes a revision")
    def _():
        before = families(get(url)[2])
        with open(os.path.join(sessions, "d.json.tmp"), "w") as f:
            f.write(session("d", "active", "codex"))
        os.rename(os.path.join(sessions, "d.json.tmp"), os.path.join(sessions, "d.json"))

        def grew():
            now = families(get(url)[2])
            return (
                value(now, "amc_sessions") == 4
                and value(now, "amc_passes", trigger="event") > value(before, "amc_passes", trigger="event")
                and value(now, "amc_file_events") > value(before, "amc_file_events")
                and value(now, "amc_revisions_published") > value(before, "amc_revisions_published")
            )

        assert wait_for(grew, 10), "no event pass seen"
        durations = families(get(url)[2])["amc_pass_duration_seconds"]
        counts = [s for s in durations.samples if s.name.endswith("_count") and s.labels.get("trigger") == "event"]
        assert counts and counts[0].value >= 1, durations.samples

    @case("an open SSE client is counted while it stays")
    def _():
        request = urllib.request.Request(base + "/api/stream")
        request.add_header("Authorization", f"Bearer {TOKEN}")
        stream = urllib.request.urlopen(request, timeout=5)
        try:
            stream.readline()
            assert value(families(get(url)[2]), "amc_stream_clients", kind="sse_state") == 1
        finally:
            stream.close()
        assert wait_for(lambda: value(families(get(url)[2]), "amc_stream_clients", kind="sse_state") == 0, 5)

    @case("every metric the Grafana sample and the README name is exposed")
    def _():
        import re

        fams = families(get(url)[2])
        # Families that exist only once something happened (a notification, an action).
        lazy = {"amc_notifications", "amc_actions"}
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        for doc in ["docs/grafana-dashboard.json", "README.md"]:
            text = open(os.path.join(root, doc)).read()
            names = set(re.findall(r"\bamc_[a-z_]+", text))
            names = {re.sub(r"_(bucket|total)$", "", n) for n in names}
            names = {n for n in names if n not in lazy and not n.startswith("amc_client")}
            if doc == "README.md":
                names = {n for n in names if re.search(r"`" + n + r"(_total)?`", text)}
            missing = sorted(n for n in names if n not in fams)
            assert not missing, f"{doc} names {missing}, not in /metrics"

    @case("100 scrapes a second for 3 s trigger no pass and stay fast")
    def _():
        # Let the passes of the writes above settle.
        last = None
        for _ in range(40):
            now = value(families(get(url)[2]), "amc_passes")
            if now == last:
                break
            last = now
            time.sleep(0.5)
        before = value(families(get(url)[2]), "amc_passes")
        took = []
        start = time.monotonic()
        for i in range(300):
            t = time.monotonic()
            get(url)
            took.append(time.monotonic() - t)
            time.sleep(max(0.0, start + (i + 1) * 0.01 - time.monotonic()))
        after = value(families(get(url)[2]), "amc_passes")
        assert after == before, f"passes went {before} -> {after}"
        took.sort()
        p50 = statistics.median(took) * 1000
        p99 = took[int(len(took) * 0.99) - 1] * 1000
        print(f"     300 scrapes at 100/s: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {took[-1] * 1000:.2f} ms")
        assert p99 < 200, p99


def json_logs(path):
    @case("the JSON logs parse line by line and carry the span fields")
    def _():
        lines = [json.loads(line) for line in open(path) if line.strip()]
        assert lines, "no log lines"
        requests = [l for l in lines if l.get("message") == "request finished" and l["span"].get("path") == "/metrics"]
        assert requests, "no request line for /metrics"
        span = requests[0]["span"]
        assert span["method"] == "GET" and span["status"] in (200, 401), span
        assert isinstance(span["latency_ms"], float), span
        passes = [l for l in lines if l.get("span", {}).get("name") == "pass"]
        assert any(l["span"]["trigger"] == "first" for l in passes), "no pass span with its trigger"


if __name__ == "__main__":
    main()
