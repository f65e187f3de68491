import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATUS_UNSPECIFIED: _ClassVar[SessionStatus]
    SESSION_STATUS_STARTING: _ClassVar[SessionStatus]
    SESSION_STATUS_ACTIVE: _ClassVar[SessionStatus]
    SESSION_STATUS_NEEDS_ATTENTION: _ClassVar[SessionStatus]
    SESSION_STATUS_DONE: _ClassVar[SessionStatus]

class Agent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_UNSPECIFIED: _ClassVar[Agent]
    AGENT_CLAUDE: _ClassVar[Agent]
    AGENT_CODEX: _ClassVar[Agent]

class WindowSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WINDOW_SOURCE_UNSPECIFIED: _ClassVar[WindowSource]
    WINDOW_SOURCE_OVERRIDE: _ClassVar[WindowSource]
    WINDOW_SOURCE_MODEL_SETTING: _ClassVar[WindowSource]
    WINDOW_SOURCE_NATIVE_MODEL: _ClassVar[WindowSource]
    WINDOW_SOURCE_OBSERVED_OVER_200K: _ClassVar[WindowSource]
    WINDOW_SOURCE_DEFAULT: _ClassVar[WindowSource]
    WINDOW_SOURCE_AGENT_REPORTED: _ClassVar[WindowSource]
    WINDOW_SOURCE_STATUSLINE: _ClassVar[WindowSource]

class AttentionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTENTION_KIND_UNSPECIFIED: _ClassVar[AttentionKind]
    ATTENTION_KIND_PERMISSION: _ClassVar[AttentionKind]
    ATTENTION_KIND_QUESTION: _ClassVar[AttentionKind]
    ATTENTION_KIND_ELICITATION: _ClassVar[AttentionKind]
SESSION_STATUS_UNSPECIFIED: SessionStatus
SESSION_STATUS_STARTING: SessionStatus
SESSION_STATUS_ACTIVE: SessionStatus
SESSION_STATUS_NEEDS_ATTENTION: SessionStatus
SESSION_STATUS_DONE: SessionStatus
AGENT_UNSPECIFIED: Agent
AGENT_CLAUDE: Agent
AGENT_CODEX: Agent
WINDOW_SOURCE_UNSPECIFIED: WindowSource
WINDOW_SOURCE_OVERRIDE: WindowSource
WINDOW_SOURCE_MODEL_SETTING: WindowSource
WINDOW_SOURCE_NATIVE_MODEL: WindowSource
WINDOW_SOURCE_OBSERVED_OVER_200K: WindowSource
WINDOW_SOURCE_DEFAULT: WindowSource
WINDOW_SOURCE_AGENT_REPORTED: WindowSource
WINDOW_SOURCE_STATUSLINE: WindowSource
ATTENTION_KIND_UNSPECIFIED: AttentionKind
ATTENTION_KIND_PERMISSION: AttentionKind
ATTENTION_KIND_QUESTION: AttentionKind
ATTENTION_KIND_ELICITATION: AttentionKind

class QuestionOption(_message.Message):
    __slots__ = ("label", "description")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    label: str
    description: str
    def __init__(self, label: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class PendingQuestion(_message.Message):
    __slots__ = ("question", "header", "options", "multi_select")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MULTI_SELECT_FIELD_NUMBER: _ClassVar[int]
    question: str
    header: str
    options: _containers.RepeatedCompositeFieldContainer[QuestionOption]
    multi_select: bool
    def __init__(self, question: _Optional[str] = ..., header: _Optional[str] = ..., options: _Optional[_Iterable[_Union[QuestionOption, _Mapping]]] = ..., multi_select: _Optional[bool] = ...) -> None: ...

class ContextUsage(_message.Message):
    __slots__ = ("current_tokens", "window_tokens", "percent", "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "compacted", "update_time", "window_inferred", "window_source")
    CURRENT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPACTED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    WINDOW_INFERRED_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SOURCE_FIELD_NUMBER: _ClassVar[int]
    current_tokens: int
    window_tokens: int
    percent: float
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    compacted: bool
    update_time: _timestamp_pb2.Timestamp
    window_inferred: bool
    window_source: WindowSource
    def __init__(self, current_tokens: _Optional[int] = ..., window_tokens: _Optional[int] = ..., percent: _Optional[float] = ..., model: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_creation_tokens: _Optional[int] = ..., compacted: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_inferred: _Optional[bool] = ..., window_source: _Optional[_Union[WindowSource, str]] = ...) -> None: ...

class SessionCost(_message.Message):
    __slots__ = ("usd", "source", "update_time", "unknown_models", "tokens")
    USD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_MODELS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    usd: float
    source: str
    update_time: _timestamp_pb2.Timestamp
    unknown_models: _containers.RepeatedScalarFieldContainer[str]
    tokens: int
    def __init__(self, usd: _Optional[float] = ..., source: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unknown_models: _Optional[_Iterable[str]] = ..., tokens: _Optional[int] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("agent", "name", "window_minutes", "used_percent", "reset_time", "source", "observed_time", "expired")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    USED_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RESET_TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    agent: str
    name: str
    window_minutes: int
    used_percent: float
    reset_time: _timestamp_pb2.Timestamp
    source: str
    observed_time: _timestamp_pb2.Timestamp
    expired: bool
    def __init__(self, agent: _Optional[str] = ..., name: _Optional[str] = ..., window_minutes: _Optional[int] = ..., used_percent: _Optional[float] = ..., reset_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., observed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expired: _Optional[bool] = ...) -> None: ...

class BurnRate(_message.Message):
    __slots__ = ("tokens_per_minute", "usd_per_hour", "window_minutes")
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    USD_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    tokens_per_minute: float
    usd_per_hour: float
    window_minutes: int
    def __init__(self, tokens_per_minute: _Optional[float] = ..., usd_per_hour: _Optional[float] = ..., window_minutes: _Optional[int] = ...) -> None: ...

class CompactionForecast(_message.Message):
    __slots__ = ("forecast", "threshold_tokens", "tokens_per_turn", "turns_left", "minutes_left")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_TURN_FIELD_NUMBER: _ClassVar[int]
    TURNS_LEFT_FIELD_NUMBER: _ClassVar[int]
    MINUTES_LEFT_FIELD_NUMBER: _ClassVar[int]
    forecast: bool
    threshold_tokens: int
    tokens_per_turn: float
    turns_left: float
    minutes_left: float
    def __init__(self, forecast: _Optional[bool] = ..., threshold_tokens: _Optional[int] = ..., tokens_per_turn: _Optional[float] = ..., turns_left: _Optional[float] = ..., minutes_left: _Optional[float] = ...) -> None: ...

class ContextSample(_message.Message):
    __slots__ = ("time", "tokens")
    TIME_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    tokens: int
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tokens: _Optional[int] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("session_id", "status", "raw_status", "agent", "raw_agent", "project_dir", "cwd", "transcript_path", "zellij_session", "zellij_pane", "last_event", "last_event_time", "start_time", "pending_questions", "last_message_preview", "spawn_id", "context_usage", "conversation_mtime_ns", "turn_start_tokens", "is_dead", "model", "permission_mode", "extra_json", "liveness_reason", "attention", "running_subagents", "status_reason", "remote_approval", "cost", "rate_limits", "burn_rate", "compaction_forecast", "context_history", "host", "host_unreachable")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    RAW_AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_PATH_FIELD_NUMBER: _ClassVar[int]
    ZELLIJ_SESSION_FIELD_NUMBER: _ClassVar[int]
    ZELLIJ_PANE_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    PENDING_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    SPAWN_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_USAGE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_MTIME_NS_FIELD_NUMBER: _ClassVar[int]
    TURN_START_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IS_DEAD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_MODE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_REASON_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    RUNNING_SUBAGENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    REMOTE_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    BURN_RATE_FIELD_NUMBER: _ClassVar[int]
    COMPACTION_FORECAST_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_HISTORY_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    HOST_UNREACHABLE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    status: SessionStatus
    raw_status: str
    agent: Agent
    raw_agent: str
    project_dir: str
    cwd: str
    transcript_path: str
    zellij_session: str
    zellij_pane: str
    last_event: str
    last_event_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    pending_questions: _containers.RepeatedCompositeFieldContainer[PendingQuestion]
    last_message_preview: str
    spawn_id: str
    context_usage: ContextUsage
    conversation_mtime_ns: int
    turn_start_tokens: int
    is_dead: bool
    model: str
    permission_mode: str
    extra_json: str
    liveness_reason: str
    attention: Attention
    running_subagents: int
    status_reason: str
    remote_approval: bool
    cost: SessionCost
    rate_limits: _containers.RepeatedCompositeFieldContainer[RateLimit]
    burn_rate: BurnRate
    compaction_forecast: CompactionForecast
    context_history: _containers.RepeatedCompositeFieldContainer[ContextSample]
    host: str
    host_unreachable: bool
    def __init__(self, session_id: _Optional[str] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., raw_status: _Optional[str] = ..., agent: _Optional[_Union[Agent, str]] = ..., raw_agent: _Optional[str] = ..., project_dir: _Optional[str] = ..., cwd: _Optional[str] = ..., transcript_path: _Optional[str] = ..., zellij_session: _Optional[str] = ..., zellij_pane: _Optional[str] = ..., last_event: _Optional[str] = ..., last_event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_questions: _Optional[_Iterable[_Union[PendingQuestion, _Mapping]]] = ..., last_message_preview: _Optional[str] = ..., spawn_id: _Optional[str] = ..., context_usage: _Optional[_Union[ContextUsage, _Mapping]] = ..., conversation_mtime_ns: _Optional[int] = ..., turn_start_tokens: _Optional[int] = ..., is_dead: _Optional[bool] = ..., model: _Optional[str] = ..., permission_mode: _Optional[str] = ..., extra_json: _Optional[str] = ..., liveness_reason: _Optional[str] = ..., attention: _Optional[_Union[Attention, _Mapping]] = ..., running_subagents: _Optional[int] = ..., status_reason: _Optional[str] = ..., remote_approval: _Optional[bool] = ..., cost: _Optional[_Union[SessionCost, _Mapping]] = ..., rate_limits: _Optional[_Iterable[_Union[RateLimit, _Mapping]]] = ..., burn_rate: _Optional[_Union[BurnRate, _Mapping]] = ..., compaction_forecast: _Optional[_Union[CompactionForecast, _Mapping]] = ..., context_history: _Optional[_Iterable[_Union[ContextSample, _Mapping]]] = ..., host: _Optional[str] = ..., host_unreachable: _Optional[bool] = ...) -> None: ...

class Attention(_message.Message):
    __slots__ = ("kind", "raw_kind", "since_time", "event", "tool_name", "tool_input_summary", "tool_use_id", "message", "notification_type", "request_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RAW_KIND_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    TOOL_INPUT_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TOOL_USE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    kind: AttentionKind
    raw_kind: str
    since_time: _timestamp_pb2.Timestamp
    event: str
    tool_name: str
    tool_input_summary: str
    tool_use_id: str
    message: str
    notification_type: str
    request_id: str
    def __init__(self, kind: _Optional[_Union[AttentionKind, str]] = ..., raw_kind: _Optional[str] = ..., since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event: _Optional[str] = ..., tool_name: _Optional[str] = ..., tool_input_summary: _Optional[str] = ..., tool_use_id: _Optional[str] = ..., message: _Optional[str] = ..., notification_type: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...
