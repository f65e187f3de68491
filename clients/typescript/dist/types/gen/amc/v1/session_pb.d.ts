import type { GenEnum, GenFile, GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Message } from "@bufbuild/protobuf";
/**
 * Describes the file amc/v1/session.proto.
 */
export declare const file_amc_v1_session: GenFile;
/**
 * QuestionOption is one answer offered by an AskUserQuestion dialog.
 *
 * @generated from message amc.v1.QuestionOption
 */
export type QuestionOption = Message<"amc.v1.QuestionOption"> & {
    /**
     * The option's label, as shown in the dialog.
     *
     * @generated from field: string label = 1;
     */
    label: string;
    /**
     * The option's longer description, if any.
     *
     * @generated from field: string description = 2;
     */
    description: string;
};
/**
 * Describes the message amc.v1.QuestionOption.
 * Use `create(QuestionOptionSchema)` to create a new message.
 */
export declare const QuestionOptionSchema: GenMessage<QuestionOption>;
/**
 * PendingQuestion is one question the agent asked the user and that is not answered yet.
 *
 * @generated from message amc.v1.PendingQuestion
 */
export type PendingQuestion = Message<"amc.v1.PendingQuestion"> & {
    /**
     * The question text.
     *
     * @generated from field: string question = 1;
     */
    question: string;
    /**
     * The short header Claude Code shows above the question (may be empty).
     *
     * @generated from field: string header = 2;
     */
    header: string;
    /**
     * The offered answers (empty for a free-form question, e.g. a prose question from a Stop hook).
     *
     * @generated from field: repeated amc.v1.QuestionOption options = 3;
     */
    options: QuestionOption[];
    /**
     * Whether several options may be chosen.
     *
     * @generated from field: bool multi_select = 4;
     */
    multiSelect: boolean;
};
/**
 * Describes the message amc.v1.PendingQuestion.
 * Use `create(PendingQuestionSchema)` to create a new message.
 */
export declare const PendingQuestionSchema: GenMessage<PendingQuestion>;
/**
 * ContextUsage is how full the agent's context window is, computed from its newest usable transcript line.
 *
 * @generated from message amc.v1.ContextUsage
 */
export type ContextUsage = Message<"amc.v1.ContextUsage"> & {
    /**
     * Tokens in the context now: Claude input + cache_creation_input + cache_read_input tokens of the newest usable
     * main-chain assistant line; Codex `last_token_usage.total_tokens`. Unset when unknown (e.g. right after a
     * compaction, before the next reply).
     *
     * @generated from field: optional int64 current_tokens = 1;
     */
    currentTokens?: bigint | undefined;
    /**
     * The size of the context window in tokens (200 000 or 1 000 000 for Claude; the rollout's `model_context_window`
     * for Codex).
     *
     * @generated from field: int64 window_tokens = 2;
     */
    windowTokens: bigint;
    /**
     * current_tokens / window_tokens * 100, clamped to 0..100 (0 when current_tokens is unknown).
     *
     * @generated from field: double percent = 3;
     */
    percent: number;
    /**
     * The model that produced the usage line (e.g. "claude-opus-4-6", "gpt-5.5").
     *
     * @generated from field: string model = 4;
     */
    model: string;
    /**
     * Input tokens of that line as the agent reports them: Claude's uncached `input_tokens` (cache reads and writes are
     * counted apart); Codex's `input_tokens`, which include the cached ones (`cache_read_tokens`).
     *
     * @generated from field: int64 input_tokens = 5;
     */
    inputTokens: bigint;
    /**
     * Output tokens of that line (not part of current_tokens).
     *
     * @generated from field: int64 output_tokens = 6;
     */
    outputTokens: bigint;
    /**
     * Input tokens read from the prompt cache.
     *
     * @generated from field: int64 cache_read_tokens = 7;
     */
    cacheReadTokens: bigint;
    /**
     * Input tokens written to the prompt cache.
     *
     * @generated from field: int64 cache_creation_tokens = 8;
     */
    cacheCreationTokens: bigint;
    /**
     * True when a compaction happened after the usage line: the numbers above predate it.
     *
     * @generated from field: bool compacted = 9;
     */
    compacted: boolean;
    /**
     * The timestamp of the usage line.
     *
     * @generated from field: google.protobuf.Timestamp update_time = 10;
     */
    updateTime?: Timestamp | undefined;
    /**
     * True when window_tokens was inferred (no authoritative window in the transcript), so percent is an estimate.
     *
     * @generated from field: bool window_inferred = 11;
     */
    windowInferred: boolean;
    /**
     * Where window_tokens came from.
     *
     * @generated from field: amc.v1.WindowSource window_source = 12;
     */
    windowSource: WindowSource;
};
/**
 * Describes the message amc.v1.ContextUsage.
 * Use `create(ContextUsageSchema)` to create a new message.
 */
export declare const ContextUsageSchema: GenMessage<ContextUsage>;
/**
 * SessionCost is what a session has cost so far.
 *
 * @generated from message amc.v1.SessionCost
 */
export type SessionCost = Message<"amc.v1.SessionCost"> & {
    /**
     * US dollars; unset when unknown (source "unknown_model").
     *
     * @generated from field: optional double usd = 1;
     */
    usd?: number | undefined;
    /**
     * Where the figure comes from: "cost_state" (Claude Code's `cost-state` transcript line), "statusline" (Claude
     * Code's statusLine input), "otlp" (OpenTelemetry from the agent), "price_table" (tokens x amc's price table),
     * "price_table_partial" (the same over the part of the transcript read: a lower bound), "unknown_model" (a model
     * the price table does not know; no price is guessed).
     *
     * @generated from field: string source = 2;
     */
    source: string;
    /**
     * When the figure was last updated (the newest transcript line or capture it comes from).
     *
     * @generated from field: google.protobuf.Timestamp update_time = 3;
     */
    updateTime?: Timestamp | undefined;
    /**
     * With source "unknown_model": the models without a price.
     *
     * @generated from field: repeated string unknown_models = 4;
     */
    unknownModels: string[];
    /**
     * The tokens (input, cache and output, all models) the session used, as far as read.
     *
     * @generated from field: int64 tokens = 5;
     */
    tokens: bigint;
};
/**
 * Describes the message amc.v1.SessionCost.
 * Use `create(SessionCostSchema)` to create a new message.
 */
export declare const SessionCostSchema: GenMessage<SessionCost>;
/**
 * RateLimit is one window of the plan's rate limits as the agent last reported it.
 *
 * @generated from message amc.v1.RateLimit
 */
export type RateLimit = Message<"amc.v1.RateLimit"> & {
    /**
     * The agent whose account it is ("claude", "codex").
     *
     * @generated from field: string agent = 1;
     */
    agent: string;
    /**
     * The window's name: "primary"/"secondary" (Codex), "five_hour"/"seven_day" (Claude).
     *
     * @generated from field: string name = 2;
     */
    name: string;
    /**
     * The window's length in minutes, when stated.
     *
     * @generated from field: optional int64 window_minutes = 3;
     */
    windowMinutes?: bigint | undefined;
    /**
     * How much of the window is used, 0..100.
     *
     * @generated from field: double used_percent = 4;
     */
    usedPercent: number;
    /**
     * When the window resets.
     *
     * @generated from field: google.protobuf.Timestamp reset_time = 5;
     */
    resetTime?: Timestamp | undefined;
    /**
     * Where it was read: "codex_token_count", "statusline", "otlp".
     *
     * @generated from field: string source = 6;
     */
    source: string;
    /**
     * When the agent reported it.
     *
     * @generated from field: google.protobuf.Timestamp observed_time = 7;
     */
    observedTime?: Timestamp | undefined;
    /**
     * True when reset_time has passed: used_percent belongs to a window that is over.
     *
     * @generated from field: bool expired = 8;
     */
    expired: boolean;
};
/**
 * Describes the message amc.v1.RateLimit.
 * Use `create(RateLimitSchema)` to create a new message.
 */
export declare const RateLimitSchema: GenMessage<RateLimit>;
/**
 * BurnRate is how fast a session spends, over the last window_minutes of its transcript.
 *
 * @generated from message amc.v1.BurnRate
 */
export type BurnRate = Message<"amc.v1.BurnRate"> & {
    /**
     * Tokens (input, cache and output) per minute.
     *
     * @generated from field: double tokens_per_minute = 1;
     */
    tokensPerMinute: number;
    /**
     * US dollars per hour at the price table's rates; unset when the model has no price.
     *
     * @generated from field: optional double usd_per_hour = 2;
     */
    usdPerHour?: number | undefined;
    /**
     * The window the rate is measured over (15).
     *
     * @generated from field: int32 window_minutes = 3;
     */
    windowMinutes: number;
};
/**
 * Describes the message amc.v1.BurnRate.
 * Use `create(BurnRateSchema)` to create a new message.
 */
export declare const BurnRateSchema: GenMessage<BurnRate>;
/**
 * CompactionForecast estimates when the agent will compact its context automatically. It is a forecast from the
 * recent growth, not a fact.
 *
 * @generated from message amc.v1.CompactionForecast
 */
export type CompactionForecast = Message<"amc.v1.CompactionForecast"> & {
    /**
     * Always true: this is an estimate.
     *
     * @generated from field: bool forecast = 1;
     */
    forecast: boolean;
    /**
     * The context size at which the agent compacts (window minus its reserve).
     *
     * @generated from field: int64 threshold_tokens = 2;
     */
    thresholdTokens: bigint;
    /**
     * The average context growth per turn (assistant reply) over the recent turns.
     *
     * @generated from field: double tokens_per_turn = 3;
     */
    tokensPerTurn: number;
    /**
     * Turns until the threshold at that growth; unset when the context does not grow.
     *
     * @generated from field: optional double turns_left = 4;
     */
    turnsLeft?: number | undefined;
    /**
     * Minutes until the threshold at the recent pace; unset when unknown.
     *
     * @generated from field: optional double minutes_left = 5;
     */
    minutesLeft?: number | undefined;
};
/**
 * Describes the message amc.v1.CompactionForecast.
 * Use `create(CompactionForecastSchema)` to create a new message.
 */
export declare const CompactionForecastSchema: GenMessage<CompactionForecast>;
/**
 * ContextSample is the context size at one assistant reply.
 *
 * @generated from message amc.v1.ContextSample
 */
export type ContextSample = Message<"amc.v1.ContextSample"> & {
    /**
     * The reply's time.
     *
     * @generated from field: google.protobuf.Timestamp time = 1;
     */
    time?: Timestamp | undefined;
    /**
     * Tokens in context then.
     *
     * @generated from field: int64 tokens = 2;
     */
    tokens: bigint;
};
/**
 * Describes the message amc.v1.ContextSample.
 * Use `create(ContextSampleSchema)` to create a new message.
 */
export declare const ContextSampleSchema: GenMessage<ContextSample>;
/**
 * Session is one agent session as amc shows it.
 *
 * Every key of the session file is carried: the keys below are typed, every other key is kept verbatim in
 * extra_json, so a newer hook's fields are never lost.
 *
 * @generated from message amc.v1.Session
 */
export type Session = Message<"amc.v1.Session"> & {
    /**
     * The agent's session id (Claude's session UUID, Codex's thread id). Sessions are sorted by it.
     *
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * The session's status.
     *
     * @generated from field: amc.v1.SessionStatus status = 2;
     */
    status: SessionStatus;
    /**
     * The status string exactly as written in the session file ("starting", "active", "needs_attention", "done", or
     * anything else a future hook writes).
     *
     * @generated from field: string raw_status = 3;
     */
    rawStatus: string;
    /**
     * The agent running the session.
     *
     * @generated from field: amc.v1.Agent agent = 4;
     */
    agent: Agent;
    /**
     * The agent string exactly as written in the session file.
     *
     * @generated from field: string raw_agent = 5;
     */
    rawAgent: string;
    /**
     * The project directory (the cwd where the agent started).
     *
     * @generated from field: string project_dir = 6;
     */
    projectDir: string;
    /**
     * The agent's current working directory as the last hook saw it.
     *
     * @generated from field: string cwd = 7;
     */
    cwd: string;
    /**
     * Absolute path of the agent's transcript (Claude JSONL or Codex rollout).
     *
     * @generated from field: string transcript_path = 8;
     */
    transcriptPath: string;
    /**
     * The Zellij session the agent runs in (ZELLIJ_SESSION_NAME), empty outside Zellij.
     *
     * @generated from field: string zellij_session = 9;
     */
    zellijSession: string;
    /**
     * The Zellij pane id the agent runs in (ZELLIJ_PANE_ID), empty outside Zellij.
     *
     * @generated from field: string zellij_pane = 10;
     */
    zellijPane: string;
    /**
     * The name of the last hook event (e.g. "UserPromptSubmit", "Stop").
     *
     * @generated from field: string last_event = 11;
     */
    lastEvent: string;
    /**
     * When the last hook event was recorded (session file key `last_event_at`).
     *
     * @generated from field: google.protobuf.Timestamp last_event_time = 12;
     */
    lastEventTime?: Timestamp | undefined;
    /**
     * When the session started (session file key `started_at`).
     *
     * @generated from field: google.protobuf.Timestamp start_time = 13;
     */
    startTime?: Timestamp | undefined;
    /**
     * Questions waiting for an answer.
     *
     * @generated from field: repeated amc.v1.PendingQuestion pending_questions = 14;
     */
    pendingQuestions: PendingQuestion[];
    /**
     * The start of the agent's last message (at most 200 characters).
     *
     * @generated from field: string last_message_preview = 15;
     */
    lastMessagePreview: string;
    /**
     * The id amc gave the agent when it spawned it (AMC_SPAWN_ID), if any.
     *
     * @generated from field: string spawn_id = 16;
     */
    spawnId: string;
    /**
     * Context window usage, unset when the transcript has nothing usable yet.
     *
     * @generated from field: amc.v1.ContextUsage context_usage = 17;
     */
    contextUsage?: ContextUsage | undefined;
    /**
     * The transcript file's mtime in nanoseconds since the Unix epoch, unset when there is no transcript.
     *
     * @generated from field: optional int64 conversation_mtime_ns = 18;
     */
    conversationMtimeNs?: bigint | undefined;
    /**
     * current_tokens at the start of the current turn (recorded once per UserPromptSubmit), for per-turn token counts.
     *
     * @generated from field: optional int64 turn_start_tokens = 19;
     */
    turnStartTokens?: bigint | undefined;
    /**
     * True when the agent can no longer be interacted with (its process or Zellij session is gone).
     *
     * @generated from field: bool is_dead = 20;
     */
    isDead: boolean;
    /**
     * The model named at SessionStart (session file key `model`).
     *
     * @generated from field: string model = 21;
     */
    model: string;
    /**
     * Claude Code's permission mode (e.g. "default", "plan", "auto").
     *
     * @generated from field: string permission_mode = 22;
     */
    permissionMode: string;
    /**
     * Every other key of the session file, as one JSON object (e.g. `{"custom":1}`); "{}" or empty when there is none.
     *
     * @generated from field: string extra_json = 23;
     */
    extraJson: string;
    /**
     * Why amc decided is_dead, in words (e.g. "zellij session 'x' is not running"); empty when alive.
     *
     * @generated from field: string liveness_reason = 24;
     */
    livenessReason: string;
    /**
     * What the agent waits on the user for; unset when nothing is held. Set with status NEEDS_ATTENTION by the hook
     * (PermissionRequest, a blocking Notification, AskUserQuestion, a final message ending in "?").
     *
     * @generated from field: amc.v1.Attention attention = 25;
     */
    attention?: Attention | undefined;
    /**
     * How many sub-agents run (SubagentStart not yet followed by its SubagentStop).
     *
     * @generated from field: int32 running_subagents = 26;
     */
    runningSubagents: number;
    /**
     * Why the status is what it is, when an event or a rule says so (a StopFailure's API error, Claude's own idle or
     * busy record overriding the hooks); empty otherwise.
     *
     * @generated from field: string status_reason = 27;
     */
    statusReason: string;
    /**
     * Remote approval is on ("I am away from this pane", SetRemoteApproval): the session's PermissionRequest hooks wait
     * for a remote Decide even when approvals.hold is `never`. Kept in the session file (key `remote_approval`), so it
     * survives a server restart.
     *
     * @generated from field: bool remote_approval = 28;
     */
    remoteApproval: boolean;
    /**
     * What the session has cost so far; unset when nothing is known.
     *
     * @generated from field: amc.v1.SessionCost cost = 60;
     */
    cost?: SessionCost | undefined;
    /**
     * The plan's rate-limit windows as this session's agent last reported them.
     *
     * @generated from field: repeated amc.v1.RateLimit rate_limits = 61;
     */
    rateLimits: RateLimit[];
    /**
     * Spending over the last 15 minutes; unset without recent replies.
     *
     * @generated from field: amc.v1.BurnRate burn_rate = 62;
     */
    burnRate?: BurnRate | undefined;
    /**
     * When the agent will likely auto-compact; unset when the growth is unknown.
     *
     * @generated from field: amc.v1.CompactionForecast compaction_forecast = 63;
     */
    compactionForecast?: CompactionForecast | undefined;
    /**
     * The context size at the recent replies, oldest first (at most 48), for a sparkline.
     *
     * @generated from field: repeated amc.v1.ContextSample context_history = 64;
     */
    contextHistory: ContextSample[];
    /**
     * The machine the session runs on: the `host` setting (AMC_HOST, `amc serve --host`) of the amc that collected it;
     * empty on a server with no host configured. On a fleet hub, the host of the bucket key it came from.
     *
     * @generated from field: string host = 80;
     */
    host: string;
    /**
     * On a fleet hub: true while the session's host has sent nothing for longer than the TTL (15 s by default). The
     * session is the last one the hub received, kept until the host returns or deletes it.
     *
     * @generated from field: bool host_unreachable = 81;
     */
    hostUnreachable: boolean;
};
/**
 * Describes the message amc.v1.Session.
 * Use `create(SessionSchema)` to create a new message.
 */
export declare const SessionSchema: GenMessage<Session>;
/**
 * What a session waits on the user for (the session file's `attention` object).
 *
 * @generated from message amc.v1.Attention
 */
export type Attention = Message<"amc.v1.Attention"> & {
    /**
     * Why the agent is blocked.
     *
     * @generated from field: amc.v1.AttentionKind kind = 1;
     */
    kind: AttentionKind;
    /**
     * The kind exactly as written in the session file.
     *
     * @generated from field: string raw_kind = 2;
     */
    rawKind: string;
    /**
     * When the hold began (a later event about the same hold keeps it).
     *
     * @generated from field: google.protobuf.Timestamp since_time = 3;
     */
    sinceTime?: Timestamp | undefined;
    /**
     * The hook event that raised it: "PermissionRequest", "Notification", "PreToolUse" or "Stop".
     *
     * @generated from field: string event = 4;
     */
    event: string;
    /**
     * The tool waiting for the user's decision ("Bash", "AskUserQuestion", an MCP tool...), if any.
     *
     * @generated from field: string tool_name = 5;
     */
    toolName: string;
    /**
     * A short form of the tool's input (the command, file path or URL; at most 200 characters).
     *
     * @generated from field: string tool_input_summary = 6;
     */
    toolInputSummary: string;
    /**
     * The tool call's id, when the event carried one.
     *
     * @generated from field: string tool_use_id = 7;
     */
    toolUseId: string;
    /**
     * The notification's message or the question asked (at most 200 characters).
     *
     * @generated from field: string message = 8;
     */
    message: string;
    /**
     * The Notification's notification_type, when a Notification raised it.
     *
     * @generated from field: string notification_type = 9;
     */
    notificationType: string;
    /**
     * The id of the permission request a held PermissionRequest hook waits on: what ActionService.Decide names.
     *
     * @generated from field: string request_id = 10;
     */
    requestId: string;
};
/**
 * Describes the message amc.v1.Attention.
 * Use `create(AttentionSchema)` to create a new message.
 */
export declare const AttentionSchema: GenMessage<Attention>;
/**
 * SessionStatus is where the agent is in its turn, as the hook last recorded it.
 *
 * @generated from enum amc.v1.SessionStatus
 */
export declare enum SessionStatus {
    /**
     * The session file had no status, or one this version of amc does not know (see Session.raw_status).
     *
     * @generated from enum value: SESSION_STATUS_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * The agent process started (SessionStart) and no prompt has been submitted yet.
     *
     * @generated from enum value: SESSION_STATUS_STARTING = 1;
     */
    STARTING = 1,
    /**
     * The agent is working on a prompt.
     *
     * @generated from enum value: SESSION_STATUS_ACTIVE = 2;
     */
    ACTIVE = 2,
    /**
     * The agent waits for the user: a question (AskUserQuestion or a reply ending in "?") or a permission prompt.
     *
     * @generated from enum value: SESSION_STATUS_NEEDS_ATTENTION = 3;
     */
    NEEDS_ATTENTION = 3,
    /**
     * The agent finished its turn.
     *
     * @generated from enum value: SESSION_STATUS_DONE = 4;
     */
    DONE = 4
}
/**
 * Describes the enum amc.v1.SessionStatus.
 */
export declare const SessionStatusSchema: GenEnum<SessionStatus>;
/**
 * Agent is which coding agent runs the session.
 *
 * @generated from enum amc.v1.Agent
 */
export declare enum Agent {
    /**
     * The session file names no agent, or one amc does not know (see Session.raw_agent).
     *
     * @generated from enum value: AGENT_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * Anthropic's Claude Code.
     *
     * @generated from enum value: AGENT_CLAUDE = 1;
     */
    CLAUDE = 1,
    /**
     * OpenAI's Codex CLI.
     *
     * @generated from enum value: AGENT_CODEX = 2;
     */
    CODEX = 2
}
/**
 * Describes the enum amc.v1.Agent.
 */
export declare const AgentSchema: GenEnum<Agent>;
/**
 * WindowSource says where a ContextUsage's window_tokens came from, the authoritative sources first.
 *
 * @generated from enum amc.v1.WindowSource
 */
export declare enum WindowSource {
    /**
     * Not reported (an older server).
     *
     * @generated from enum value: WINDOW_SOURCE_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * AMC_CONTEXT_WINDOW forces the window.
     *
     * @generated from enum value: WINDOW_SOURCE_OVERRIDE = 1;
     */
    OVERRIDE = 1,
    /**
     * The model the session runs, as Claude Code selects it (session file `model`, ANTHROPIC_MODEL, Claude settings
     * `model`), carries the `[1m]` suffix.
     *
     * @generated from enum value: WINDOW_SOURCE_MODEL_SETTING = 2;
     */
    MODEL_SETTING = 2,
    /**
     * The model runs natively at 1M (Opus >= 4.7, Sonnet >= 5, Fable >= 5).
     *
     * @generated from enum value: WINDOW_SOURCE_NATIVE_MODEL = 3;
     */
    NATIVE_MODEL = 3,
    /**
     * Inferred: a context above 200 000 tokens was seen in the transcript, so the session runs at 1M.
     *
     * @generated from enum value: WINDOW_SOURCE_OBSERVED_OVER_200K = 4;
     */
    OBSERVED_OVER_200K = 4,
    /**
     * Inferred: nothing stated a window, the default applies (Claude 200 000, Codex 258 400).
     *
     * @generated from enum value: WINDOW_SOURCE_DEFAULT = 5;
     */
    DEFAULT = 5,
    /**
     * The agent wrote the window into its transcript (Codex `model_context_window`).
     *
     * @generated from enum value: WINDOW_SOURCE_AGENT_REPORTED = 6;
     */
    AGENT_REPORTED = 6,
    /**
     * Claude Code's statusLine input (`context_window.context_window_size`, recorded by `amc statusline`): exact.
     *
     * @generated from enum value: WINDOW_SOURCE_STATUSLINE = 7;
     */
    STATUSLINE = 7
}
/**
 * Describes the enum amc.v1.WindowSource.
 */
export declare const WindowSourceSchema: GenEnum<WindowSource>;
/**
 * @generated from enum amc.v1.AttentionKind
 */
export declare enum AttentionKind {
    /**
     * A kind this version of amc does not know (see Attention.raw_kind).
     *
     * @generated from enum value: ATTENTION_KIND_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * A tool waits for the user's permission (PermissionRequest, a permission_prompt notification).
     *
     * @generated from enum value: ATTENTION_KIND_PERMISSION = 1;
     */
    PERMISSION = 1,
    /**
     * The agent asked the user something (AskUserQuestion, a reply ending in "?", agent_needs_input).
     *
     * @generated from enum value: ATTENTION_KIND_QUESTION = 2;
     */
    QUESTION = 2,
    /**
     * An MCP server asks the user for input (elicitation_dialog, elicitation_url_dialog).
     *
     * @generated from enum value: ATTENTION_KIND_ELICITATION = 3;
     */
    ELICITATION = 3
}
/**
 * Describes the enum amc.v1.AttentionKind.
 */
export declare const AttentionKindSchema: GenEnum<AttentionKind>;
