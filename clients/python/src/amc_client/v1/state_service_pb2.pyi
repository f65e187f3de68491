import datetime

from . import events_pb2 as _events_pb2
from . import session_pb2 as _session_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class State(_message.Message):
    __slots__ = ("revision", "sessions", "snapshot_time", "instance_id", "rate_limits", "hosts")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    revision: int
    sessions: _containers.RepeatedCompositeFieldContainer[_session_pb2.Session]
    snapshot_time: _timestamp_pb2.Timestamp
    instance_id: str
    rate_limits: _containers.RepeatedCompositeFieldContainer[_session_pb2.RateLimit]
    hosts: _containers.RepeatedCompositeFieldContainer[FleetHost]
    def __init__(self, revision: _Optional[int] = ..., sessions: _Optional[_Iterable[_Union[_session_pb2.Session, _Mapping]]] = ..., snapshot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., instance_id: _Optional[str] = ..., rate_limits: _Optional[_Iterable[_Union[_session_pb2.RateLimit, _Mapping]]] = ..., hosts: _Optional[_Iterable[_Union[FleetHost, _Mapping]]] = ...) -> None: ...

class FleetHost(_message.Message):
    __slots__ = ("name", "state", "last_seen_time", "age_ms", "instance_id", "revision", "version", "sessions", "name_conflict", "instance_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_CONFLICT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    last_seen_time: _timestamp_pb2.Timestamp
    age_ms: int
    instance_id: str
    revision: int
    version: str
    sessions: int
    name_conflict: bool
    instance_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ..., last_seen_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age_ms: _Optional[int] = ..., instance_id: _Optional[str] = ..., revision: _Optional[int] = ..., version: _Optional[str] = ..., sessions: _Optional[int] = ..., name_conflict: _Optional[bool] = ..., instance_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class FleetHostRecord(_message.Message):
    __slots__ = ("name", "instance_id", "revision", "version", "heartbeat_time", "sessions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    instance_id: str
    revision: int
    version: str
    heartbeat_time: _timestamp_pb2.Timestamp
    sessions: int
    def __init__(self, name: _Optional[str] = ..., instance_id: _Optional[str] = ..., revision: _Optional[int] = ..., version: _Optional[str] = ..., heartbeat_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sessions: _Optional[int] = ...) -> None: ...

class SessionFilter(_message.Message):
    __slots__ = ("session_ids", "agents", "exclude_dead", "hosts")
    SESSION_IDS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_DEAD_FIELD_NUMBER: _ClassVar[int]
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    session_ids: _containers.RepeatedScalarFieldContainer[str]
    agents: _containers.RepeatedScalarFieldContainer[_session_pb2.Agent]
    exclude_dead: bool
    hosts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session_ids: _Optional[_Iterable[str]] = ..., agents: _Optional[_Iterable[_Union[_session_pb2.Agent, str]]] = ..., exclude_dead: _Optional[bool] = ..., hosts: _Optional[_Iterable[str]] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: SessionFilter
    def __init__(self, filter: _Optional[_Union[SessionFilter, _Mapping]] = ...) -> None: ...

class GetStateResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: State
    def __init__(self, state: _Optional[_Union[State, _Mapping]] = ...) -> None: ...

class WatchStateRequest(_message.Message):
    __slots__ = ("since_revision", "instance_id", "filter", "deltas")
    SINCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    DELTAS_FIELD_NUMBER: _ClassVar[int]
    since_revision: int
    instance_id: str
    filter: SessionFilter
    deltas: bool
    def __init__(self, since_revision: _Optional[int] = ..., instance_id: _Optional[str] = ..., filter: _Optional[_Union[SessionFilter, _Mapping]] = ..., deltas: _Optional[bool] = ...) -> None: ...

class StateDelta(_message.Message):
    __slots__ = ("base_revision", "upserted_sessions", "removed_session_ids", "snapshot_time")
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    UPSERTED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_SESSION_IDS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    base_revision: int
    upserted_sessions: _containers.RepeatedCompositeFieldContainer[_session_pb2.Session]
    removed_session_ids: _containers.RepeatedScalarFieldContainer[str]
    snapshot_time: _timestamp_pb2.Timestamp
    def __init__(self, base_revision: _Optional[int] = ..., upserted_sessions: _Optional[_Iterable[_Union[_session_pb2.Session, _Mapping]]] = ..., removed_session_ids: _Optional[_Iterable[str]] = ..., snapshot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchStateResponse(_message.Message):
    __slots__ = ("revision", "instance_id", "snapshot", "heartbeat", "delta")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    revision: int
    instance_id: str
    snapshot: State
    heartbeat: Heartbeat
    delta: StateDelta
    def __init__(self, revision: _Optional[int] = ..., instance_id: _Optional[str] = ..., snapshot: _Optional[_Union[State, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., delta: _Optional[_Union[StateDelta, _Mapping]] = ...) -> None: ...

class ExplainSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("field", "value_json", "rule", "evidence_json", "at")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_JSON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    field: str
    value_json: str
    rule: str
    evidence_json: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, field: _Optional[str] = ..., value_json: _Optional[str] = ..., rule: _Optional[str] = ..., evidence_json: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExplainSessionResponse(_message.Message):
    __slots__ = ("session_id", "present", "decisions", "trash_path", "removed_at")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    TRASH_PATH_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    present: bool
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    trash_path: str
    removed_at: _timestamp_pb2.Timestamp
    def __init__(self, session_id: _Optional[str] = ..., present: _Optional[bool] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., trash_path: _Optional[str] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("since_event_id", "filter", "kinds")
    SINCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    since_event_id: int
    filter: SessionFilter
    kinds: _containers.RepeatedScalarFieldContainer[_events_pb2.EventKind]
    def __init__(self, since_event_id: _Optional[int] = ..., filter: _Optional[_Union[SessionFilter, _Mapping]] = ..., kinds: _Optional[_Iterable[_Union[_events_pb2.EventKind, str]]] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event", "heartbeat", "newest_event_id")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    NEWEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    heartbeat: Heartbeat
    newest_event_id: int
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., newest_event_id: _Optional[int] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class AckResponse(_message.Message):
    __slots__ = ("session_id", "acknowledged")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    acknowledged: bool
    def __init__(self, session_id: _Optional[str] = ..., acknowledged: _Optional[bool] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UsageTotal(_message.Message):
    __slots__ = ("project_dir", "day", "usd", "tokens", "sessions", "unpriced_sessions")
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    USD_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    project_dir: str
    day: str
    usd: float
    tokens: int
    sessions: int
    unpriced_sessions: int
    def __init__(self, project_dir: _Optional[str] = ..., day: _Optional[str] = ..., usd: _Optional[float] = ..., tokens: _Optional[int] = ..., sessions: _Optional[int] = ..., unpriced_sessions: _Optional[int] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("by_project", "by_day", "total", "rate_limits", "snapshot_time")
    BY_PROJECT_FIELD_NUMBER: _ClassVar[int]
    BY_DAY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    by_project: _containers.RepeatedCompositeFieldContainer[UsageTotal]
    by_day: _containers.RepeatedCompositeFieldContainer[UsageTotal]
    total: UsageTotal
    rate_limits: _containers.RepeatedCompositeFieldContainer[_session_pb2.RateLimit]
    snapshot_time: _timestamp_pb2.Timestamp
    def __init__(self, by_project: _Optional[_Iterable[_Union[UsageTotal, _Mapping]]] = ..., by_day: _Optional[_Iterable[_Union[UsageTotal, _Mapping]]] = ..., total: _Optional[_Union[UsageTotal, _Mapping]] = ..., rate_limits: _Optional[_Iterable[_Union[_session_pb2.RateLimit, _Mapping]]] = ..., snapshot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
