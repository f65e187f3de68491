// amc TypeScript client: a small wrapper over the generated amc.v1 code (src/gen, protoc-gen-es) and
// @connectrpc/connect-web's gRPC-Web transport. Works in browsers and in Node 20+ (both have fetch).
//
// amc (tonic + tonic-web) speaks gRPC and gRPC-Web, NOT the Connect protocol: always use createGrpcWebTransport
// (createAmcTransport below does).
//
// The same file is bundled, with its dependencies, into dist/amc-client.js (self-contained ESM for the browser).

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  ExplainSessionRequestSchema,
  GetStateRequestSchema,
  SessionFilterSchema,
  StateSchema,
  StateService,
  WatchEventsRequestSchema,
  WatchStateRequestSchema,
  type ExplainSessionResponse,
  type State,
  type StateDelta,
  type WatchStateResponse,
} from "./gen/amc/v1/state_service_pb.js";

import { EventKind, type Event } from "./gen/amc/v1/events_pb.js";
import {
  ActionService,
  AnswerRequestSchema,
  Behavior,
  DecideRequestSchema,
  DismissRequestSchema,
  FocusRequestSchema,
  RestoreRequestSchema,
  SendTextRequestSchema,
  SetRemoteApprovalRequestSchema,
  type ActionResult,
} from "./gen/amc/v1/action_service_pb.js";
import { AckRequestSchema, type AckResponse } from "./gen/amc/v1/state_service_pb.js";

export * from "./gen/amc/v1/action_service_pb.js";
export * from "./gen/amc/v1/events_pb.js";
export * from "./gen/amc/v1/session_pb.js";
export * from "./gen/amc/v1/state_service_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";

/** Where `amc serve` listens by default. */
export const DEFAULT_BASE_URL = "http://127.0.0.1:7400";

/** A session filter as a plain object, e.g. `{ agents: [Agent.CLAUDE], excludeDead: true }`. */
export type SessionFilterInit = MessageInitShape<typeof SessionFilterSchema>;

/** The generated Connect client for amc.v1.StateService. */
export type StateServiceClient = Client<typeof StateService>;

/**
 * Every error of this client. `code` is the gRPC status (Connect's Code enum): `Code.Unavailable` when the server is
 * down or unreachable (after the retries, for watchState), `Code.DeadlineExceeded` on a timeout. `cause` is the
 * underlying ConnectError or network error.
 */
export class AmcError extends Error {
  readonly code: Code;
  readonly baseUrl: string;
  constructor(message: string, code: Code, baseUrl: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AmcError";
    this.code = code;
    this.baseUrl = baseUrl;
  }
}

export interface AmcClientOptions {
  /** amc's address, e.g. "http://127.0.0.1:7400" or, from the dashboard page itself, window.location.origin. */
  baseUrl?: string;
  /** A transport of your own (e.g. with interceptors). It must speak gRPC-Web or gRPC, never Connect. */
  transport?: Transport;
  /**
   * A token, sent as `authorization: Bearer <token>` with every call. Reads need one of scope `read` or `act` when
   * the server requires it (`AMC_READ_TOKEN`, `AMC_TOKENS`, a non-loopback listener); actions need one of scope `act`:
   * `amc serve`'s `<data dir>/token`, `AMC_TOKEN`, or an `act` token of `AMC_TOKENS`. Without one every action is
   * refused (`Code.Unauthenticated`); a `read` token gets `Code.PermissionDenied`.
   */
  token?: string;
}

/** The `authorization` header carrying `options.token`, if there is one. */
function authHeaders(options: AmcClientOptions): Record<string, string> | undefined {
  return options.token ? { authorization: `Bearer ${options.token}` } : undefined;
}

export interface GetStateOptions extends AmcClientOptions {
  /** Server-side filter; revision and instance_id stay those of the whole state. */
  filter?: SessionFilterInit;
  /** Deadline of the call in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

export interface WatchStateOptions extends AmcClientOptions {
  /** The last revision you already have (0n: none); a stream that is already current starts with a heartbeat. */
  sinceRevision?: bigint;
  /** The instance_id sinceRevision belongs to. */
  instanceId?: string;
  /** Server-side filter. */
  filter?: SessionFilterInit;
  /**
   * How many reconnects in a row may fail before watchState throws an AmcError (default 5). The count restarts after
   * every message received. `Infinity` retries forever; 0 never reconnects.
   */
  maxRetries?: number;
  /** First reconnect delay in ms (default 250), doubled per failed attempt up to backoffMaxMs (default 5000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /**
   * A stream that delivers no message (snapshot or heartbeat) for this long is considered dead and reconnected
   * (default 60000; the server sends a heartbeat every 15 s when idle).
   */
  idleTimeoutMs?: number;
  /** Ends the watch: the iterator returns (no error). Breaking out of `for await` does the same. */
  signal?: AbortSignal;
  /** Called before each reconnect attempt. */
  onReconnect?: (info: ReconnectInfo) => void;
}

export interface ReconnectInfo {
  /** 1 for the first retry after a failure, 2 for the next, ... (restarts after a message is received). */
  attempt: number;
  /** The delay before this attempt, in ms. */
  delayMs: number;
  /** Why the previous stream ended. */
  error: AmcError;
  /** The revision and instance_id the new stream resumes from. */
  sinceRevision: bigint;
  instanceId: string;
}

/** A gRPC-Web transport (binary format, fetch) for amc. */
export function createAmcTransport(baseUrl: string = DEFAULT_BASE_URL): Transport {
  return createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
}

/** The raw generated client, for anything the helpers below do not cover. */
export function createStateServiceClient(options: AmcClientOptions = {}): StateServiceClient {
  return createClient(StateService, options.transport ?? createAmcTransport(options.baseUrl));
}

/** Returns the latest published state. Rejects with an AmcError (never hangs past timeoutMs). */
export async function getState(options: GetStateOptions = {}): Promise<State> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const client = createStateServiceClient(options);
  const request = create(GetStateRequestSchema, options.filter ? { filter: options.filter } : {});
  try {
    const response = await client.getState(request, {
      timeoutMs: options.timeoutMs ?? 5000,
      signal: options.signal,
      headers: authHeaders(options),
    });
    if (!response.state) {
      throw new AmcError("amc returned a GetStateResponse without a state", Code.Internal, baseUrl);
    }
    return response.state;
  } catch (err) {
    throw toAmcError(err, baseUrl, "GetState");
  }
}

export interface ExplainSessionOptions extends AmcClientOptions {
  /** Deadline of the call in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Returns why session `sessionId` is what it is (ExplainSession): each rule's decision, value and evidence. For a
 * listed session `present` is true and the decisions are the latest pass's; for a session amc removed (or saw vanish)
 * `present` is false, the last decision is the removal, and `trashPath` says where its file went. Each Decision's
 * `valueJson` and `evidenceJson` are JSON text (`JSON.parse` them). Rejects with an AmcError: `Code.NotFound` for an
 * id amc has not seen, `Code.InvalidArgument` for an id that cannot name a session file.
 */
export async function explainSession(
  sessionId: string,
  options: ExplainSessionOptions = {},
): Promise<ExplainSessionResponse> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const client = createStateServiceClient(options);
  try {
    return await client.explainSession(create(ExplainSessionRequestSchema, { sessionId }), {
      timeoutMs: options.timeoutMs ?? 5000,
      signal: options.signal,
      headers: authHeaders(options),
    });
  } catch (err) {
    throw toAmcError(err, baseUrl, "ExplainSession");
  }
}

/** Returns `state` with `delta` applied: the State the server would have sent as a snapshot. */
function applyDelta(state: State, message: WatchStateResponse, delta: StateDelta): State {
  const replaced = new Set([...delta.removedSessionIds, ...delta.upsertedSessions.map((s) => s.sessionId)]);
  const sessions = state.sessions.filter((s) => !replaced.has(s.sessionId)).concat(delta.upsertedSessions);
  sessions.sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
  return create(StateSchema, {
    revision: message.revision,
    instanceId: message.instanceId,
    sessions,
    snapshotTime: delta.snapshotTime,
  });
}

/**
 * Watches the state: yields the first snapshot, then one State per change. Heartbeats are consumed silently but
 * advance the last revision. When the stream breaks (server restart, network error, idle timeout) it reconnects with
 * the last revision and instance_id, backing off exponentially, and throws an AmcError once `maxRetries` reconnects
 * in a row have failed. After a server restart (new instance_id) the next State is a full snapshot of the new
 * instance; compare `state.instanceId` if you care. Changes travel as deltas (only the sessions that changed), which
 * the watch applies to the last State it yielded, so every item is still a whole State.
 */
export async function* watchState(options: WatchStateOptions = {}): AsyncGenerator<State, void, undefined> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const client = createStateServiceClient(options);
  const maxRetries = options.maxRetries ?? 5;
  const backoffInitialMs = options.backoffInitialMs ?? 250;
  const backoffMaxMs = options.backoffMaxMs ?? 5000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const filter = options.filter ? create(SessionFilterSchema, options.filter) : undefined;
  const outer = options.signal;
  let revision = options.sinceRevision ?? 0n;
  let instanceId = options.instanceId ?? "";
  let failures = 0;
  // The last State yielded: the base the server's deltas apply to. Without one (resumed from a revision the caller
  // got elsewhere) the watch asks for whole snapshots until a reconnect.
  let state: State | undefined;

  while (!outer?.aborted) {
    const attempt = new AbortController();
    const onOuterAbort = () => attempt.abort();
    outer?.addEventListener("abort", onOuterAbort);
    let idleFired = false;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleFired = true;
        attempt.abort();
      }, idleTimeoutMs);
    };
    let failure: AmcError;
    try {
      armIdle();
      // Deltas (the changed sessions only) when this watch holds the State they apply to, or will get it first.
      const deltas = revision === 0n || state !== undefined;
      const request = create(WatchStateRequestSchema, { sinceRevision: revision, instanceId, filter, deltas });
      let resync = false;
      for await (const message of client.watchState(request, { signal: attempt.signal, headers: authHeaders(options) })) {
        armIdle();
        failures = 0;
        let next: State | undefined;
        if (message.kind.case === "snapshot") {
          next = message.kind.value;
        } else if (message.kind.case === "delta") {
          if (state === undefined || message.kind.value.baseRevision !== revision) {
            // Not the State this watch holds (never expected): start over with a full snapshot.
            resync = true;
            break;
          }
          next = applyDelta(state, message, message.kind.value);
        }
        revision = message.revision;
        instanceId = message.instanceId;
        if (next !== undefined) {
          state = next;
          // The consumer may take its time with a State: that is not the server being idle.
          if (idleTimer !== undefined) clearTimeout(idleTimer);
          yield next;
          armIdle();
        }
      }
      if (resync) {
        state = undefined;
        revision = 0n;
        instanceId = "";
        continue;
      }
      // The server never ends a watch with OK; treat it like a dropped stream.
      failure = new AmcError("WatchState ended without a status", Code.Unavailable, baseUrl);
    } catch (err) {
      if (outer?.aborted) return;
      failure = idleFired
        ? new AmcError(`no message from amc at ${baseUrl} for ${idleTimeoutMs} ms`, Code.DeadlineExceeded, baseUrl, {
            cause: err,
          })
        : toAmcError(err, baseUrl, "WatchState");
      if (!isRetryable(failure)) throw failure;
    } finally {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      outer?.removeEventListener("abort", onOuterAbort);
      attempt.abort();
    }
    failures += 1;
    if (failures > maxRetries) {
      throw new AmcError(
        `${failure.message} (gave up after ${maxRetries} reconnect attempt${maxRetries === 1 ? "" : "s"})`,
        failure.code,
        baseUrl,
        { cause: failure },
      );
    }
    const delayMs = Math.min(backoffMaxMs, backoffInitialMs * 2 ** (failures - 1));
    options.onReconnect?.({ attempt: failures, delayMs, error: failure, sinceRevision: revision, instanceId });
    if (!(await sleep(delayMs, outer))) return;
  }
}

export interface WatchEventsOptions extends AmcClientOptions {
  /** Replay the kept events after this id first (0n, the default: only new events). */
  sinceEventId?: bigint;
  /** Server-side filter, as watchState's. */
  filter?: SessionFilterInit;
  /** Only these kinds (EventKind values or names such as "attention_raised"; empty: all). */
  kinds?: (EventKind | string)[];
  /** As watchState's: reconnects in a row before throwing (default 5), backoff, idle timeout, abort, callback. */
  maxRetries?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called before each reconnect; `sinceRevision` is then the event id the watch resumes after. */
  onReconnect?: (info: ReconnectInfo) => void;
}

/**
 * Watches amc's events (attention_raised, attention_cleared, turn_done, ...): yields one Event each. Reconnects as
 * watchState does, resuming after the last event yielded, so nothing is missed or repeated across server restarts
 * (the server keeps at least the last 10 000 events and every event of the last 24 hours).
 */
export async function* watchEvents(options: WatchEventsOptions = {}): AsyncGenerator<Event, void, undefined> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const client = createStateServiceClient(options);
  const maxRetries = options.maxRetries ?? 5;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const filter = options.filter ? create(SessionFilterSchema, options.filter) : undefined;
  const kinds = (options.kinds ?? []).map((k) =>
    typeof k === "string" ? (EventKind as unknown as Record<string, EventKind>)[k.toUpperCase()] : k,
  );
  if (kinds.some((k) => k === undefined)) {
    throw new AmcError(`unknown event kind in ${JSON.stringify(options.kinds)}`, Code.InvalidArgument, baseUrl);
  }
  const outer = options.signal;
  let after = options.sinceEventId ?? 0n;
  let failures = 0;
  while (!outer?.aborted) {
    const attempt = new AbortController();
    const onOuterAbort = () => attempt.abort();
    outer?.addEventListener("abort", onOuterAbort);
    let idleFired = false;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleFired = true;
        attempt.abort();
      }, idleTimeoutMs);
    };
    let failure: AmcError;
    try {
      armIdle();
      const request = create(WatchEventsRequestSchema, { sinceEventId: after, filter, kinds });
      for await (const message of client.watchEvents(request, { signal: attempt.signal, headers: authHeaders(options) })) {
        armIdle();
        failures = 0;
        if (message.kind.case === "event") {
          after = message.kind.value.id;
          if (idleTimer !== undefined) clearTimeout(idleTimer);
          yield message.kind.value;
          armIdle();
        } else if (after === 0n) {
          // A watch that started at "now" resumes from the newest id the server reported.
          after = message.newestEventId;
        }
      }
      failure = new AmcError("WatchEvents ended without a status", Code.Unavailable, baseUrl);
    } catch (err) {
      if (outer?.aborted) return;
      failure = idleFired
        ? new AmcError(`no message from amc at ${baseUrl} for ${idleTimeoutMs} ms`, Code.DeadlineExceeded, baseUrl, {
            cause: err,
          })
        : toAmcError(err, baseUrl, "WatchEvents");
      if (!isRetryable(failure)) throw failure;
    } finally {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      outer?.removeEventListener("abort", onOuterAbort);
      attempt.abort();
    }
    failures += 1;
    if (failures > maxRetries) throw failure;
    const delayMs = Math.min(options.backoffMaxMs ?? 5000, (options.backoffInitialMs ?? 250) * 2 ** (failures - 1));
    options.onReconnect?.({ attempt: failures, delayMs, error: failure, sinceRevision: after, instanceId: "" });
    if (!(await sleep(delayMs, outer))) return;
  }
}

/** The generated Connect client for amc.v1.ActionService. */
export type ActionServiceClient = Client<typeof ActionService>;

/** The raw generated ActionService client (pass the token yourself as an `authorization: Bearer …` header). */
export function createActionServiceClient(options: AmcClientOptions = {}): ActionServiceClient {
  return createClient(ActionService, options.transport ?? createAmcTransport(options.baseUrl));
}

export interface ActionOptions extends AmcClientOptions {
  /** Deadline of the call in milliseconds (default 10000: typing into a pane waits for Zellij). */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

function callOptions(options: ActionOptions) {
  return {
    timeoutMs: options.timeoutMs ?? 10_000,
    signal: options.signal,
    headers: authHeaders(options),
  };
}

/** Runs one ActionService call and returns its ActionResult; every failure is an AmcError. */
async function act(
  rpc: string,
  options: ActionOptions,
  call: (client: ActionServiceClient) => Promise<{ result?: ActionResult }>,
): Promise<ActionResult> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  try {
    const response = await call(createActionServiceClient(options));
    if (!response.result) throw new AmcError(`amc returned a ${rpc} response without a result`, Code.Internal, baseUrl);
    return response.result;
  } catch (err) {
    throw toAmcError(err, baseUrl, rpc);
  }
}

/**
 * Allows or denies the held permission request `requestId` (the session's `attention.requestId`). `outcome`:
 * `delivered`, `already_answered` (another decision won) or `withdrawn` (the hook stopped waiting). `message` is shown
 * to Claude with a denial.
 */
export function decide(
  sessionId: string,
  requestId: string,
  behavior: "allow" | "deny",
  options: ActionOptions & { message?: string } = {},
): Promise<ActionResult> {
  const request = create(DecideRequestSchema, {
    sessionId,
    requestId,
    behavior: behavior === "allow" ? Behavior.ALLOW : Behavior.DENY,
    message: options.message,
  });
  return act("Decide", options, (c) => c.decide(request, callOptions(options)));
}

/**
 * Answers the session's pending question (AskUserQuestion) with 1-based option numbers (several for a multi-select
 * question) or free text. `already_answered` when no question waits.
 */
export function answer(
  sessionId: string,
  choice: { options?: number[]; text?: string },
  options: ActionOptions = {},
): Promise<ActionResult> {
  const request = create(AnswerRequestSchema, { sessionId, options: choice.options ?? [], text: choice.text ?? "" });
  return act("Answer", options, (c) => c.answer(request, callOptions(options)));
}

/**
 * Types `text` and Enter into the session's own Zellij pane (`delivered` or `pane_gone`). Control characters and more
 * than 16 KiB are refused (`Code.InvalidArgument`); a Zellij older than 0.44 with `Code.FailedPrecondition`.
 */
export function sendText(sessionId: string, text: string, options: ActionOptions = {}): Promise<ActionResult> {
  const request = create(SendTextRequestSchema, { sessionId, text });
  return act("SendText", options, (c) => c.sendText(request, callOptions(options)));
}

/** Moves a dead, done or ended session's file to the trash (`dismissed`, `already_dismissed`). */
export function dismiss(sessionId: string, options: ActionOptions = {}): Promise<ActionResult> {
  return act("Dismiss", options, (c) => c.dismiss(create(DismissRequestSchema, { sessionId }), callOptions(options)));
}

/** Brings a dismissed session's file back from the trash (`restored`, `already_present`). */
export function restore(sessionId: string, options: ActionOptions = {}): Promise<ActionResult> {
  return act("Restore", options, (c) => c.restore(create(RestoreRequestSchema, { sessionId }), callOptions(options)));
}

/**
 * Turns remote approval on or off for a Claude session ("I am away from this pane"): while on, its
 * PermissionRequest hooks wait for `decide`. Kept in the session file: it survives a server restart (`enabled`,
 * `disabled`).
 */
export function setRemoteApproval(sessionId: string, enabled: boolean, options: ActionOptions = {}): Promise<ActionResult> {
  const request = create(SetRemoteApprovalRequestSchema, { sessionId, enabled });
  return act("SetRemoteApproval", options, (c) => c.setRemoteApproval(request, callOptions(options)));
}

/**
 * Focuses the session's own Zellij pane (`focused` or `pane_gone`); a Zellij without `action focus-pane-id` (before
 * 0.44.1) is refused with `Code.FailedPrecondition`.
 */
export function focus(sessionId: string, options: ActionOptions = {}): Promise<ActionResult> {
  return act("Focus", options, (c) => c.focus(create(FocusRequestSchema, { sessionId }), callOptions(options)));
}

/**
 * Acknowledges the session's attention: no notification of it until its next attention (StateService/Ack, scope
 * `act`, audited like the actions). `acknowledged` is false when amc's notifications do not run.
 */
export async function ack(sessionId: string, options: ActionOptions = {}): Promise<AckResponse> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  try {
    return await createStateServiceClient(options).ack(create(AckRequestSchema, { sessionId }), callOptions(options));
  } catch (err) {
    throw toAmcError(err, baseUrl, "Ack");
  }
}

function isRetryable(err: AmcError): boolean {
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded;
}

/** Maps a ConnectError or a fetch failure to an AmcError with a message that names the server. */
function toAmcError(err: unknown, baseUrl: string, rpc: string): AmcError {
  if (err instanceof AmcError) return err;
  const ce = ConnectError.from(err);
  let code = ce.code;
  // fetch() rejects with a TypeError ("fetch failed", "Failed to fetch", "terminated") when the server is absent or
  // the connection drops; Connect reports that as Unknown. It is an unavailable server.
  if (code === Code.Unknown && isNetworkError(ce.cause ?? err)) code = Code.Unavailable;
  const what =
    code === Code.Unavailable
      ? `amc at ${baseUrl} is unavailable`
      : code === Code.DeadlineExceeded
        ? `amc at ${baseUrl} did not answer in time`
        : `amc at ${baseUrl} failed`;
  return new AmcError(`${rpc}: ${what}: ${ce.rawMessage || ce.message}`, code, baseUrl, { cause: err });
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError;
}

/** Resolves true after ms, or false as soon as signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
