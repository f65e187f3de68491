// The TypeScript client against a real amc over gRPC-Web on HTTP/1.1 (fetch), run by scripts/test-clients:
//   AMC_TEST_BASE_URL=http://127.0.0.1:PORT AMC_TEST_DATA_DIR=... node --import tsx --test test/*.test.ts
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  AmcError,
  Agent,
  Code,
  SessionStatus,
  EventKind,
  ack,
  answer,
  decide,
  dismiss,
  explainSession,
  focus,
  getState,
  restore,
  sendText,
  setRemoteApproval,
  watchEvents,
  watchState,
  type ReconnectInfo,
  type State,
} from "../src/index.js";

const baseUrl = process.env.AMC_TEST_BASE_URL ?? "";
const dataDir = process.env.AMC_TEST_DATA_DIR ?? "";
const PREPARED = "prepared-attention";

function writeSession(id: string, fields: Record<string, unknown> = {}): void {
  const dir = join(dataDir, "sessions");
  mkdirSync(dir, { recursive: true });
  const body = {
    session_id: id,
    status: "active",
    agent: "claude",
    project_dir: "/tmp/project",
    zellij_session: "z",
    zellij_pane: `ts-${id}`, // one session per pane, or amc trashes the extra ones
    ...fields,
  };
  const tmp = join(dir, `.${id}.json.tmp`);
  writeFileSync(tmp, JSON.stringify(body));
  renameSync(tmp, join(dir, `${id}.json`));
}

const ids = (s: State) => new Set(s.sessions.map((x) => x.sessionId));

/** Pulls from the iterator until pred matches, failing after timeoutMs. */
async function waitFor(
  it: AsyncIterator<State>,
  pred: (s: State) => boolean,
  timeoutMs = 5000,
): Promise<State> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching snapshot within ${timeoutMs} ms`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no snapshot within ${timeoutMs} ms`)), left);
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) throw new Error("watch ended");
      if (pred(r.value)) return r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("amc TypeScript client (gRPC-Web over HTTP/1.1)", { skip: !baseUrl && "AMC_TEST_BASE_URL not set" }, () => {
  test("getState returns the prepared session", async () => {
    const state = await getState({ baseUrl });
    assert.ok(state.revision > 0n);
    assert.ok(state.instanceId.length > 0);
    const s = state.sessions.find((x) => x.sessionId === PREPARED);
    assert.ok(s, "prepared session missing");
    assert.equal(s.status, SessionStatus.NEEDS_ATTENTION);
    assert.equal(s.agent, Agent.CLAUDE);
    assert.deepEqual(
      s.pendingQuestions.map((q) => q.question),
      ["Proceed?"],
    );
  });

  test("getState with a filter", async () => {
    const only = await getState({ baseUrl, filter: { sessionIds: [PREPARED] } });
    assert.deepEqual([...ids(only)], [PREPARED]);
    const codex = await getState({ baseUrl, filter: { agents: [Agent.CODEX] } });
    assert.ok(!ids(codex).has(PREPARED));
  });

  test("watchState: first snapshot, then a change made on disk", async () => {
    const current = await getState({ baseUrl });
    const ac = new AbortController();
    const it = watchState({ baseUrl, signal: ac.signal })[Symbol.asyncIterator]();
    try {
      const first = await waitFor(it, () => true);
      assert.equal(first.instanceId, current.instanceId);
      assert.ok(first.revision >= current.revision);
      assert.ok(ids(first).has(PREPARED));

      const id = `ts-change-${randomUUID().slice(0, 8)}`;
      writeSession(id);
      const added = await waitFor(it, (s) => ids(s).has(id));
      assert.ok(added.revision > first.revision);
    } finally {
      ac.abort();
    }
    const end = await it.next();
    assert.equal(end.done, true, "an aborted watch ends without an error");
  });

  test("watchEvents: attention raised and cleared, resumable by id", async () => {
    const id = `ts-events-${randomUUID().slice(0, 8)}`;
    writeSession(id);
    const watch = new AbortController();
    const states = watchState({ baseUrl, signal: watch.signal })[Symbol.asyncIterator]();
    await waitFor(states, (s) => ids(s).has(id));
    watch.abort();
    const ac = new AbortController();
    const it = watchEvents({
      baseUrl,
      signal: ac.signal,
      filter: { sessionIds: [id] },
      kinds: ["attention_raised", EventKind.ATTENTION_CLEARED],
    })[Symbol.asyncIterator]();
    const next = async () => {
      const r = await Promise.race([
        it.next(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event within 5 s")), 5000)),
      ]);
      assert.ok(!r.done);
      return r.value;
    };
    try {
      const first = next();
      await new Promise((r) => setTimeout(r, 200)); // the watch starts at the newest event: let it subscribe
      writeSession(id, { status: "needs_attention", attention: { kind: "question" } });
      const raised = await first;
      assert.equal(raised.kind, EventKind.ATTENTION_RAISED);
      assert.equal(raised.attentionKind, "question");
      assert.equal(raised.sessionId, id);
      writeSession(id, { status: "active" });
      const cleared = await next();
      assert.equal(cleared.rawKind, "attention_cleared");
      assert.ok(cleared.id > raised.id);
      // Resume from the raised event: the cleared one again.
      const again = watchEvents({ baseUrl, sinceEventId: raised.id, filter: { sessionIds: [id] } });
      for await (const event of again) {
        assert.equal(event.id, cleared.id);
        break;
      }
    } finally {
      ac.abort();
    }
  });

  test("watchState applies deltas into whole States equal to getState's", async () => {
    const ac = new AbortController();
    const it = watchState({ baseUrl, signal: ac.signal })[Symbol.asyncIterator]();
    try {
      await waitFor(it, () => true);
      const id = `ts-delta-${randomUUID().slice(0, 8)}`;
      writeSession(id);
      await waitFor(it, (s) => ids(s).has(id));
      writeSession(id, { status: "needs_attention" });
      let latest = await waitFor(it, (s) => s.sessions.some((x) => x.sessionId === id && x.rawStatus === "needs_attention"));
      const current = await getState({ baseUrl });
      if (current.revision > latest.revision) latest = await waitFor(it, (s) => s.revision >= current.revision);
      assert.equal(latest.revision, current.revision);
      assert.deepEqual(
        latest.sessions.map((x) => [x.sessionId, x.rawStatus, x.isDead]),
        current.sessions.map((x) => [x.sessionId, x.rawStatus, x.isDead]),
      );
      assert.deepEqual(latest.sessions, current.sessions, "the rebuilt state is the server's");
    } finally {
      ac.abort();
    }
  });

  test("watchState resumes silently when already current", async () => {
    const current = await getState({ baseUrl });
    const it = watchState({ baseUrl, sinceRevision: current.revision, instanceId: current.instanceId });
    const first = it.next();
    let settled = false;
    void first.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1200)); // heartbeats only (AMC_HEARTBEAT_MS=500)
    assert.equal(settled, false, "no snapshot while nothing changed");
    const id = `ts-resume-${randomUUID().slice(0, 8)}`;
    writeSession(id);
    const r = await first;
    assert.ok(!r.done && r.value.revision > current.revision && ids(r.value).has(id));
    await it.return(undefined); // break out: aborts the stream
  });

  test("breaking out of for-await ends the stream", async () => {
    let n = 0;
    for await (const state of watchState({ baseUrl })) {
      assert.ok(state.sessions.length > 0);
      n++;
      break;
    }
    assert.equal(n, 1);
  });

  test("absent server: getState rejects with AmcError(Unavailable) quickly", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    await assert.rejects(getState({ baseUrl: url }), (err: unknown) => {
      assert.ok(err instanceof AmcError, String(err));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /unavailable/);
      assert.ok(err.message.includes(url));
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });

  test("absent server: watchState gives up after maxRetries", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const reconnects: ReconnectInfo[] = [];
    const started = Date.now();
    await assert.rejects(
      (async () => {
        for await (const _ of watchState({ baseUrl: url, maxRetries: 2, backoffInitialMs: 50, onReconnect: (r) => reconnects.push(r) })) {
          assert.fail("no snapshot expected");
        }
      })(),
      (err: unknown) => {
        assert.ok(err instanceof AmcError, String(err));
        assert.equal(err.code, Code.Unavailable);
        assert.match(err.message, /gave up after 2 reconnect attempts/);
        return true;
      },
    );
    assert.equal(reconnects.length, 2);
    assert.ok(Date.now() - started < 3000);
  });

  test("hung server: getState times out", async () => {
    const sockets: import("node:net").Socket[] = [];
    const srv = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      await assert.rejects(getState({ baseUrl: url, timeoutMs: 500 }), (err: unknown) => {
        assert.ok(err instanceof AmcError, String(err));
        assert.equal(err.code, Code.DeadlineExceeded);
        return true;
      });
      assert.ok(Date.now() - started < 3000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe("actions (ActionService and Ack) with a token of scope act", { skip: !baseUrl && "AMC_TEST_BASE_URL not set" }, () => {
  // amc serve created <data dir>/token (scope act) on its first start.
  const token = () => readFileSync(join(dataDir, "token"), "utf8").trim();
  const refused = (code: Code) => (err: unknown) => {
    assert.ok(err instanceof AmcError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  };
  const session = async (id: string) => (await getState({ baseUrl, filter: { sessionIds: [id] } })).sessions[0];

  test("every action without a token is UNAUTHENTICATED, with a wrong one too", async () => {
    const calls = [
      () => decide(PREPARED, "r", "allow", { baseUrl }),
      () => answer(PREPARED, { options: [1] }, { baseUrl }),
      () => sendText(PREPARED, "hi", { baseUrl }),
      () => dismiss(PREPARED, { baseUrl }),
      () => restore(PREPARED, { baseUrl }),
      () => setRemoteApproval(PREPARED, true, { baseUrl }),
      () => focus(PREPARED, { baseUrl }),
      () => ack(PREPARED, { baseUrl }),
      () => focus(PREPARED, { baseUrl, token: "not-the-token-0123" }),
    ];
    for (const call of calls) await assert.rejects(call(), refused(Code.Unauthenticated));
  });

  test("dismiss and restore a finished session", async () => {
    const id = `ts-done-${randomUUID().slice(0, 8)}`;
    writeSession(id, { status: "done" });
    const ac = new AbortController();
    const it = watchState({ baseUrl, signal: ac.signal })[Symbol.asyncIterator]();
    try {
      await waitFor(it, (s) => ids(s).has(id));
      const done = await dismiss(id, { baseUrl, token: token() });
      assert.deepEqual([done.sessionId, done.action, done.outcome], [id, "dismiss", "dismissed"]);
      await waitFor(it, (s) => !ids(s).has(id));
      assert.equal((await restore(id, { baseUrl, token: token() })).outcome, "restored");
      await waitFor(it, (s) => ids(s).has(id));
      assert.equal((await restore(id, { baseUrl, token: token() })).outcome, "already_present");
    } finally {
      ac.abort();
    }
    await assert.rejects(dismiss(PREPARED, { baseUrl, token: token() }), refused(Code.FailedPrecondition));
    await assert.rejects(restore("ts-never-there", { baseUrl, token: token() }), refused(Code.NotFound));
  });

  test("setRemoteApproval holds the hook's request and decide answers it", async () => {
    const id = `ts-away-${randomUUID().slice(0, 8)}`;
    writeSession(id);
    const ac = new AbortController();
    const it = watchState({ baseUrl, signal: ac.signal })[Symbol.asyncIterator]();
    try {
      await waitFor(it, (s) => ids(s).has(id));
      assert.equal((await setRemoteApproval(id, true, { baseUrl, token: token() })).outcome, "enabled");
      await waitFor(it, (s) => s.sessions.some((x) => x.sessionId === id && x.remoteApproval));
      assert.equal((await session(id)).remoteApproval, true);
    } finally {
      ac.abort();
    }
    // What `amc hook` does on PermissionRequest: register, then wait for the decision.
    const headers = { authorization: `Bearer ${token()}`, "content-type": "application/json" };
    const registered = await (
      await fetch(`${baseUrl}/api/hook/permission`, { method: "POST", headers, body: JSON.stringify({ session_id: id }) })
    ).json();
    assert.equal(registered.hold, true);
    const waiting = fetch(`${baseUrl}/api/hook/permission/${registered.request_id}/wait`, { method: "POST", headers });
    const first = await decide(id, registered.request_id, "deny", { baseUrl, token: token(), message: "not now" });
    assert.deepEqual([first.action, first.outcome], ["decide", "delivered"]);
    assert.deepEqual(await (await waiting).json(), { behavior: "deny", message: "not now" });
    const late = await decide(id, registered.request_id, "allow", { baseUrl, token: token() });
    assert.equal(late.outcome, "already_answered");
    await assert.rejects(decide(id, "no-such-request", "allow", { baseUrl, token: token() }), refused(Code.NotFound));
    assert.equal((await setRemoteApproval(id, false, { baseUrl, token: token() })).outcome, "disabled");
  });

  test("sendText, answer and focus: bad text is refused, a missing Zellij is a failed precondition", async () => {
    await assert.rejects(sendText(PREPARED, "\u001b[2J", { baseUrl, token: token() }), refused(Code.InvalidArgument));
    await assert.rejects(sendText(PREPARED, "x".repeat(20_000), { baseUrl, token: token() }), refused(Code.InvalidArgument));
    await assert.rejects(sendText("ts-ghost", "hi", { baseUrl, token: token() }), refused(Code.NotFound));
    await assert.rejects(answer(PREPARED, {}, { baseUrl, token: token() }), refused(Code.InvalidArgument));
    // The shared server runs with AMC_ZELLIJ_BIN=/nonexistent: nothing can be typed or focused.
    await assert.rejects(sendText(PREPARED, "hi", { baseUrl, token: token() }), refused(Code.FailedPrecondition));
    await assert.rejects(answer(PREPARED, { options: [1] }, { baseUrl, token: token() }), refused(Code.FailedPrecondition));
    await assert.rejects(focus(PREPARED, { baseUrl, token: token() }), refused(Code.FailedPrecondition));
    await assert.rejects(focus("ts-ghost", { baseUrl, token: token() }), refused(Code.NotFound));
  });

  test("ack acknowledges a listed session; an unknown one is NOT_FOUND", async () => {
    const done = await ack(PREPARED, { baseUrl, token: token() });
    assert.equal(done.sessionId, PREPARED);
    assert.equal(typeof done.acknowledged, "boolean");
    await assert.rejects(ack("ts-ghost", { baseUrl, token: token() }), refused(Code.NotFound));
  });

  test("every try is in the audit log, under the token's name", async () => {
    const response = await fetch(`${baseUrl}/api/audit?limit=10000`, { headers: { authorization: `Bearer ${token()}` } });
    assert.equal(response.status, 200);
    const entries: { action: string; outcome: string; token: string | null }[] = (await response.json()).entries;
    const seen = new Set(entries.map((e) => `${e.action}:${e.outcome}`));
    for (const line of ["dismiss:dismissed", "restore:restored", "remote_approval:enabled", "decide:delivered",
      "decide:already_answered", "send_text:refused", "focus:failed", "ack:refused", "focus:refused"]) {
      assert.ok(seen.has(line), `${line} missing from ${[...seen].join(" ")}`);
    }
    assert.ok(entries.some((e) => e.action === "ack" && e.token === "local" && e.outcome !== "refused"));
  });
});

describe("dist/amc-client.js (the browser bundle)", { skip: !baseUrl && "AMC_TEST_BASE_URL not set" }, () => {
  let bundle: typeof import("../dist/amc-client.js");
  before(async () => {
    bundle = await import("../dist/amc-client.js");
  });
  after(() => undefined);

  test("is self-contained ESM (no bare or remote imports)", async () => {
    const { readFileSync } = await import("node:fs");
    const src = readFileSync(new URL("../dist/amc-client.js", import.meta.url), "utf8");
    assert.doesNotMatch(src, /^\s*import\s/m);
    assert.doesNotMatch(src, /\brequire\(/);
    assert.doesNotMatch(src, /https?:\/\/(cdn|unpkg|esm\.sh|jsdelivr)/);
  });

  test("unary and streaming calls work through the bundle", async () => {
    const state = await bundle.getState({ baseUrl });
    assert.ok(ids(state).has(PREPARED));
    for await (const s of bundle.watchState({ baseUrl })) {
      assert.equal(s.instanceId, state.instanceId);
      break;
    }
  });
});

// A server of the test's own, restarted on the same port while a watch is open.
describe("watchState reconnects across a server restart", { skip: !process.env.AMC_BIN && "AMC_BIN not set" }, () => {
  test("resumes on the same port with the new instance's snapshot", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtempSync, readFileSync, existsSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const root = mkdtempSync(join(tmpdir(), "amc-ts-"));
    const ownData = join(root, "data");
    const addrFile = join(root, "addr");
    mkdirSync(join(ownData, "sessions"), { recursive: true });
    const start = async (listen: string) => {
      rmSync(addrFile, { force: true });
      const child = spawn(process.env.AMC_BIN!, ["serve", "--listen", listen, "--addr-file", addrFile], {
        env: { ...process.env, HOME: root, AMC_DATA_DIR: ownData, AMC_ZELLIJ_BIN: "/nonexistent", AMC_HEARTBEAT_MS: "500" },
        stdio: "ignore",
      });
      for (let i = 0; i < 150; i++) {
        if (existsSync(addrFile) && readFileSync(addrFile, "utf8").trim()) {
          return { child, addr: readFileSync(addrFile, "utf8").trim() };
        }
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGKILL");
      throw new Error(`amc did not start on ${listen}`);
    };
    const stop = (child: import("node:child_process").ChildProcess) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });

    let server = await start("127.0.0.1:0");
    const url = `http://${server.addr}`;
    const ac = new AbortController();
    const reconnects: ReconnectInfo[] = [];
    const it = watchState({
      baseUrl: url,
      signal: ac.signal,
      backoffInitialMs: 100,
      backoffMaxMs: 500,
      maxRetries: 40,
      onReconnect: (r) => reconnects.push(r),
    })[Symbol.asyncIterator]();
    try {
      const first = await waitFor(it, () => true);
      await stop(server.child); // open watches end with UNAVAILABLE
      server = await start(server.addr);
      const sessionsDir = join(ownData, "sessions");
      const tmp = join(sessionsDir, ".after.json.tmp");
      writeFileSync(tmp, JSON.stringify({ session_id: "after", status: "needs_attention", agent: "codex", zellij_pane: "9" }));
      renameSync(tmp, join(sessionsDir, "after.json"));
      const next = await waitFor(it, (s) => s.instanceId !== first.instanceId && ids(s).has("after"), 15000);
      assert.notEqual(next.instanceId, first.instanceId);
      assert.ok(reconnects.length >= 1);
      assert.equal(reconnects[0].sinceRevision, first.revision);
      assert.equal(reconnects[0].instanceId, first.instanceId);
      assert.equal(reconnects[0].error.code, Code.Unavailable);
    } finally {
      ac.abort();
      await stop(server.child);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the token goes with every call, reads included", () => {
  test("getState, explainSession, watchState and watchEvents send authorization: Bearer <token>", async () => {
    // A server that only records what it was sent and answers 503: each call fails, the header is what counts.
    const seen: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume();
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const options = { baseUrl: url, token: "read-token-0123456789" };
      await assert.rejects(getState({ ...options, timeoutMs: 2000 }), AmcError);
      await assert.rejects(explainSession("s1", { ...options, timeoutMs: 2000 }), AmcError);
      await assert.rejects(watchState({ ...options, maxRetries: 0 }).next(), AmcError);
      await assert.rejects(watchEvents({ ...options, maxRetries: 0 }).next(), AmcError);
      assert.equal(seen.length, 4, `requests seen: ${seen.length}`);
      for (const header of seen) assert.equal(header, "Bearer read-token-0123456789");
      // Without a token, none is sent.
      await assert.rejects(getState({ baseUrl: url, timeoutMs: 2000 }), AmcError);
      assert.equal(seen[4], undefined);
    } finally {
      server.close();
    }
  });
});
