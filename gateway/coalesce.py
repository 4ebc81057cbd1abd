"""Identical queries asked at the same time are executed once.

Fifty dashboards open on one organisation send the same query, with the same key, again and
again. Executing each costs the gateway a GraphQL execution and two requests to reporting;
sharing one execution among the callers that asked the same thing costs each of them only
its HTTP handling.

A caller never receives an answer older than its question: it joins only an execution that
has not started yet. When one is running, the callers arriving meanwhile wait for it to
end and share the next one, which reads the services after all of them asked. So a client
that saw a footprint notice and then asks gets figures at least as new as that notice, as
it would without sharing.

Only queries are shared (never a mutation or a subscription), and only between callers
asking with the same key: the same organisation, the same roles, the same key id (`me`
answers with it), the same document, operation, variables and extensions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.http import GraphQLRequestData

from gateway.documents import parsed
from gateway.keys import Principal
from kernel import wire

T = TypeVar("T")


@dataclass
class _Slot(Generic[T]):
    running: asyncio.Task[T] | None = None  # started: late callers may not join it
    next: asyncio.Task[T] | None = None  # not started yet: anyone asking now joins it


class Coalescer(Generic[T]):
    """Runs of the same key shared by the callers that asked before the run started."""

    def __init__(self) -> None:
        self._slots: dict[Hashable, _Slot[T]] = {}
        self.runs = 0  # executions started, against `asked` callers: the sharing's measure
        self.asked = 0

    async def shared(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`'s outcome, from a run that starts after this call (maybe another
        caller's run of the same key)."""
        self.asked += 1
        slot = self._slots.setdefault(key, _Slot())
        if slot.next is None:
            slot.next = asyncio.ensure_future(self._run(key, slot, slot.running, work))
        # shielded: a caller that goes away does not cancel the others' answer
        return await asyncio.shield(slot.next)

    async def _run(
        self,
        key: Hashable,
        slot: _Slot[T],
        before: asyncio.Task[T] | None,
        work: Callable[[], Awaitable[T]],
    ) -> T:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its callers', not ours
        me = asyncio.current_task()
        assert me is not None
        slot.running, slot.next = me, None
        self.runs += 1
        try:
            return await work()
        finally:
            slot.running = None if slot.running is me else slot.running
            if slot.running is None and slot.next is None:
                del self._slots[key]


@lru_cache(maxsize=256)
def is_query(document: str, operation_name: str | None) -> bool:
    """Whether the operation a request names in `document` is a query (False when the
    document does not parse or names no single operation: strawberry reports those)."""
    try:
        operation = get_operation_ast(parsed(document), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is OperationType.QUERY


def sharing_key(principal: Principal, method: str, request: GraphQLRequestData) -> Hashable | None:
    """What callers must have in common to share an execution; None: not to be shared."""
    query = request.query
    if query is None or request.extensions or not is_query(query, request.operation_name):
        return None
    variables = wire.encode(request.variables, sort_keys=True) if request.variables else b""
    return (principal, method, query, request.operation_name, variables)
