import { type MessageInitShape } from "@bufbuild/protobuf";
import { Code, type Client, type Transport } from "@connectrpc/connect";
import { SessionFilterSchema, StateService, type ExplainSessionResponse, type State } from "./gen/amc/v1/state_service_pb.js";
import { EventKind, type Event } from "./gen/amc/v1/events_pb.js";
import { ActionService, type ActionResult } from "./gen/amc/v1/action_service_pb.js";
import { type AckResponse } from "./gen/amc/v1/state_service_pb.js";
export * from "./gen/amc/v1/action_service_pb.js";
export * from "./gen/amc/v1/events_pb.js";
export * from "./gen/amc/v1/session_pb.js";
export * from "./gen/amc/v1/state_service_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";
/** Where `amc serve` listens by default. */
export declare const DEFAULT_BASE_URL = "http://127.0.0.1:7400";
/** A session filter as a plain object, e.g. `{ agents: [Agent.CLAUDE], excludeDead: true }`. */
export type SessionFilterInit = MessageInitShape<typeof SessionFilterSchema>;
/** The generated Connect client for amc.v1.StateService. */
export type StateServiceClient = Client<typeof StateService>;
/**
 * Every error of this client. `code` is the gRPC status (Connect's Code enum): `Code.Unavailable` when the server is
 * down or unreachable (after the retries, for watchState), `Code.DeadlineExceeded` on a timeout. `cause` is the
 * underlying ConnectError or network error.
 */
export declare class AmcError extends Error {
    readonly code: Code;
    readonly baseUrl: string;
    constructor(message: string, code: Code, baseUrl: string, options?: {
        cause?: unknown;
    });
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
export declare function createAmcTransport(baseUrl?: string): Transport;
/** The raw generated client, for anything the helpers below do not cover. */
export declare function createStateServiceClient(options?: AmcClientOptions): StateServiceClient;
/** Returns the latest published state. Rejects with an AmcError (never hangs past timeoutMs). */
export declare function getState(options?: GetStateOptions): Promise<State>;
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
export declare function explainSession(sessionId: string, options?: ExplainSessionOptions): Promise<ExplainSessionResponse>;
/**
 * Watches the state: yields the first snapshot, then one State per change. Heartbeats are consumed silently but
 * advance the last revision. When the stream breaks (server restart, network error, idle timeout) it reconnects with
 * the last revision and instance_id, backing off exponentially, and throws an AmcError once `maxRetries` reconnects
 * in a row have failed. After a server restart (new instance_id) the next State is a full snapshot of the new
 * instance; compare `state.instanceId` if you care. Changes travel as deltas (only the sessions that changed), which
 * the watch applies to the last State it yielded, so every item is still a whole State.
 */
export declare function watchState(options?: WatchStateOptions): AsyncGenerator<State, void, undefined>;
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
export declare function watchEvents(options?: WatchEventsOptions): AsyncGenerator<Event, void, undefined>;
/** The generated Connect client for amc.v1.ActionService. */
export type ActionServiceClient = Client<typeof ActionService>;
/** The raw generated ActionService client (pass the token yourself as an `authorization: Bearer …` header). */
export declare function createActionServiceClient(options?: AmcClientOptions): ActionServiceClient;
export interface ActionOptions extends AmcClientOptions {
    /** Deadline of the call in milliseconds (default 10000: typing into a pane waits for Zellij). */
    timeoutMs?: number;
    /** Cancels the call. */
    signal?: AbortSignal;
}
/**
 * Allows or denies the held permission request `requestId` (the session's `attention.requestId`). `outcome`:
 * `delivered`, `already_answered` (another decision won) or `withdrawn` (the hook stopped waiting). `message` is shown
 * to Claude with a denial.
 */
export declare function decide(sessionId: string, requestId: string, behavior: "allow" | "deny", options?: ActionOptions & {
    message?: string;
}): Promise<ActionResult>;
/**
 * Answers the session's pending question (AskUserQuestion) with 1-based option numbers (several for a multi-select
 * question) or free text. `already_answered` when no question waits.
 */
export declare function answer(sessionId: string, choice: {
    options?: number[];
    text?: string;
}, options?: ActionOptions): Promise<ActionResult>;
/**
 * Types `text` and Enter into the session's own Zellij pane (`delivered` or `pane_gone`). Control characters and more
 * than 16 KiB are refused (`Code.InvalidArgument`); a Zellij older than 0.44 with `Code.FailedPrecondition`.
 */
export declare function sendText(sessionId: string, text: string, options?: ActionOptions): Promise<ActionResult>;
/** Moves a dead, done or ended session's file to the trash (`dismissed`, `already_dismissed`). */
export declare function dismiss(sessionId: string, options?: ActionOptions): Promise<ActionResult>;
/** Brings a dismissed session's file back from the trash (`restored`, `already_present`). */
export declare function restore(sessionId: string, options?: ActionOptions): Promise<ActionResult>;
/**
 * Turns remote approval on or off for a Claude session ("I am away from this pane"): while on, its
 * PermissionRequest hooks wait for `decide`. Kept in the session file: it survives a server restart (`enabled`,
 * `disabled`).
 */
export declare function setRemoteApproval(sessionId: string, enabled: boolean, options?: ActionOptions): Promise<ActionResult>;
/**
 * Focuses the session's own Zellij pane (`focused` or `pane_gone`); a Zellij without `action focus-pane-id` (before
 * 0.44.1) is refused with `Code.FailedPrecondition`.
 */
export declare function focus(sessionId: string, options?: ActionOptions): Promise<ActionResult>;
/**
 * Acknowledges the session's attention: no notification of it until its next attention (StateService/Ack, scope
 * `act`, audited like the actions). `acknowledged` is false when amc's notifications do not run.
 */
export declare function ack(sessionId: string, options?: ActionOptions): Promise<AckResponse>;
