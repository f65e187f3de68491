"""The asyncio API of amc_client (grpc.aio): the same calls and the same watch semantics as the blocking ones.

    import asyncio, amc_client.aio as amc

    async def main():
        state = await amc.get_state("127.0.0.1:7400")
        async with amc.watch_state("127.0.0.1:7400", since=state) as watch:
            async for state in watch:
                ...

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, Optional

import grpc
from grpc import aio as _aio

from .client import (
    DEFAULT_TARGET,
    AmcError,
    AmcTimeoutError,
    AmcUnavailableError,
    FilterLike,
    Metadata,
    Reconnect,
    _apply_delta,
    _error_from_rpc,
    _filter,
    _with_token,
)
from .v1 import state_service_pb2 as _pb
from .v1 import state_service_pb2_grpc as _pb_grpc

__all__ = ["get_state", "explain_session", "watch_state", "StateWatch"]


async def get_state(
    target: str = DEFAULT_TARGET,
    *,
    filter: FilterLike = None,
    timeout: float = 5.0,
    metadata: Metadata = None,
    token: Optional[str] = None,
) -> _pb.State:
    """Returns the latest published State (see :func:`amc_client.get_state`)."""
    async with _aio.insecure_channel(target) as channel:
        try:
            response = await _pb_grpc.StateServiceStub(channel).GetState(
                _pb.GetStateRequest(filter=_filter(filter)),
                timeout=timeout,
                metadata=_with_token(metadata, token),
                wait_for_ready=False,
            )
        except grpc.RpcError as err:
            raise _error_from_rpc(err, target, "GetState") from None
    return response.state


async def explain_session(
    session_id: str,
    target: str = DEFAULT_TARGET,
    *,
    timeout: float = 5.0,
    metadata: Metadata = None,
    token: Optional[str] = None,
) -> _pb.ExplainSessionResponse:
    """Why a session is what it is (see :func:`amc_client.explain_session`)."""
    async with _aio.insecure_channel(target) as channel:
        try:
            return await _pb_grpc.StateServiceStub(channel).ExplainSession(
                _pb.ExplainSessionRequest(session_id=session_id),
                timeout=timeout,
                metadata=_with_token(metadata, token),
                wait_for_ready=False,
            )
        except grpc.RpcError as err:
            raise _error_from_rpc(err, target, "ExplainSession") from None


class StateWatch(AsyncIterator[_pb.State]):
    """An async iterator of whole States, made by :func:`watch_state`; ``async with`` (or ``aclose()``) ends it."""

    def __init__(self, target: str, since: Optional[_pb.State], filter: Optional[_pb.SessionFilter],
                 max_retries: Optional[int], backoff_initial: float, backoff_max: float, connect_timeout: float,
                 idle_timeout: float, metadata: Metadata, on_reconnect: Optional[Callable[[Reconnect], None]]):
        self.target = target
        self.last_revision = since.revision if since is not None else 0
        self.instance_id = since.instance_id if since is not None else ""
        self.reconnects = 0
        #: How many changes arrived as deltas (applied here) rather than as whole snapshots.
        self.deltas_applied = 0
        self._state: Optional[_pb.State] = None
        if since is not None:
            self._state = _pb.State()
            self._state.CopyFrom(since)
        self._filter = filter
        self._max_retries = max_retries
        self._backoff = (backoff_initial, backoff_max)
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._metadata = metadata
        self._on_reconnect = on_reconnect
        self._gen = self._run()

    def __aiter__(self) -> "StateWatch":
        return self

    async def __anext__(self) -> _pb.State:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> "StateWatch":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _run(self) -> AsyncIterator[_pb.State]:
        failures = 0
        while True:
            error: AmcError
            channel = _aio.insecure_channel(self.target)
            call = None
            try:
                request = _pb.WatchStateRequest(since_revision=self.last_revision, instance_id=self.instance_id,
                                                filter=self._filter, deltas=True)
                call = _pb_grpc.StateServiceStub(channel).WatchState(
                    request, metadata=self._metadata, wait_for_ready=False)
                # The first message within connect_timeout, the next ones within idle_timeout (heartbeats: 15 s).
                wait = self._connect_timeout
                while True:
                    try:
                        message = await asyncio.wait_for(call.read(), wait)
                    except asyncio.TimeoutError:
                        error = AmcTimeoutError(
                            f"WatchState: no message from amc at {self.target} within {wait:g} s",
                            target=self.target, code=grpc.StatusCode.DEADLINE_EXCEEDED)
                        break
                    if message is _aio.EOF:
                        error = AmcUnavailableError(
                            f"WatchState: amc at {self.target} ended the stream without a status",
                            target=self.target, code=grpc.StatusCode.UNAVAILABLE)
                        break
                    failures = 0
                    wait = self._idle_timeout
                    kind = message.WhichOneof("kind")
                    state: Optional[_pb.State] = None
                    if kind == "snapshot":
                        state = message.snapshot
                    elif kind == "delta":
                        if self._state is None or message.delta.base_revision != self.last_revision:
                            # Not the state this watch holds: start over with a full snapshot.
                            self._state, self.last_revision, self.instance_id = None, 0, ""
                            error = AmcUnavailableError("WatchState: a delta on another base; resyncing",
                                                        target=self.target, code=grpc.StatusCode.UNAVAILABLE)
                            break
                        state = _apply_delta(self._state, message)
                        self.deltas_applied += 1
                    self.last_revision = message.revision
                    self.instance_id = message.instance_id
                    if state is not None:
                        self._state = state
                        yield state
            except grpc.RpcError as err:
                error = _error_from_rpc(err, self.target, "WatchState")
                if not isinstance(error, (AmcUnavailableError, AmcTimeoutError)):
                    raise error from None
            finally:
                if call is not None:
                    call.cancel()
                await channel.close()
            failures += 1
            if self._max_retries is not None and failures > self._max_retries:
                n = self._max_retries
                error.args = (f"{error.args[0]} (gave up after {n} reconnect attempt{'' if n == 1 else 's'})",)
                raise error
            first, most = self._backoff
            delay = min(most, first * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
            self.reconnects += 1
            if self._on_reconnect is not None:
                self._on_reconnect(Reconnect(failures, delay, error, self.last_revision, self.instance_id))
            await asyncio.sleep(delay)


def watch_state(
    target: str = DEFAULT_TARGET,
    *,
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
    """Watches amc's state as :func:`amc_client.watch_state` does: whole States (deltas applied), reconnecting with
    backoff and resuming with the last revision; forever by default (``max_retries`` to give up). ``since`` (a
    State from :func:`get_state`) skips the first snapshot and keeps deltas."""
    return StateWatch(target, since, _filter(filter), max_retries, backoff_initial, backoff_max, connect_timeout,
                      idle_timeout, _with_token(metadata, token), on_reconnect)
