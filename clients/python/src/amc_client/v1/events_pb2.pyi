import datetime

from . import session_pb2 as _session_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_ATTENTION_RAISED: _ClassVar[EventKind]
    EVENT_KIND_ATTENTION_CLEARED: _ClassVar[EventKind]
    EVENT_KIND_TURN_DONE: _ClassVar[EventKind]
    EVENT_KIND_SESSION_STARTED: _ClassVar[EventKind]
    EVENT_KIND_SESSION_DEAD: _ClassVar[EventKind]
    EVENT_KIND_SESSION_REMOVED: _ClassVar[EventKind]
    EVENT_KIND_COMPACTED: _ClassVar[EventKind]
    EVENT_KIND_CONTEXT_THRESHOLD: _ClassVar[EventKind]
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_ATTENTION_RAISED: EventKind
EVENT_KIND_ATTENTION_CLEARED: EventKind
EVENT_KIND_TURN_DONE: EventKind
EVENT_KIND_SESSION_STARTED: EventKind
EVENT_KIND_SESSION_DEAD: EventKind
EVENT_KIND_SESSION_REMOVED: EventKind
EVENT_KIND_COMPACTED: EventKind
EVENT_KIND_CONTEXT_THRESHOLD: EventKind

class Event(_message.Message):
    __slots__ = ("id", "kind", "raw_kind", "session_id", "time", "revision", "agent", "project_dir", "is_dead", "attention_kind", "waited_ms", "threshold_percent", "percent", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RAW_KIND_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    IS_DEAD_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_KIND_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: EventKind
    raw_kind: str
    session_id: str
    time: _timestamp_pb2.Timestamp
    revision: int
    agent: _session_pb2.Agent
    project_dir: str
    is_dead: bool
    attention_kind: str
    waited_ms: int
    threshold_percent: int
    percent: float
    reason: str
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[_Union[EventKind, str]] = ..., raw_kind: _Optional[str] = ..., session_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., agent: _Optional[_Union[_session_pb2.Agent, str]] = ..., project_dir: _Optional[str] = ..., is_dead: _Optional[bool] = ..., attention_kind: _Optional[str] = ..., waited_ms: _Optional[int] = ..., threshold_percent: _Optional[int] = ..., percent: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...
