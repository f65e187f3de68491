"""amc_client: a typed Python client for amc's gRPC API (amc.v1.StateService).

    import amc_client

    state = amc_client.get_state("127.0.0.1:7400")
    why = amc_client.explain_session(state.sessions[0].session_id, "127.0.0.1:7400")
    for state in amc_client.watch_state("127.0.0.1:7400", since_revision=state.revision,
                                         instance_id=state.instance_id):
        ...
    for event in amc_client.watch_events("127.0.0.1:7400", kinds=["attention_raised"]):
        ...
    token = open(os.path.expanduser("~/.local/share/amc/token")).read().strip()   # scope act
    amc_client.decide(session_id, request_id, allow=True, token=token)           # and answer, send_text, dismiss,
                                                                                 # restore, set_remote_approval,
                                                                                 # focus, ack

``amc_client.aio`` has the same calls for asyncio (grpc.aio). ``__version__``'s major is the proto package's version
(``PROTO_PACKAGE``, amc.v1 -> 1).

The messages are the generated protobuf classes (amc_client.v1.*_pb2), re-exported here.
"""

from . import _pickle
from ._version import PROTO_PACKAGE, __version__
from .client import (
    DEFAULT_TARGET,
    AmcError,
    AmcTimeoutError,
    AmcUnavailableError,
    Reconnect,
    EventWatch,
    StateWatch,
    ack,
    answer,
    decide,
    dismiss,
    explain_session,
    focus,
    get_state,
    restore,
    send_text,
    set_remote_approval,
    watch_events,
    watch_state,
)
from .v1.events_pb2 import Event, EventKind
from .v1.session_pb2 import (
    AGENT_CLAUDE,
    AGENT_CODEX,
    AGENT_UNSPECIFIED,
    SESSION_STATUS_ACTIVE,
    SESSION_STATUS_DONE,
    SESSION_STATUS_NEEDS_ATTENTION,
    SESSION_STATUS_STARTING,
    SESSION_STATUS_UNSPECIFIED,
    Agent,
    ContextUsage,
    PendingQuestion,
    QuestionOption,
    Session,
    SessionStatus,
)
from .v1.state_service_pb2 import (
    Decision,
    ExplainSessionRequest,
    ExplainSessionResponse,
    GetStateRequest,
    GetStateResponse,
    Heartbeat,
    SessionFilter,
    State,
    WatchEventsRequest,
    WatchEventsResponse,
    WatchStateRequest,
    WatchStateResponse,
)
from .v1.state_service_pb2_grpc import StateServiceStub

__all__ = [
    "PROTO_PACKAGE",
    "__version__",
    "DEFAULT_TARGET",
    "AmcError",
    "AmcTimeoutError",
    "AmcUnavailableError",
    "Reconnect",
    "StateWatch",
    "EventWatch",
    "ack",
    "answer",
    "decide",
    "dismiss",
    "explain_session",
    "focus",
    "get_state",
    "restore",
    "send_text",
    "set_remote_approval",
    "watch_state",
    "watch_events",
    "Event",
    "EventKind",
    "Decision",
    "ExplainSessionRequest",
    "ExplainSessionResponse",
    "WatchEventsRequest",
    "WatchEventsResponse",
    "AGENT_CLAUDE",
    "AGENT_CODEX",
    "AGENT_UNSPECIFIED",
    "SESSION_STATUS_ACTIVE",
    "SESSION_STATUS_DONE",
    "SESSION_STATUS_NEEDS_ATTENTION",
    "SESSION_STATUS_STARTING",
    "SESSION_STATUS_UNSPECIFIED",
    "Agent",
    "ContextUsage",
    "PendingQuestion",
    "QuestionOption",
    "Session",
    "SessionStatus",
    "GetStateRequest",
    "GetStateResponse",
    "Heartbeat",
    "SessionFilter",
    "State",
    "WatchStateRequest",
    "WatchStateResponse",
    "StateServiceStub",
]

_pickle.register()
