"""Pickling of the amc messages.

The generated classes name their module after the proto package (``amc.v1.state_service_pb2``), which is not
importable here (the code lives in ``amc_client.v1``, and a top-level ``amc`` package is never imported), so the
protobuf runtime's own pickling fails. Each class is registered with copyreg instead: a message pickles as its
``amc_client`` module, class name and serialized bytes, and unpickles with ``FromString``.
"""

from __future__ import annotations

import copyreg
import importlib
from typing import Any

from .v1 import action_service_pb2, events_pb2, session_pb2, state_service_pb2

_MODULES = (action_service_pb2, events_pb2, session_pb2, state_service_pb2)


def _load(module: str, qualname: str, data: bytes) -> Any:
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    return cls.FromString(data)


def _register(cls: Any, module: str, qualname: str, descriptor: Any) -> None:
    copyreg.pickle(cls, lambda message: (_load, (module, qualname, message.SerializeToString())))
    for nested in descriptor.nested_types:
        if not nested.GetOptions().map_entry:
            _register(getattr(cls, nested.name), module, f"{qualname}.{nested.name}", nested)


def register() -> None:
    """Registers every amc message class with copyreg (idempotent)."""
    for module in _MODULES:
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
            _register(getattr(module, name), module.__name__, name, descriptor)
