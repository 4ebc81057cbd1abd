"""8 concurrent writers, each on its own connection, while a reader follows global positions."""

from __future__ import annotations

import asyncio

from kernel.envelope import NewEvent
from kernel.store import EventStore

WRITERS, APPENDS = 8, 500


async def _writer(store: EventStore, writer: int) -> None:
    for n in range(APPENDS):
        payload = {"writer": writer, "n": n, "tiny": 1e-10, "zero": -0.0}
        await store.append([NewEvent(f"w{writer}", "Appended", payload, tenant_id="acme")])


async def _follow(store: EventStore, done: asyncio.Event) -> list[int]:
    seen: list[int] = []
    while True:
        finished = done.is_set()  # read before the page, so the last page is complete
        page = await store.read_all(after=seen[-1] if seen else 0, limit=200)
        seen += [e.global_position for e in page]
        if finished and not page:
            return seen
        await asyncio.sleep(0)


async def test_a_catch_up_reader_sees_every_event_once_in_order(store: EventStore) -> None:
    done = asyncio.Event()
    reader = asyncio.create_task(_follow(store, done))
    await asyncio.gather(*(_writer(store, w) for w in range(WRITERS)))
    done.set()
    seen = await reader

    assert seen == list(range(1, WRITERS * APPENDS + 1))
    for w in range(WRITERS):
        stream = await store.read_stream(f"w{w}")
        assert [e.payload["n"] for e in stream] == list(range(APPENDS))
    verification = await store.verify_chain()
    assert verification.ok and verification.checked == WRITERS * APPENDS
