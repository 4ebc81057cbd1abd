"""Upcasters: old schema versions of an event's payload turned into the current one on read."""

from __future__ import annotations

from collections.abc import Callable

from kernel.envelope import JsonObject

Upcaster = Callable[[JsonObject], JsonObject]


class Upcasters:
    """A registry of one-step upcasters: (type, version) -> payload of version + 1."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: `fn` turns a `from_version` payload into a `from_version + 1` one."""

        def add(fn: Upcaster) -> Upcaster:
            self._steps[(event_type, from_version)] = fn
            return fn

        return add

    def upcast(self, event_type: str, version: int, payload: JsonObject) -> tuple[int, JsonObject]:
        """Apply every step from `version` on; return the final version and payload."""
        while (step := self._steps.get((event_type, version))) is not None:
            payload = step(payload)
            version += 1
        return version, payload
