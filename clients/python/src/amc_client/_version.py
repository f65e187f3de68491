"""The client's version, derived from the proto package it speaks.

MAJOR is the proto package's version (``amc.v1`` -> 1): a new proto package (``amc.v2``) is the only breaking change
and the only new major. MINOR counts compatible API additions (new fields, messages, RPCs, wrapper functions), PATCH
fixes. The same version is the TypeScript package's; the changes are listed in docs/clients.md (Changelog).
"""

PROTO_PACKAGE = "amc.v1"
__version__ = "1.1.0"
