import type { GenFile, GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import type { Event, EventKind } from "./events_pb.js";
import type { Agent, RateLimit, Session } from "./session_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Message } from "@bufbuild/protobuf";
/**
 * Describes the file amc/v1/state_service.proto.
 */
export declare const file_amc_v1_state_service: GenFile;
/**
 * State is the complete list of sessions at one revision.
 *
 * @generated from message amc.v1.State
 */
export type State = Message<"amc.v1.State"> & {
    /**
     * Revision of this state: the first revision of a server process is its start time in milliseconds since the
     * Unix epoch, then it grows by one per change, so revisions also grow across restarts. Compare it together with
     * instance_id.
     *
     * @generated from field: uint64 revision = 1;
     */
    revision: bigint;
    /**
     * The sessions, sorted by session_id, after the server-side filter of the request if any.
     *
     * @generated from field: repeated amc.v1.Session sessions = 2;
     */
    sessions: Session[];
    /**
     * When this state was built.
     *
     * @generated from field: google.protobuf.Timestamp snapshot_time = 3;
     */
    snapshotTime?: Timestamp | undefined;
    /**
     * A random id chosen when the server process starts. A different instance_id means the server restarted and
     * revisions start over.
     *
     * @generated from field: string instance_id = 4;
     */
    instanceId: string;
    /**
     * The newest rate-limit window per agent account and window name, over all sessions.
     *
     * @generated from field: repeated amc.v1.RateLimit rate_limits = 60;
     */
    rateLimits: RateLimit[];
    /**
     * On a fleet hub (`amc serve --fleet`): every host the hub knows, sorted by name, with its freshness; empty on a
     * single-host server.
     *
     * @generated from field: repeated amc.v1.FleetHost hosts = 80;
     */
    hosts: FleetHost[];
};
/**
 * Describes the message amc.v1.State.
 * Use `create(StateSchema)` to create a new message.
 */
export declare const StateSchema: GenMessage<State>;
/**
 * FleetHost is one host as a fleet hub sees it.
 *
 * @generated from message amc.v1.FleetHost
 */
export type FleetHost = Message<"amc.v1.FleetHost"> & {
    /**
     * The host's name (the first token of its bucket keys).
     *
     * @generated from field: string name = 1;
     */
    name: string;
    /**
     * "ok", or "unreachable" when nothing (heartbeat or session) came from it for longer than the TTL.
     *
     * @generated from field: string state = 2;
     */
    state: string;
    /**
     * When the hub last received anything from the host, by the hub's clock (a host's own clock is never trusted).
     *
     * @generated from field: google.protobuf.Timestamp last_seen_time = 3;
     */
    lastSeenTime?: Timestamp | undefined;
    /**
     * Milliseconds since last_seen_time when the state was built.
     *
     * @generated from field: uint64 age_ms = 4;
     */
    ageMs: bigint;
    /**
     * The instance id of the amc process publishing the host, from its host record.
     *
     * @generated from field: string instance_id = 5;
     */
    instanceId: string;
    /**
     * The host's own revision and amc version, from its host record.
     *
     * @generated from field: uint64 revision = 6;
     */
    revision: bigint;
    /**
     * @generated from field: string version = 7;
     */
    version: string;
    /**
     * How many sessions the hub holds for the host.
     *
     * @generated from field: uint32 sessions = 8;
     */
    sessions: number;
    /**
     * True when two amc processes (different instance ids) claimed this name within the TTL: their sessions share one
     * key space and may overwrite each other; give each machine its own `host`.
     *
     * @generated from field: bool name_conflict = 9;
     */
    nameConflict: boolean;
    /**
     * The instance ids seen claiming the name within the TTL (more than one with name_conflict).
     *
     * @generated from field: repeated string instance_ids = 10;
     */
    instanceIds: string[];
};
/**
 * Describes the message amc.v1.FleetHost.
 * Use `create(FleetHostSchema)` to create a new message.
 */
export declare const FleetHostSchema: GenMessage<FleetHost>;
/**
 * FleetHostRecord is the value of a host's `_host.<host>` key in the fleet bucket, refreshed every few seconds.
 *
 * @generated from message amc.v1.FleetHostRecord
 */
export type FleetHostRecord = Message<"amc.v1.FleetHostRecord"> & {
    /**
     * The host's name.
     *
     * @generated from field: string name = 1;
     */
    name: string;
    /**
     * The publishing amc process's instance id (State.instance_id).
     *
     * @generated from field: string instance_id = 2;
     */
    instanceId: string;
    /**
     * Its current revision.
     *
     * @generated from field: uint64 revision = 3;
     */
    revision: bigint;
    /**
     * Its amc version.
     *
     * @generated from field: string version = 4;
     */
    version: string;
    /**
     * When it sent this record, by its own clock (informational: freshness is measured by the hub's clock).
     *
     * @generated from field: google.protobuf.Timestamp heartbeat_time = 5;
     */
    heartbeatTime?: Timestamp | undefined;
    /**
     * How many sessions it publishes.
     *
     * @generated from field: uint32 sessions = 6;
     */
    sessions: number;
};
/**
 * Describes the message amc.v1.FleetHostRecord.
 * Use `create(FleetHostRecordSchema)` to create a new message.
 */
export declare const FleetHostRecordSchema: GenMessage<FleetHostRecord>;
/**
 * SessionFilter narrows the sessions returned. An empty filter matches every session.
 *
 * @generated from message amc.v1.SessionFilter
 */
export type SessionFilter = Message<"amc.v1.SessionFilter"> & {
    /**
     * Only these session ids (empty: all).
     *
     * @generated from field: repeated string session_ids = 1;
     */
    sessionIds: string[];
    /**
     * Only these agents (empty: all).
     *
     * @generated from field: repeated amc.v1.Agent agents = 2;
     */
    agents: Agent[];
    /**
     * Drop sessions whose is_dead is true.
     *
     * @generated from field: bool exclude_dead = 3;
     */
    excludeDead: boolean;
    /**
     * Only sessions of these hosts (empty: all); on a fleet hub, or a server with `host` set.
     *
     * @generated from field: repeated string hosts = 80;
     */
    hosts: string[];
};
/**
 * Describes the message amc.v1.SessionFilter.
 * Use `create(SessionFilterSchema)` to create a new message.
 */
export declare const SessionFilterSchema: GenMessage<SessionFilter>;
/**
 * GetStateRequest asks for the latest state.
 *
 * @generated from message amc.v1.GetStateRequest
 */
export type GetStateRequest = Message<"amc.v1.GetStateRequest"> & {
    /**
     * Optional server-side filter; revision and instance_id stay those of the whole state.
     *
     * @generated from field: amc.v1.SessionFilter filter = 1;
     */
    filter?: SessionFilter | undefined;
};
/**
 * Describes the message amc.v1.GetStateRequest.
 * Use `create(GetStateRequestSchema)` to create a new message.
 */
export declare const GetStateRequestSchema: GenMessage<GetStateRequest>;
/**
 * GetStateResponse carries the latest state.
 *
 * @generated from message amc.v1.GetStateResponse
 */
export type GetStateResponse = Message<"amc.v1.GetStateResponse"> & {
    /**
     * The latest published state.
     *
     * @generated from field: amc.v1.State state = 1;
     */
    state?: State | undefined;
};
/**
 * Describes the message amc.v1.GetStateResponse.
 * Use `create(GetStateResponseSchema)` to create a new message.
 */
export declare const GetStateResponseSchema: GenMessage<GetStateResponse>;
/**
 * WatchStateRequest opens a watch.
 *
 * @generated from message amc.v1.WatchStateRequest
 */
export type WatchStateRequest = Message<"amc.v1.WatchStateRequest"> & {
    /**
     * The last revision the client has (0: none). When it equals the current revision and instance_id matches, the
     * stream starts with a heartbeat instead of a snapshot; otherwise it starts with a full snapshot.
     *
     * @generated from field: uint64 since_revision = 1;
     */
    sinceRevision: bigint;
    /**
     * The instance_id the client's since_revision belongs to (empty: unknown, which forces a snapshot unless
     * since_revision is 0).
     *
     * @generated from field: string instance_id = 2;
     */
    instanceId: string;
    /**
     * Optional server-side filter. A change to a session outside the filter still advances the revision but produces
     * no message (the next heartbeat carries the new revision).
     *
     * @generated from field: amc.v1.SessionFilter filter = 3;
     */
    filter?: SessionFilter | undefined;
    /**
     * How changes after the first message are sent. false (the default): each change is a full (filtered) `snapshot`.
     * true: each change is a `delta` against the state of the client's previous message, a few hundred bytes instead
     * of the whole state. The server may still send a full `snapshot` for any change (it does when a delta cannot
     * express the change exactly, e.g. a session id listed twice, or would not be smaller), so a client that asks for
     * deltas handles both, and applies deltas in order.
     *
     * @generated from field: bool deltas = 4;
     */
    deltas: boolean;
};
/**
 * Describes the message amc.v1.WatchStateRequest.
 * Use `create(WatchStateRequestSchema)` to create a new message.
 */
export declare const WatchStateRequestSchema: GenMessage<WatchStateRequest>;
/**
 * StateDelta is one change of the state, as the difference from the state the client holds (base_revision):
 * replace or add every session of upserted_sessions (matched by session_id), drop every session named in
 * removed_session_ids, and keep the sessions sorted by session_id. The result is exactly the `snapshot` the server
 * would have sent instead.
 *
 * @generated from message amc.v1.StateDelta
 */
export type StateDelta = Message<"amc.v1.StateDelta"> & {
    /**
     * The revision of the state this delta applies to: the `revision` of the stream's previous message (snapshot,
     * delta or heartbeat; for the first change after a resume, the since_revision), i.e. the client's last revision.
     *
     * @generated from field: uint64 base_revision = 1;
     */
    baseRevision: bigint;
    /**
     * Sessions that are new or changed, whole, sorted by session_id.
     *
     * @generated from field: repeated amc.v1.Session upserted_sessions = 2;
     */
    upsertedSessions: Session[];
    /**
     * The session_id of every session that left the (filtered) state.
     *
     * @generated from field: repeated string removed_session_ids = 3;
     */
    removedSessionIds: string[];
    /**
     * When the new state was collected (State.snapshot_time).
     *
     * @generated from field: google.protobuf.Timestamp snapshot_time = 4;
     */
    snapshotTime?: Timestamp | undefined;
};
/**
 * Describes the message amc.v1.StateDelta.
 * Use `create(StateDeltaSchema)` to create a new message.
 */
export declare const StateDeltaSchema: GenMessage<StateDelta>;
/**
 * Heartbeat says "nothing you asked for changed up to this revision".
 *
 * @generated from message amc.v1.Heartbeat
 */
export type Heartbeat = Message<"amc.v1.Heartbeat"> & {
    /**
     * The server's time when the heartbeat was sent.
     *
     * @generated from field: google.protobuf.Timestamp server_time = 1;
     */
    serverTime?: Timestamp | undefined;
};
/**
 * Describes the message amc.v1.Heartbeat.
 * Use `create(HeartbeatSchema)` to create a new message.
 */
export declare const HeartbeatSchema: GenMessage<Heartbeat>;
/**
 * WatchStateResponse is one message of a watch.
 *
 * @generated from message amc.v1.WatchStateResponse
 */
export type WatchStateResponse = Message<"amc.v1.WatchStateResponse"> & {
    /**
     * The revision this message brings the client up to.
     *
     * @generated from field: uint64 revision = 1;
     */
    revision: bigint;
    /**
     * The server's instance id (see State.instance_id).
     *
     * @generated from field: string instance_id = 2;
     */
    instanceId: string;
    /**
     * What this message carries.
     *
     * @generated from oneof amc.v1.WatchStateResponse.kind
     */
    kind: {
        /**
         * A full (filtered) state: the first message, and one per change (unless the request asked for deltas).
         *
         * @generated from field: amc.v1.State snapshot = 3;
         */
        value: State;
        case: "snapshot";
    } | {
        /**
         * No change since the last message; the client is current up to revision.
         *
         * @generated from field: amc.v1.Heartbeat heartbeat = 4;
         */
        value: Heartbeat;
        case: "heartbeat";
    } | {
        /**
         * One change, as the difference from the previous message's state (only when the request asked for deltas).
         *
         * @generated from field: amc.v1.StateDelta delta = 5;
         */
        value: StateDelta;
        case: "delta";
    } | {
        case: undefined;
        value?: undefined;
    };
};
/**
 * Describes the message amc.v1.WatchStateResponse.
 * Use `create(WatchStateResponseSchema)` to create a new message.
 */
export declare const WatchStateResponseSchema: GenMessage<WatchStateResponse>;
/**
 * ExplainSessionRequest names the session to explain.
 *
 * @generated from message amc.v1.ExplainSessionRequest
 */
export type ExplainSessionRequest = Message<"amc.v1.ExplainSessionRequest"> & {
    /**
     * The session's id (the `session_id` of its session file).
     *
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
};
/**
 * Describes the message amc.v1.ExplainSessionRequest.
 * Use `create(ExplainSessionRequestSchema)` to create a new message.
 */
export declare const ExplainSessionRequestSchema: GenMessage<ExplainSessionRequest>;
/**
 * Decision is one decision of one collector rule about one session.
 *
 * @generated from message amc.v1.Decision
 */
export type Decision = Message<"amc.v1.Decision"> & {
    /**
     * The field decided: "status", "is_dead", "context_window", "turn_start_tokens", "pane", "dedupe" or "removal".
     *
     * @generated from field: string field = 1;
     */
    field: string;
    /**
     * The value set, as JSON (`true`, `"done"`, `null` for "no evidence either way", an object for a context window;
     * for a removal, the reason in words).
     *
     * @generated from field: string value_json = 2;
     */
    valueJson: string;
    /**
     * The rule that decided, as its path in amc's source (e.g. "rules::dedupe::losers").
     *
     * @generated from field: string rule = 3;
     */
    rule: string;
    /**
     * The facts the rule used, as a JSON object: files and lines, pids, the Zellij line, timestamps and thresholds.
     *
     * @generated from field: string evidence_json = 4;
     */
    evidenceJson: string;
    /**
     * When it was decided (the collection pass's time).
     *
     * @generated from field: google.protobuf.Timestamp at = 5;
     */
    at?: Timestamp | undefined;
};
/**
 * Describes the message amc.v1.Decision.
 * Use `create(DecisionSchema)` to create a new message.
 */
export declare const DecisionSchema: GenMessage<Decision>;
/**
 * ExplainSessionResponse is the explanation of one session.
 *
 * @generated from message amc.v1.ExplainSessionResponse
 */
export type ExplainSessionResponse = Message<"amc.v1.ExplainSessionResponse"> & {
    /**
     * The session asked about.
     *
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * True when the session is in the latest state; false when it was removed (see trash_path).
     *
     * @generated from field: bool present = 2;
     */
    present: boolean;
    /**
     * The decisions, in the order they were taken (a later decision on the same field overrides an earlier one). For a
     * removed session the last one is the removal.
     *
     * @generated from field: repeated amc.v1.Decision decisions = 3;
     */
    decisions: Decision[];
    /**
     * For a removed session: where its file went in `<data dir>/trash/` (empty when unknown or not removed).
     *
     * @generated from field: string trash_path = 4;
     */
    trashPath: string;
    /**
     * For a removed session: when it was removed (or first seen gone).
     *
     * @generated from field: google.protobuf.Timestamp removed_at = 5;
     */
    removedAt?: Timestamp | undefined;
};
/**
 * Describes the message amc.v1.ExplainSessionResponse.
 * Use `create(ExplainSessionResponseSchema)` to create a new message.
 */
export declare const ExplainSessionResponseSchema: GenMessage<ExplainSessionResponse>;
/**
 * WatchEventsRequest opens an event watch.
 *
 * @generated from message amc.v1.WatchEventsRequest
 */
export type WatchEventsRequest = Message<"amc.v1.WatchEventsRequest"> & {
    /**
     * Replay every kept event with a larger id first (0: only new events). The server keeps at least the last 10 000
     * events and every event of the last 24 hours; an older id replays from the oldest kept event.
     *
     * @generated from field: uint64 since_event_id = 1;
     */
    sinceEventId: bigint;
    /**
     * Optional filter, as WatchState's (exclude_dead drops events of sessions whose agent is gone).
     *
     * @generated from field: amc.v1.SessionFilter filter = 2;
     */
    filter?: SessionFilter | undefined;
    /**
     * Only these kinds (empty: all).
     *
     * @generated from field: repeated amc.v1.EventKind kinds = 3;
     */
    kinds: EventKind[];
};
/**
 * Describes the message amc.v1.WatchEventsRequest.
 * Use `create(WatchEventsRequestSchema)` to create a new message.
 */
export declare const WatchEventsRequestSchema: GenMessage<WatchEventsRequest>;
/**
 * WatchEventsResponse is one message of an event watch: an event, or a heartbeat after a quiet interval.
 *
 * @generated from message amc.v1.WatchEventsResponse
 */
export type WatchEventsResponse = Message<"amc.v1.WatchEventsResponse"> & {
    /**
     * What this message carries.
     *
     * @generated from oneof amc.v1.WatchEventsResponse.kind
     */
    kind: {
        /**
         * One event.
         *
         * @generated from field: amc.v1.Event event = 1;
         */
        value: Event;
        case: "event";
    } | {
        /**
         * Nothing happened for a while.
         *
         * @generated from field: amc.v1.Heartbeat heartbeat = 2;
         */
        value: Heartbeat;
        case: "heartbeat";
    } | {
        case: undefined;
        value?: undefined;
    };
    /**
     * The id of the newest event the server has (an event's own id, or for a heartbeat the newest id overall).
     *
     * @generated from field: uint64 newest_event_id = 3;
     */
    newestEventId: bigint;
};
/**
 * Describes the message amc.v1.WatchEventsResponse.
 * Use `create(WatchEventsResponseSchema)` to create a new message.
 */
export declare const WatchEventsResponseSchema: GenMessage<WatchEventsResponse>;
/**
 * AckRequest names the session to acknowledge.
 *
 * @generated from message amc.v1.AckRequest
 */
export type AckRequest = Message<"amc.v1.AckRequest"> & {
    /**
     * The session's id.
     *
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
};
/**
 * Describes the message amc.v1.AckRequest.
 * Use `create(AckRequestSchema)` to create a new message.
 */
export declare const AckRequestSchema: GenMessage<AckRequest>;
/**
 * AckResponse confirms an acknowledgement.
 *
 * @generated from message amc.v1.AckResponse
 */
export type AckResponse = Message<"amc.v1.AckResponse"> & {
    /**
     * The session acknowledged.
     *
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * True when the notifier took it (false when notifications are off: nothing to silence).
     *
     * @generated from field: bool acknowledged = 2;
     */
    acknowledged: boolean;
};
/**
 * Describes the message amc.v1.AckResponse.
 * Use `create(AckResponseSchema)` to create a new message.
 */
export declare const AckResponseSchema: GenMessage<AckResponse>;
/**
 * GetUsageRequest asks for usage totals.
 *
 * @generated from message amc.v1.GetUsageRequest
 */
export type GetUsageRequest = Message<"amc.v1.GetUsageRequest"> & {};
/**
 * Describes the message amc.v1.GetUsageRequest.
 * Use `create(GetUsageRequestSchema)` to create a new message.
 */
export declare const GetUsageRequestSchema: GenMessage<GetUsageRequest>;
/**
 * UsageTotal is the usage of a group of sessions.
 *
 * @generated from message amc.v1.UsageTotal
 */
export type UsageTotal = Message<"amc.v1.UsageTotal"> & {
    /**
     * The project directory (by-project totals; empty in by-day totals).
     *
     * @generated from field: string project_dir = 1;
     */
    projectDir: string;
    /**
     * The day, YYYY-MM-DD in UTC, of the sessions' last activity (by-day totals; empty in by-project totals).
     *
     * @generated from field: string day = 2;
     */
    day: string;
    /**
     * US dollars over the sessions with a known cost.
     *
     * @generated from field: double usd = 3;
     */
    usd: number;
    /**
     * Tokens (input, cache and output) over the sessions.
     *
     * @generated from field: int64 tokens = 4;
     */
    tokens: bigint;
    /**
     * How many sessions.
     *
     * @generated from field: int32 sessions = 5;
     */
    sessions: number;
    /**
     * How many of them have no known cost (unknown model, nothing read yet): usd leaves them out.
     *
     * @generated from field: int32 unpriced_sessions = 6;
     */
    unpricedSessions: number;
};
/**
 * Describes the message amc.v1.UsageTotal.
 * Use `create(UsageTotalSchema)` to create a new message.
 */
export declare const UsageTotalSchema: GenMessage<UsageTotal>;
/**
 * GetUsageResponse carries the totals.
 *
 * @generated from message amc.v1.GetUsageResponse
 */
export type GetUsageResponse = Message<"amc.v1.GetUsageResponse"> & {
    /**
     * Per project directory, the most expensive first.
     *
     * @generated from field: repeated amc.v1.UsageTotal by_project = 1;
     */
    byProject: UsageTotal[];
    /**
     * Per day, the newest first.
     *
     * @generated from field: repeated amc.v1.UsageTotal by_day = 2;
     */
    byDay: UsageTotal[];
    /**
     * All sessions.
     *
     * @generated from field: amc.v1.UsageTotal total = 3;
     */
    total?: UsageTotal | undefined;
    /**
     * The newest rate-limit window per agent account and window name.
     *
     * @generated from field: repeated amc.v1.RateLimit rate_limits = 4;
     */
    rateLimits: RateLimit[];
    /**
     * When the totals were computed.
     *
     * @generated from field: google.protobuf.Timestamp snapshot_time = 5;
     */
    snapshotTime?: Timestamp | undefined;
};
/**
 * Describes the message amc.v1.GetUsageResponse.
 * Use `create(GetUsageResponseSchema)` to create a new message.
 */
export declare const GetUsageResponseSchema: GenMessage<GetUsageResponse>;
/**
 * StateService serves the collector's state: one revisioned list of sessions.
 *
 * One collector task owns the state. Each time the list of sessions changes it publishes a new State with
 * revision + 1; nothing else changes the revision (snapshot_time does not count as a change). GetState and
 * WatchState read the same published State, so a client can list with GetState and then watch with
 * `since_revision = state.revision` without missing anything.
 *
 * @generated from service amc.v1.StateService
 */
export declare const StateService: GenService<{
    /**
     * GetState returns the latest published state.
     *
     * @generated from rpc amc.v1.StateService.GetState
     */
    getState: {
        methodKind: "unary";
        input: typeof GetStateRequestSchema;
        output: typeof GetStateResponseSchema;
    };
    /**
     * WatchState streams the state: first a full snapshot (unless the client is already current), then one message
     * per published change, and a heartbeat after a quiet interval (15 s by default). A change is a full snapshot, or,
     * when the request sets `deltas`, a delta against the client's previous message (see WatchStateRequest.deltas). A
     * slow client skips intermediate revisions and receives the newest state (a delta then spans the skipped
     * revisions), so it can never fall behind or miss a removal. The stream ends with UNAVAILABLE when the server shuts
     * down; reconnect with the last revision and instance_id you saw.
     *
     * @generated from rpc amc.v1.StateService.WatchState
     */
    watchState: {
        methodKind: "server_streaming";
        input: typeof WatchStateRequestSchema;
        output: typeof WatchStateResponseSchema;
    };
    /**
     * ExplainSession says why a session is what it is: for a listed session, the decisions of the latest collection
     * pass (its status, is_dead, context window, dedupe outcome, ...); for a session amc removed (a same-pane dedupe
     * loser, an orphan `starting` session, a stale file) or saw vanish (the hook's SessionEnd, the user), its last
     * decisions, ending with the removal, and where its file went in the trash. Removed sessions are remembered for
     * at least 24 hours (at most the newest 1000; across restarts, in `<data dir>/cache/removed.jsonl`).
     * Errors: INVALID_ARGUMENT for an id that cannot name a session file (empty, over 200 bytes, a leading dot, `/`,
     * `\`, control characters); NOT_FOUND for an id amc has neither listed in its latest pass nor removed.
     *
     * @generated from rpc amc.v1.StateService.ExplainSession
     */
    explainSession: {
        methodKind: "unary";
        input: typeof ExplainSessionRequestSchema;
        output: typeof ExplainSessionResponseSchema;
    };
    /**
     * WatchEvents streams events (see events.proto): first the kept events after since_event_id, then each new event
     * as the publisher derives it, and a heartbeat after a quiet interval. The stream ends with UNAVAILABLE when the
     * server shuts down; reconnect with the last event id you saw.
     *
     * @generated from rpc amc.v1.StateService.WatchEvents
     */
    watchEvents: {
        methodKind: "server_streaming";
        input: typeof WatchEventsRequestSchema;
        output: typeof WatchEventsResponseSchema;
    };
    /**
     * Ack acknowledges a session's attention: no notification of it until its next attention_raised (one already sent
     * is withdrawn where the sink can). Needs the `act` scope when tokens are configured. NOT_FOUND for a session amc
     * does not know.
     *
     * @generated from rpc amc.v1.StateService.Ack
     */
    ack: {
        methodKind: "unary";
        input: typeof AckRequestSchema;
        output: typeof AckResponseSchema;
    };
    /**
     * GetUsage returns the cost and tokens of the sessions amc knows, totalled per project and per day, and the
     * rate-limit windows per agent account.
     *
     * @generated from rpc amc.v1.StateService.GetUsage
     */
    getUsage: {
        methodKind: "unary";
        input: typeof GetUsageRequestSchema;
        output: typeof GetUsageResponseSchema;
    };
}>;
