"""A namespace's JetStream streams: listing every stream, and removing one namespace's.

Tests and benchmarks give each run its own namespace and remove it afterwards; an operator
can do the same for a tenant-free scratch namespace.
"""

from __future__ import annotations

from nats.js.manager import JetStreamManager

# Streams are <NS>_<SERVICE>; KV and object buckets live in streams KV_<b> and OBJ_<b>.
_HEADS = ("", "KV_", "OBJ_")


async def stream_names(manager: JetStreamManager) -> list[str]:
    """Every stream's name. The server answers a page (256 streams) at a time."""
    names: list[str] = []
    while page := await manager.streams_info(offset=len(names)):
        names += [info.config.name or "" for info in page]
    return names


def in_namespace(stream: str, namespace: str) -> bool:
    """Whether `stream` holds `namespace`'s events, KV entries or objects."""
    upper = stream.upper()
    return any(upper.startswith(f"{head}{namespace.upper()}_") for head in _HEADS)


async def delete_namespace_streams(manager: JetStreamManager, namespace: str) -> list[str]:
    """Delete `namespace`'s streams (buckets included); their names."""
    doomed = [name for name in await stream_names(manager) if in_namespace(name, namespace)]
    for name in doomed:
        await manager.delete_stream(name)
    return doomed
