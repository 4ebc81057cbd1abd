"""A namespace's JetStream streams: listing every stream, and removing one namespace's.

Tests and benchmarks give each run its own namespace and remove it afterwards; an operator
can do the same for a tenant-free scratch namespace.
"""

from __future__ import annotations

import re

from nats.js.manager import JetStreamManager


async def stream_names(manager: JetStreamManager) -> list[str]:
    """Every stream's name. The server answers a page (256 streams) at a time."""
    names: list[str] = []
    while page := await manager.streams_info(offset=len(names)):
        names += [info.config.name or "" for info in page]
    return names


def in_namespace(stream: str, namespace: str, *, derived: bool = False) -> bool:
    """Whether `stream` holds `namespace`'s events, KV entries or objects (or, `derived`,
    those of a namespace named `namespace` followed by letters and digits)."""
    # Streams are <NS>_<SERVICE>; KV and object buckets live in streams KV_<b> and OBJ_<b>.
    more = "[A-Z0-9]*" if derived else ""
    return re.match(f"(KV_|OBJ_)?{re.escape(namespace.upper())}{more}_", stream.upper()) is not None


async def delete_namespace_streams(
    manager: JetStreamManager, namespace: str, *, derived: bool = False
) -> list[str]:
    """Delete `namespace`'s streams (buckets included), and with `derived` those of the
    namespaces named after it (a test session's, whose tests make their own); their names."""
    doomed = [
        name
        for name in await stream_names(manager)
        if in_namespace(name, namespace, derived=derived)
    ]
    for name in doomed:
        await manager.delete_stream(name)
    return doomed
