"""get_state() and watch_state(): amc's StateService over gRPC, with clear errors and resumable watches."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import grpc

from .v1 import action_service_pb2 as _apb
from .v1 import action_service_pb2_grpc as _apb_grpc
from .v1 import events_pb2 as _ev
from .v1 import state_service_pb2 as _pb
from .v1 import state_service_pb2_grpc as _pb_grpc

#: Where ``amc serve`` listens by default.
DEFAULT_TARGET = "127.0.0.1:7400"

FilterLike = Union[_pb.SessionFilter, Mapping[str, Any], None]
Metadata = Optional[Sequence[tuple[str, str]]]


class AmcError(Exception):
    """Any failure of an amc call. ``code`` is the gRPC status code (or None), ``details`` the server's message."""

    def __init__(self, message: str, *, target: str, code: Optional[grpc.StatusCode] = None, details: str = ""):
        super().__init__(message)
        self.target = target
        self.code = code
        self.details = details

    def __reduce__(self) -> Any:
        # Pickle (multiprocessing, concurrent.futures) rebuilds the error with its keyword-only fields.
        return (_rebuild_error, (type(self), self.args[0] if self.args else "", self.target, self.code, self.details))


def _rebuild_error(cls: type, message: str, target: str, code: Optional[grpc.StatusCode], details: str) -> AmcError:
    return cls(message, target=target, code=code, details=details)


def _with_token(metadata: Metadata, token: Optional[str]) -> Metadata:
    """``metadata`` plus ``authorization: Bearer <token>`` when a token is given."""
    if not token:
        return metadata
    return [*(metadata or []), ("authorization", f"Bearer {token}")]


class AmcUnavailableError(AmcError):
    """amc is not running, not reachable, or went away (gRPC UNAVAILABLE), and the retries (if any) are used up."""


class AmcTimeoutError(AmcError):
    """amc did not answer in time: a call's deadline passed, or a watch received nothing for too long."""


def _error_from_rpc(err: grpc.RpcError, target: str, rpc: str) -> AmcError:
    # A grpc.Call (blocking API) or a grpc.aio.AioRpcError (asyncio API): both have code() and details().
    has_status = callable(getattr(err, "code", None)) and callable(getattr(err, "details", None))
    code = err.code() if has_status else None
    details = (err.details() if has_status else None) or str(err)
    if code == grpc.StatusCode.UNAVAILABLE:
        return AmcUnavailableError(
            f"{rpc}: amc at {target} is unavailable (is `amc serve` running?): {details}",
            target=target,
            code=code,
            details=details,
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return AmcTimeoutError(
            f"{rpc}: amc at {target} did not answer in time: {details}", target=target, code=code, details=details
        )
    name = code.name if code is not None else "UNKNOWN"
    return AmcError(f"{rpc}: amc at {target} failed with {name}: {details}", target=target, code=code, details=details)


def _filter(value: FilterLike) -> Optional[_pb.SessionFilter]:
    if value is None or isinstance(value, _pb.SessionFilter):
        return value
    return _pb.SessionFilter(**dict(value))


def get_state(
    target: str = DEFAULT_TARGET,
    *,
    filter: FilterLike = None,
    timeout: float = 5.0,
    metadata: Metadata = None,
    channel: Optional[grpc.Channel] = None,
    token: Optional[str] = None,
) -> _pb.State:
    """Returns the latest published State.

    ``filter`` is a SessionFilter or a dict of its fields (``{"exclude_dead": True}``). Fails fast with
    AmcUnavailableError when nothing listens at ``target`` (the call does not wait for the server), and with
    AmcTimeoutError after ``timeout`` seconds when something listens but does not answer. ``channel`` reuses a
    channel of yours (it is not closed).
    """
    own = channel is None
    ch = grpc.insecure_channel(target) if channel is None else channel
    try:
        stub = _pb_grpc.StateServiceStub(ch)
        request = _pb.GetStateRequest(filter=_filter(filter))
        response = stub.GetState(request, timeout=timeout, metadata=_with_token(metadata, token), wait_for_ready=False)
        return response.state
    except grpc.RpcError as err:
        raise _error_from_rpc(err, target, "GetState") from None
    finally:
        if own:
            ch.close()


def explain_session(
    session_id: str,
    target: str = DEFAULT_TARGET,
    *,
    timeout: float = 5.0,
    metadata: Metadata = None,
    channel: Optional[grpc.Channel] = None,
) -> _pb.ExplainSessionResponse:
    """Returns why session ``session_id`` is what it is (ExplainSession): the rules' decisions, values and evidence.

    For a listed session ``present`` is True and ``decisions`` are the latest pass's; for a session amc removed (or saw
    vanish) ``present`` is False, the last decision is the removal, and ``trash_path`` says where its file went. Each
    Decision's ``value_json`` and ``evidence_json`` are JSON text (``json.loads`` them). Raises AmcError with
    ``code`` NOT_FOUND for an id amc has not seen (listed or removed in the last days), INVALID_ARGUMENT for an id that
    cannot name a session file; AmcUnavailableError / AmcTimeoutError as get_state().
    """
    own = channel is None
    ch = grpc.insecure_channel(target) if channel is None else channel
    try:
        stub = _pb_grpc.StateServiceStub(ch)
        request = _pb.ExplainSessionRequest(session_id=session_id)
        return stub.ExplainSession(request, timeout=timeout, metadata=metadata, wait_for_ready=False)
    except grpc.RpcError as err:
        raise _error_from_rpc(err, target, "ExplainSession") from None
    finally:
        if own:
            ch.close()


def _act(
    rpc: str,
    request: Any,
    target: str,
    token: Optional[str],
    timeout: float,
    metadata: Metadata,
    channel: Optional[grpc.Channel],
) -> _apb.ActionResult:
    """Calls ActionService/``rpc`` with the bearer ``token`` (scope ``act``); returns what happened."""
    md = list(metadata or [])
    if token:
        md.append(("authorization", f"Bearer {token}"))
    own = channel is None
    ch = grpc.insecure_channel(target) if channel is None else channel
    try:
        stub = _apb_grpc.ActionServiceStub(ch)
        return getattr(stub, rpc)(request, timeout=timeout, metadata=md, wait_for_ready=False).result
    except grpc.RpcError as err:
        raise _error_from_rpc(err, target, rpc) from None
    finally:
        if own:
            ch.close()


def decide(session_id: str, request_id: str, allow: bool, message: Optional[str] = None,
           target: str = DEFAULT_TARGET, *, token: Optional[str] = None, timeout: float = 5.0,
           metadata: Metadata = None, channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Allows or denies the held permission request ``request_id`` (the session's ``attention.request_id``).
    ``outcome``: ``delivered``, ``already_answered`` or ``withdrawn``. Needs a token of scope ``act``."""
    behavior = _apb.BEHAVIOR_ALLOW if allow else _apb.BEHAVIOR_DENY
    request = _apb.DecideRequest(session_id=session_id, request_id=request_id, behavior=behavior, message=message)
    return _act("Decide", request, target, token, timeout, metadata, channel)


def send_text(session_id: str, text: str, target: str = DEFAULT_TARGET, *, token: Optional[str] = None,
              timeout: float = 10.0, metadata: Metadata = None,
              channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Types ``text`` and Enter into the session's own Zellij pane (``delivered`` or ``pane_gone``)."""
    request = _apb.SendTextRequest(session_id=session_id, text=text)
    return _act("SendText", request, target, token, timeout, metadata, channel)


def answer(session_id: str, options: Sequence[int] = (), text: str = "", target: str = DEFAULT_TARGET, *,
           token: Optional[str] = None, timeout: float = 10.0, metadata: Metadata = None,
           channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Answers the session's pending question with option numbers (1-based) or free text."""
    request = _apb.AnswerRequest(session_id=session_id, options=list(options), text=text)
    return _act("Answer", request, target, token, timeout, metadata, channel)


def dismiss(session_id: str, target: str = DEFAULT_TARGET, *, token: Optional[str] = None, timeout: float = 5.0,
            metadata: Metadata = None, channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Moves a dead, done or ended session's file to the trash (``dismissed``)."""
    return _act("Dismiss", _apb.DismissRequest(session_id=session_id), target, token, timeout, metadata, channel)


def restore(session_id: str, target: str = DEFAULT_TARGET, *, token: Optional[str] = None, timeout: float = 5.0,
            metadata: Metadata = None, channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Brings a dismissed session's file back (``restored`` or ``already_present``)."""
    return _act("Restore", _apb.RestoreRequest(session_id=session_id), target, token, timeout, metadata, channel)


def set_remote_approval(session_id: str, enabled: bool, target: str = DEFAULT_TARGET, *,
                        token: Optional[str] = None, timeout: float = 5.0, metadata: Metadata = None,
                        channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Turns remote approval on or off: while on, the session's PermissionRequest hooks wait for decide()."""
    request = _apb.SetRemoteApprovalRequest(session_id=session_id, enabled=enabled)
    return _act("SetRemoteApproval", request, target, token, timeout, metadata, channel)


def focus(session_id: str, target: str = DEFAULT_TARGET, *, token: Optional[str] = None, timeout: float = 5.0,
          metadata: Metadata = None, channel: Optional[grpc.Channel] = None) -> _apb.ActionResult:
    """Focuses the session's own Zellij pane (``focused`` or ``pane_gone``); a Zellij without ``action focus-pane-id``
    (before 0.44.1) is refused with FAILED_PRECONDITION."""
    return _act("Focus", _apb.FocusRequest(session_id=session_id), target, token, timeout, metadata, channel)


def ack(session_id: str, target: str = DEFAULT_TARGET, *, token: Optional[str] = None, timeout: float = 5.0,
        metadata: Metadata = None, channel: Optional[grpc.Channel] = None) -> _pb.AckResponse:
    """Acknowledges the session's attention: no notification of it until its next attention (StateService/Ack, scope
    ``act``, audited like the actions). ``acknowledged`` is False when amc's notifications do not run."""
    md = list(metadata or [])
    if token:
        md.append(("authorization", f"Bearer {token}"))
    own = channel is None
    ch = grpc.insecure_channel(target) if channel is None else channel
    try:
        stub = _pb_grpc.StateServiceStub(ch)
        return stub.Ack(_pb.AckRequest(session_id=session_id), timeout=timeout, metadata=md, wait_for_ready=False)
    except grpc.RpcError as err:
        raise _error_from_rpc(err, target, "Ack") from None
    finally:
        if own:
            ch.close()


@dataclass(frozen=True)
class Reconnect:
    """Passed to ``on_reconnect`` before each reconnect attempt."""

    #: 1 for the first retry after a failure, 2 for the next, ... (back to 1 after a message arrives).
    attempt: int
    #: Seconds slept before this attempt.
    delay: float
    #: Why the previous stream ended.
    error: AmcError
    #: Where the new stream resumes.
    since_revision: int
    instance_id: str


class _Watchdog:
    """Cancels a call when no message arrived before a deadline (one thread per watch attempt)."""

    def __init__(self, call: grpc.Call, timeout: float):
        self._call = call
        self._cond = threading.Condition()
        self._deadline: Optional[float] = time.monotonic() + timeout
        self._stopped = False
        self.fired = False
        self._thread = threading.Thread(target=self._run, name="amc-watch-watchdog", daemon=True)
        self._thread.start()

    def reset(self, timeout: Optional[float]) -> None:
        """Next deadline: ``timeout`` seconds from now (None: no deadline until the next reset)."""
        with self._cond:
            self._deadline = None if timeout is None else time.monotonic() + timeout
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left <= 0:
                    self.fired = True
                    break
                self._cond.wait(left)
        if self.fired:
            self._call.cancel()


class _Watch:
    """The iterator plumbing of a watch: ``_gen`` yields its items, ``_call`` is the open call (under ``_lock``)."""

    _gen: Iterator[Any]
    _call: Optional[grpc.Call]

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._call = None

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        return next(self._gen)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Ends the watch; safe to call from any thread. A blocked ``next()`` returns with StopIteration."""
        self._cancelled.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def close(self) -> None:
        """Ends the watch and releases its connection (call from the iterating thread, or use cancel())."""
        self.cancel()
        try:
            self._gen.close()
        except ValueError:  # "generator already executing": another thread iterates; cancel() ends it there
            pass


class StateWatch(_Watch, Iterator[_pb.State]):
    """An iterator of State snapshots from WatchState, made by :func:`watch_state`.

    Use it in a ``for`` loop or with ``next()``. ``close()`` (or leaving a ``with`` block) ends it; ``cancel()`` ends
    it from another thread (the iteration then stops without an error). ``last_revision`` and ``instance_id`` are
    where a new watch would resume; ``reconnects`` counts the reconnect attempts so far.
    """

    def __init__(
        self,
        target: str,
        since_revision: int,
        instance_id: str,
        filter: Optional[_pb.SessionFilter],
        max_retries: Optional[int],
        backoff_initial: float,
        backoff_max: float,
        connect_timeout: float,
        idle_timeout: float,
        metadata: Metadata,
        on_reconnect: Optional[Callable[[Reconnect], None]],
    ):
        self.target = target
        self.last_revision = since_revision
        self.instance_id = instance_id
        self.reconnects = 0
        #: How many changes arrived as deltas (applied here to the last State) rather than as whole snapshots.
        self.deltas_applied = 0
        # The last State yielded: the base the server's deltas apply to. Without one (a watch resumed from a
        # revision the caller got elsewhere) the watch asks for snapshots until a reconnect.
        self._state: Optional[_pb.State] = None
        self._filter = filter
        self._max_retries = max_retries
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._metadata = metadata
        self._on_reconnect = on_reconnect
        super().__init__()
        self._gen = self._run()

    def _request(self) -> _pb.WatchStateRequest:
        # Deltas (the changed sessions only) when this watch holds the state they apply to, or will get it first.
        deltas = self.last_revision == 0 or self._state is not None
        return _pb.WatchStateRequest(
            since_revision=self.last_revision, instance_id=self.instance_id, filter=self._filter, deltas=deltas
        )

    def _run(self) -> Iterator[_pb.State]:
        failures = 0
        while not self._cancelled.is_set():
            error: AmcError
            channel = grpc.insecure_channel(self.target)
            watchdog: Optional[_Watchdog] = None
            try:
                call = _pb_grpc.StateServiceStub(channel).WatchState(
                    self._request(), metadata=self._metadata, wait_for_ready=False
                )
                with self._lock:
                    self._call = call
                if self._cancelled.is_set():
                    call.cancel()
                # The server answers a watch at once (a snapshot or a heartbeat): the first message must come within
                # connect_timeout, the next ones within idle_timeout (it sends a heartbeat every 15 s when idle).
                watchdog = _Watchdog(call, self._connect_timeout)
                resync = False
                for message in call:
                    failures = 0
                    kind = message.WhichOneof("kind")
                    state: Optional[_pb.State] = None
                    if kind == "snapshot":
                        state = message.snapshot
                    elif kind == "delta":
                        if self._state is None or message.delta.base_revision != self.last_revision:
                            # Not the state this watch holds (never expected): start over with a full snapshot.
                            resync = True
                            break
                        state = _apply_delta(self._state, message)
                        self.deltas_applied += 1
                    self.last_revision = message.revision
                    self.instance_id = message.instance_id
                    if state is not None:
                        self._state = state
                        watchdog.reset(None)  # the consumer's time is not the server's silence
                        yield state
                    watchdog.reset(self._idle_timeout)
                if resync:
                    self._state, self.last_revision, self.instance_id = None, 0, ""
                    continue
                error = AmcUnavailableError(
                    f"WatchState: amc at {self.target} ended the stream without a status",
                    target=self.target,
                    code=grpc.StatusCode.UNAVAILABLE,
                )
            except grpc.RpcError as err:
                if self._cancelled.is_set():
                    return
                if watchdog is not None and watchdog.fired:
                    error = AmcTimeoutError(
                        f"WatchState: no message from amc at {self.target} in time "
                        f"({self._connect_timeout:g} s for the first, {self._idle_timeout:g} s for the next)",
                        target=self.target,
                        code=grpc.StatusCode.DEADLINE_EXCEEDED,
                    )
                else:
                    error = _error_from_rpc(err, self.target, "WatchState")
                if not isinstance(error, (AmcUnavailableError, AmcTimeoutError)):
                    raise error from None
            finally:
                if watchdog is not None:
                    watchdog.stop()
                with self._lock:
                    call_to_end, self._call = self._call, None
                if call_to_end is not None:
                    call_to_end.cancel()
                channel.close()

            failures += 1
            if self._max_retries is not None and failures > self._max_retries:
                n = self._max_retries
                error.args = (f"{error.args[0]} (gave up after {n} reconnect attempt{'' if n == 1 else 's'})",)
                raise error
            delay = min(self._backoff_max, self._backoff_initial * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
            self.reconnects += 1
            if self._on_reconnect is not None:
                self._on_reconnect(Reconnect(failures, delay, error, self.last_revision, self.instance_id))
            if self._cancelled.wait(delay):
                return


def _apply_delta(state: _pb.State, message: _pb.WatchStateResponse) -> _pb.State:
    """Returns ``state`` with ``message.delta`` applied: the State the server would have sent as a snapshot."""
    delta = message.delta
    replaced = set(delta.removed_session_ids) | {s.session_id for s in delta.upserted_sessions}
    sessions = [s for s in state.sessions if s.session_id not in replaced]
    sessions.extend(delta.upserted_sessions)
    sessions.sort(key=lambda s: s.session_id)
    new = _pb.State(revision=message.revision, instance_id=message.instance_id, sessions=sessions)
    new.snapshot_time.CopyFrom(delta.snapshot_time)
    return new


def watch_state(
    target: str = DEFAULT_TARGET,
    since_revision: int = 0,
    *,
    instance_id: str = "",
    since: Optional[_pb.State] = None,
    filter: FilterLike = None,
    max_retries: Optional[int] = None,
    backoff_initial: float = 0.25,
    backoff_max: float = 5.0,
    connect_timeout: float = 5.0,
    idle_timeout: float = 60.0,
    metadata: Metadata = None,
    token: Optional[str] = None,
    on_reconnect: Optional[Callable[[Reconnect], None]] = None,
) -> StateWatch:
    """Watches amc's state: yields the first snapshot (a State), then one State per change.

    Heartbeats are consumed silently but advance ``last_revision``. When the stream ends with UNAVAILABLE (server
    shutdown or restart, network error) or stays silent too long, the watch reconnects with the last revision and
    instance_id it saw, after an exponential backoff (``backoff_initial`` doubling up to ``backoff_max`` seconds,
    +-20 % jitter). By default it retries forever, as a long-running watcher should (a restart or a laptop's sleep
    must not end it; ``on_reconnect`` tells you about each attempt); after ``max_retries`` failed reconnects in a row
    (the count restarts when a message arrives) it raises AmcUnavailableError or AmcTimeoutError instead. Other errors
    (a missing or wrong ``token``, a bad filter) are raised at once as AmcError.

    Changes travel as deltas (only the sessions that changed; ``WatchStateRequest.deltas``), which the watch applies
    to the last State it yielded, so every item is still a whole State; ``deltas_applied`` counts them.

    List, then watch: pass ``since=get_state()`` to skip the first snapshot when nothing changed since, and keep
    deltas (the watch applies them to that State; the first item is then the first change). ``since_revision`` and
    ``instance_id`` alone (a revision the caller got elsewhere, without its State) also skip the first snapshot, but
    the watch then asks for whole snapshots, having no State to apply deltas to. After a server restart (new
    instance_id) the next State is a full snapshot of the new instance.
    """
    if since is not None:
        since_revision, instance_id = since.revision, since.instance_id
    watch = StateWatch(
        target,
        since_revision,
        instance_id,
        _filter(filter),
        max_retries,
        backoff_initial,
        backoff_max,
        connect_timeout,
        idle_timeout,
        _with_token(metadata, token),
        on_reconnect,
    )
    if since is not None:
        held = _pb.State()
        held.CopyFrom(since)
        watch._state = held
    return watch


class EventWatch(_Watch, Iterator[_ev.Event]):
    """An iterator of Events from WatchEvents, made by :func:`watch_events`.

    ``last_event_id`` is where a new watch would resume (pass it as ``since_event_id``); ``reconnects`` counts the
    reconnect attempts so far. ``cancel()`` ends it from any thread; ``close()`` (or leaving a ``with`` block) ends it.
    """

    def __init__(
        self,
        target: str,
        since_event_id: int,
        filter: Optional[_pb.SessionFilter],
        kinds: Sequence[int],
        max_retries: Optional[int],
        backoff_initial: float,
        backoff_max: float,
        idle_timeout: float,
        metadata: Metadata,
        on_reconnect: Optional[Callable[[Reconnect], None]],
    ):
        self.target = target
        self.last_event_id = since_event_id
        self.reconnects = 0
        self._filter = filter
        self._kinds = list(kinds)
        self._max_retries = max_retries
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._idle_timeout = idle_timeout
        self._metadata = metadata
        self._on_reconnect = on_reconnect
        super().__init__()
        self._gen = self._run()

    def _run(self) -> Iterator[_ev.Event]:
        failures = 0
        while not self._cancelled.is_set():
            error: AmcError
            channel = grpc.insecure_channel(self.target)
            watchdog: Optional[_Watchdog] = None
            try:
                request = _pb.WatchEventsRequest(
                    since_event_id=self.last_event_id, filter=self._filter, kinds=self._kinds
                )
                call = _pb_grpc.StateServiceStub(channel).WatchEvents(
                    request, metadata=self._metadata, wait_for_ready=False
                )
                with self._lock:
                    self._call = call
                if self._cancelled.is_set():
                    call.cancel()
                # The server sends a heartbeat every 15 s when nothing happens.
                watchdog = _Watchdog(call, self._idle_timeout)
                for message in call:
                    failures = 0
                    if message.WhichOneof("kind") == "event":
                        self.last_event_id = message.event.id
                        watchdog.reset(None)
                        yield message.event
                    elif self.last_event_id == 0:
                        # A heartbeat of a watch that started at "now": resume from the newest id from here on.
                        self.last_event_id = message.newest_event_id
                    watchdog.reset(self._idle_timeout)
                error = AmcUnavailableError(
                    f"WatchEvents: amc at {self.target} ended the stream without a status",
                    target=self.target,
                    code=grpc.StatusCode.UNAVAILABLE,
                )
            except grpc.RpcError as err:
                if self._cancelled.is_set():
                    return
                if watchdog is not None and watchdog.fired:
                    error = AmcTimeoutError(
                        f"WatchEvents: no message from amc at {self.target} in {self._idle_timeout:g} s",
                        target=self.target,
                        code=grpc.StatusCode.DEADLINE_EXCEEDED,
                    )
                else:
                    error = _error_from_rpc(err, self.target, "WatchEvents")
                if not isinstance(error, (AmcUnavailableError, AmcTimeoutError)):
                    raise error from None
            finally:
                if watchdog is not None:
                    watchdog.stop()
                with self._lock:
                    call_to_end, self._call = self._call, None
                if call_to_end is not None:
                    call_to_end.cancel()
                channel.close()

            failures += 1
            if self._max_retries is not None and failures > self._max_retries:
                raise error
            delay = min(self._backoff_max, self._backoff_initial * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
            self.reconnects += 1
            if self._on_reconnect is not None:
                self._on_reconnect(Reconnect(failures, delay, error, self.last_event_id, ""))
            if self._cancelled.wait(delay):
                return


def watch_events(
    target: str = DEFAULT_TARGET,
    since_event_id: int = 0,
    *,
    filter: FilterLike = None,
    kinds: Sequence[Union[int, str]] = (),
    max_retries: Optional[int] = 5,
    backoff_initial: float = 0.25,
    backoff_max: float = 5.0,
    idle_timeout: float = 60.0,
    metadata: Metadata = None,
    on_reconnect: Optional[Callable[[Reconnect], None]] = None,
) -> EventWatch:
    """Watches amc's events (attention_raised, attention_cleared, turn_done, ...): yields one Event each.

    ``since_event_id`` replays the kept events after it first (0: only new events); the server keeps at least the
    last 10 000 events and every event of the last 24 hours, across restarts. ``kinds`` narrows to some kinds
    (EventKind numbers or names such as ``"attention_raised"``); ``filter`` is a SessionFilter or a dict of its fields.
    The watch reconnects as :func:`watch_state` does, resuming after the last event it yielded (``Reconnect``'s
    ``since_revision`` is then that event id), so nothing is missed or repeated. The call starts at the first
    ``next()``: with ``since_event_id=0`` events published before that are not seen (pass an id to be sure).
    """
    numbers = []
    for kind in kinds:
        numbers.append(kind if isinstance(kind, int) else _ev.EventKind.Value("EVENT_KIND_" + kind.upper()))
    return EventWatch(
        target,
        since_event_id,
        _filter(filter),
        numbers,
        max_retries,
        backoff_initial,
        backoff_max,
        idle_timeout,
        metadata,
        on_reconnect,
    )
