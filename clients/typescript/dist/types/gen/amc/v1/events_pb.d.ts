import type { GenEnum, GenFile, GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { Agent } from "./session_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Message } from "@bufbuild/protobuf";
/**
 * Describes the file amc/v1/events.proto.
 */
export declare const file_amc_v1_events: GenFile;
/**
 * Event is one edge between two consecutive published states.
 *
 * @generated from message amc.v1.Event
 */
export type Event = Message<"amc.v1.Event"> & {
    /**
     * Grows by one per event, also across server restarts: resume with WatchEventsRequest.since_event_id.
     *
     * @generated from field: uint64 id = 1;
     */
    id: bigint;
    /**
     * What happened.
     *
     * @generated from field: amc.v1.EventKind kind = 2;
     */
    kind: EventKind;
    /**
     * The kind's name ("attention_raised", ...), also for kinds newer than the client.
     *
     * @generated from field: string raw_kind = 3;
     */
    rawKind: string;
    /**
     * The session it happened to.
     *
     * @generated from field: string session_id = 4;
     */
    sessionId: string;
    /**
     * When the server saw it.
     *
     * @generated from field: google.protobuf.Timestamp time = 5;
     */
    time?: Timestamp | undefined;
    /**
     * The revision of the state it first shows in (State.revision).
     *
     * @generated from field: uint64 revision = 6;
     */
    revision: bigint;
    /**
     * The session's agent.
     *
     * @generated from field: amc.v1.Agent agent = 7;
     */
    agent: Agent;
    /**
     * The session's project directory.
     *
     * @generated from field: string project_dir = 8;
     */
    projectDir: string;
    /**
     * Whether the session's agent is gone (after the event).
     *
     * @generated from field: bool is_dead = 9;
     */
    isDead: boolean;
    /**
     * ATTENTION_RAISED / ATTENTION_CLEARED: the attention kind ("permission", "question", "elicitation", or "unknown"
     * when the session names none).
     *
     * @generated from field: string attention_kind = 10;
     */
    attentionKind: string;
    /**
     * ATTENTION_CLEARED: how long the session waited, in milliseconds.
     *
     * @generated from field: optional uint64 waited_ms = 11;
     */
    waitedMs?: bigint | undefined;
    /**
     * CONTEXT_THRESHOLD: the threshold crossed (80 or 95).
     *
     * @generated from field: uint32 threshold_percent = 12;
     */
    thresholdPercent: number;
    /**
     * CONTEXT_THRESHOLD: the context usage in percent.
     *
     * @generated from field: double percent = 13;
     */
    percent: number;
    /**
     * SESSION_DEAD: the liveness reason; ATTENTION_RAISED: the question or message, when known.
     *
     * @generated from field: string reason = 14;
     */
    reason: string;
};
/**
 * Describes the message amc.v1.Event.
 * Use `create(EventSchema)` to create a new message.
 */
export declare const EventSchema: GenMessage<Event>;
/**
 * EventKind is what happened.
 *
 * @generated from enum amc.v1.EventKind
 */
export declare enum EventKind {
    /**
     * A kind this version of a client does not know.
     *
     * @generated from enum value: EVENT_KIND_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * The session started waiting for the user (status NEEDS_ATTENTION); Event.attention_kind says why.
     *
     * @generated from enum value: EVENT_KIND_ATTENTION_RAISED = 1;
     */
    ATTENTION_RAISED = 1,
    /**
     * The session no longer waits (answered, or it left); Event.waited_ms says how long it waited.
     *
     * @generated from enum value: EVENT_KIND_ATTENTION_CLEARED = 2;
     */
    ATTENTION_CLEARED = 2,
    /**
     * The agent finished its turn (DONE after ACTIVE or NEEDS_ATTENTION).
     *
     * @generated from enum value: EVENT_KIND_TURN_DONE = 3;
     */
    TURN_DONE = 3,
    /**
     * A session appeared.
     *
     * @generated from enum value: EVENT_KIND_SESSION_STARTED = 4;
     */
    SESSION_STARTED = 4,
    /**
     * The session's agent is gone (is_dead became true); Event.reason is the liveness reason.
     *
     * @generated from enum value: EVENT_KIND_SESSION_DEAD = 5;
     */
    SESSION_DEAD = 5,
    /**
     * The session left the state.
     *
     * @generated from enum value: EVENT_KIND_SESSION_REMOVED = 6;
     */
    SESSION_REMOVED = 6,
    /**
     * The context was compacted.
     *
     * @generated from enum value: EVENT_KIND_COMPACTED = 7;
     */
    COMPACTED = 7,
    /**
     * The context usage crossed 80 % or 95 % upwards (Event.threshold_percent).
     *
     * @generated from enum value: EVENT_KIND_CONTEXT_THRESHOLD = 8;
     */
    CONTEXT_THRESHOLD = 8
}
/**
 * Describes the enum amc.v1.EventKind.
 */
export declare const EventKindSchema: GenEnum<EventKind>;
