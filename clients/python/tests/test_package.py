"""The client as a package and for long-running programs: its version, list-then-watch keeping deltas, tokens,
pickling, and the asyncio API. scripts/test-clients runs these against the client installed from its wheel."""

from __future__ import annotations

import asyncio
import importlib.metadata
import pickle
import re
import threading
from pathlib import Path

import grpc
import pytest

import amc_client
import amc_client.aio
from amc_client.v1 import state_service_pb2

from conftest import unique_id
from test_client import ids, next_within, wait_for

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "typescript" / "package.json"


def test_the_version_is_derived_from_the_proto_package() -> None:
    assert state_service_pb2.DESCRIPTOR.package == amc_client.PROTO_PACKAGE == "amc.v1"
    major = int(re.fullmatch(r"amc\.v(\d+)", amc_client.PROTO_PACKAGE).group(1))
    assert re.fullmatch(r"\d+\.\d+\.\d+", amc_client.__version__)
    assert int(amc_client.__version__.split(".")[0]) == major
    # The installed distribution (the wheel) says the same.
    assert importlib.metadata.version("amc-client") == amc_client.__version__
    # The TypeScript package carries the same version.
    if PACKAGE_JSON.exists():
        assert f'"version": "{amc_client.__version__}"' in PACKAGE_JSON.read_text()


def test_list_then_watch_keeps_deltas(server) -> None:
    sid = unique_id("py-since")
    state = amc_client.get_state(server.addr)
    with amc_client.watch_state(server.addr, since=state) as watch:
        # Written once the watch is connected (it connects on the first next(), and starts with a heartbeat).
        threading.Timer(0.5, lambda: server.write_session(sid, status="active")).start()
        # The first item is the first change: the watch applied it to `state` as a delta.
        first = next_within(watch, 5)
        if sid not in ids(first):
            first = wait_for(watch, lambda st: sid in ids(st))
        assert watch.deltas_applied >= 1, "a watch from a listed State should keep deltas"


def test_messages_and_errors_pickle(server) -> None:
    state = amc_client.get_state(server.addr)
    again = pickle.loads(pickle.dumps(state))
    assert again == state and again.sessions[0].session_id == state.sessions[0].session_id
    with pytest.raises(amc_client.AmcError) as caught:
        amc_client.explain_session("never-" + unique_id("x"), server.addr)
    error = pickle.loads(pickle.dumps(caught.value))
    assert type(error) is type(caught.value)
    assert (error.args, error.target, error.code, error.details) == (
        caught.value.args, caught.value.target, caught.value.code, caught.value.details)


def test_a_token_goes_with_reads_and_watches(own_server) -> None:
    own_server.write_session("tok", status="done")
    own_server.start()
    token = (own_server.data_dir / "token").read_text().strip()
    assert amc_client.get_state(own_server.addr, token=token).revision > 0
    with amc_client.watch_state(own_server.addr, token=token) as watch:
        assert "tok" in ids(next_within(watch, 5))
    result = amc_client.dismiss("tok", own_server.addr, token=token)
    assert result.outcome == "dismissed"


def test_asyncio_api(server) -> None:
    sid = unique_id("py-aio")

    async def main() -> None:
        state = await amc_client.aio.get_state(server.addr)
        assert state.revision > 0
        why = await amc_client.aio.explain_session(state.sessions[0].session_id, server.addr)
        assert why.present
        seen = []
        async with amc_client.aio.watch_state(server.addr, since=state) as watch:
            server.write_session(sid, status="active")
            async for st in watch:
                seen.append(st)
                if sid in ids(st):
                    break
        assert sid in ids(seen[-1])
        with pytest.raises(amc_client.AmcUnavailableError):
            await amc_client.aio.get_state("127.0.0.1:1", timeout=2)

    asyncio.run(asyncio.wait_for(main(), 20))


def test_asyncio_watch_reconnects_across_a_restart(own_server) -> None:
    own_server.write_session("aio-a", status="active")
    own_server.start()
    port = own_server.port

    async def main() -> None:
        reconnects = []
        async with amc_client.aio.watch_state(own_server.addr, backoff_initial=0.1, backoff_max=0.3,
                                              on_reconnect=reconnects.append) as watch:
            first = await watch.__anext__()
            assert "aio-a" in ids(first)
            own_server.stop()
            own_server.write_session("aio-b", status="done")
            await asyncio.get_running_loop().run_in_executor(None, own_server.start, f"127.0.0.1:{port}")
            async for st in watch:
                if "aio-b" in ids(st):
                    assert st.instance_id != first.instance_id
                    break
        assert reconnects and reconnects[0].error.code in (grpc.StatusCode.UNAVAILABLE,
                                                            grpc.StatusCode.DEADLINE_EXCEEDED)

    asyncio.run(asyncio.wait_for(main(), 30))
