"""Shared executions: only callers that asked before a run started share it."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from strawberry.http import GraphQLRequestData

from gateway.coalesce import Coalescer, is_query, sharing_key
from gateway.keys import Principal


class Numbered:
    """Work whose runs are numbered, each held until released."""

    def __init__(self) -> None:
        self.count = itertools.count(1)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        number = next(self.count)
        self.started.set()
        await self.release.wait()
        return number


async def test_callers_asking_together_share_one_run() -> None:
    coalescer: Coalescer[int] = Coalescer()
    work = Numbered()
    work.release.set()
    answers = await asyncio.gather(*(coalescer.shared("k", work) for _ in range(5)))
    assert answers == [1] * 5
    assert (coalescer.runs, coalescer.asked) == (1, 5)


async def test_a_caller_arriving_during_a_run_gets_the_next_run() -> None:
    coalescer: Coalescer[int] = Coalescer()
    work = Numbered()
    first = asyncio.ensure_future(coalescer.shared("k", work))
    await work.started.wait()  # run 1 has started: it may have read stale data for later askers
    late = [asyncio.ensure_future(coalescer.shared("k", work)) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(t.done() for t in late)
    work.release.set()
    assert await first == 1
    assert [await t for t in late] == [2, 2, 2]  # all three share run 2, started after them
    assert coalescer.runs == 2


async def test_keys_do_not_share() -> None:
    coalescer: Coalescer[int] = Coalescer()
    work = Numbered()
    work.release.set()
    answers = await asyncio.gather(coalescer.shared("a", work), coalescer.shared("b", work))
    assert sorted(answers) == [1, 2]


async def test_a_failure_reaches_every_sharer_and_leaves_nothing_behind() -> None:
    coalescer: Coalescer[int] = Coalescer()

    async def failing() -> int:
        raise ValueError("reporting refused")

    outcomes = await asyncio.gather(
        *(coalescer.shared("k", failing) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, ValueError) for o in outcomes)
    assert not coalescer._slots
    work = Numbered()
    work.release.set()
    assert await coalescer.shared("k", work) == 1  # the key runs again afterwards


async def test_a_caller_going_away_does_not_cancel_the_others() -> None:
    coalescer: Coalescer[int] = Coalescer()
    work = Numbered()
    leaving = asyncio.ensure_future(coalescer.shared("k", work))
    staying = asyncio.ensure_future(coalescer.shared("k", work))
    await work.started.wait()
    leaving.cancel()
    work.release.set()
    assert await staying == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert not coalescer._slots


ALICE = Principal("acme", frozenset({"viewer"}), "k1")
DASHBOARD = "query($f: FootprintFilter!) { footprint(filter: $f) { position } }"


def _request(
    query: str | None = DASHBOARD, variables: dict[str, object] | None = None, **more: object
) -> GraphQLRequestData:
    options = {"operation_name": None, "extensions": None, **more}
    return GraphQLRequestData(query=query, variables=variables, **options)  # type: ignore[arg-type]


def test_only_queries_are_shared() -> None:
    assert sharing_key(ALICE, "POST", _request()) is not None
    assert sharing_key(ALICE, "POST", _request("mutation { x }")) is None
    assert sharing_key(ALICE, "POST", _request("subscription { footprintChanged { x } }")) is None
    assert sharing_key(ALICE, "POST", _request("{ footprint(")) is None  # strawberry reports it
    assert sharing_key(ALICE, "POST", _request(None)) is None
    assert sharing_key(ALICE, "POST", _request(extensions={"persistedQuery": {}})) is None


def test_the_named_operation_decides() -> None:
    both = 'query Q { me { keyId } } mutation M { revokeApiKey(keyId: "x") }'
    assert is_query(both, "Q") and not is_query(both, "M")
    assert not is_query(both, None)  # two operations and none named: refused later
    assert sharing_key(ALICE, "POST", _request(both, operation_name="M")) is None


def test_callers_share_only_with_the_same_key_and_the_same_question() -> None:
    key = sharing_key(ALICE, "POST", _request(variables={"f": {"a": 1, "b": 2}}))
    assert key == sharing_key(ALICE, "POST", _request(variables={"f": {"b": 2, "a": 1}}))
    others = [
        Principal("globex", ALICE.roles, ALICE.key_id),
        Principal(ALICE.tenant_id, frozenset({"admin"}), ALICE.key_id),
        Principal(ALICE.tenant_id, ALICE.roles, "k2"),
    ]
    for other in others:
        assert sharing_key(other, "POST", _request(variables={"f": {"a": 1, "b": 2}})) != key
    assert sharing_key(ALICE, "POST", _request(variables={"f": {"a": 1, "b": 3}})) != key


def test_integers_beyond_64_bits_still_make_a_key() -> None:
    huge = {"f": {"n": 2**70}}
    assert sharing_key(ALICE, "POST", _request(variables=huge)) is not None
