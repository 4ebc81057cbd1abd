"""The relay: publishes a service's log to JetStream, in position order, exactly once.

The event table is the outbox. One relay per service holds a PostgreSQL advisory lock; a
second one waits for it. Each event goes out with `Nats-Msg-Id` = its event id and the
checkpoint moves only after JetStream acknowledged, so a crash between publish and checkpoint
republishes a few events, which JetStream's duplicate window drops.

A batch is pipelined: every event is sent before any acknowledgement is awaited (one write
for many, not a round trip each). Order still holds because each event but the first names
the one before it as the stream's expected last message id: should one be lost or refused
(a connection dropped mid-batch, then the rest resent from nats-py's reconnect buffer), the
server refuses every later one too, instead of storing it ahead of the lost one. A batch
that failed is published again one event at a time (someone else's message in the stream
breaks the chain too), which cannot reorder either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel import wire
from kernel.aio import wait_any, wait_for_stop
from kernel.envelope import RecordedEvent
from kernel.metrics import RELAY_LAG, RELAY_PUBLISHED
from kernel.naming import events_stream, events_subject
from kernel.store import EventStore

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_S = 24 * 3600.0  # longer than any relay outage we tolerate
# For the acknowledgements of a whole pipelined batch. nats-py 2.16 never resolves an async
# publish the server refused (its reply handler raises instead), so a refusal ends here too.
ACK_WAIT_S = 5.0
CHECKPOINT = "relay"
# An event and its payload as the log stores it (EventStore.read_all_as_stored)
Stored = tuple[RecordedEvent, str]


async def ensure_events_stream(js: JetStreamContext, namespace: str, service: str) -> None:
    """Create (or update) the service's event stream: file storage, long duplicate window."""
    config = StreamConfig(
        name=events_stream(namespace, service),
        subjects=[events_subject(namespace, service)],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


class Relay:
    """Publishes `store`'s events to `<namespace>.<service>.events.<Type>`."""

    def __init__(
        self,
        store: EventStore,
        js: JetStreamContext,
        *,
        namespace: str,
        service: str,
        batch: int = 500,
        idle_wait_s: float = 1.0,
    ) -> None:
        self.store, self.js = store, js
        self.namespace, self.service = namespace, service
        self.batch, self.idle_wait_s = batch, idle_wait_s
        self.active = asyncio.Event()
        self.published_position = 0
        self._advanced = asyncio.Condition()
        self._wakeup = asyncio.Event()
        self._lock_key = f"{store.schema}.relay"

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; survive database and NATS outages by retrying."""
        while not stop.is_set():
            try:
                await self._run_locked(stop)
            except Exception:
                log.exception("relay %s failed; retrying", self.service)
                self.active.clear()
                await wait_for_stop(stop, 1.0)

    async def _run_locked(self, stop: asyncio.Event) -> None:
        async with self.store.engine.connect() as lock_conn:
            if not await self._acquire(lock_conn, stop):
                return
            try:
                await self._listen(lock_conn)
                await ensure_events_stream(self.js, self.namespace, self.service)
                self.active.set()
                await self._pump(stop, lock_conn)
            finally:
                self.active.clear()
                with contextlib.suppress(Exception):
                    await lock_conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))

    async def _acquire(self, conn: AsyncConnection, stop: asyncio.Event) -> bool:
        # A standby relay polls the lock, so it can also notice `stop` while it waits.
        query = sa.text("SELECT pg_try_advisory_lock(hashtext(:k))")
        while not stop.is_set():
            if (await conn.execute(query, {"k": self._lock_key})).scalar_one():
                await conn.commit()
                return True
            await conn.commit()
            await wait_for_stop(stop, self.idle_wait_s)
        return False

    async def _listen(self, conn: AsyncConnection) -> None:
        raw = await conn.get_raw_connection()
        channel = self.store.tables.notify_channel
        await raw.driver_connection.add_listener(channel, lambda *_: self._wakeup.set())  # type: ignore[union-attr]

    async def _pump(self, stop: asyncio.Event, lock_conn: AsyncConnection) -> None:
        position = await self.checkpoint()
        while not stop.is_set():
            # The lock lives as long as its session: a dead connection means another relay
            # may already be active, so this one must stop (run() then waits for the lock).
            await lock_conn.execute(sa.text("SELECT 1"))
            await lock_conn.commit()
            self._wakeup.clear()
            events = await self.store.read_all_as_stored(after=position, limit=self.batch)
            await self._publish_batch(events)
            if events:
                position = events[-1][0].global_position
                await self._save_checkpoint(position)
                await self._advance(position)
            if len(events) == self.batch:  # more may wait: measure how many
                RELAY_LAG.labels(self.service).set(await self.store.head_position() - position)
            else:  # it read all there was (a query less per batch at moderate rates)
                RELAY_LAG.labels(self.service).set(0)
                await wait_any(self.idle_wait_s, stop, self._wakeup)

    async def _publish_batch(self, events: list[Stored]) -> None:
        try:
            await self._pipelined(events)
        except Exception as error:  # nothing after the failure was stored: see the docstring
            log.warning("relay %s: pipelined batch failed (%r), one by one", self.service, error)
            for event, payload in events:
                subject, data, headers = self._message(event, payload, None)
                await self.js.publish(subject, data, headers=headers)
        RELAY_PUBLISHED.labels(self.service).inc(len(events))

    async def _pipelined(self, events: list[Stored]) -> None:
        acks: list[asyncio.Future[PubAck]] = []
        previous: RecordedEvent | None = None
        try:
            for event, payload in events:
                subject, data, headers = self._message(event, payload, previous)
                acks.append(await self.js.publish_async(subject, data, headers=headers))
                previous = event
            await asyncio.wait_for(asyncio.gather(*acks), ACK_WAIT_S)
        finally:
            for ack in acks:  # frees nats-py's slot of every ack still awaited
                ack.cancel()

    def _message(
        self, event: RecordedEvent, payload: str, previous: RecordedEvent | None
    ) -> tuple[str, bytes, dict[str, str]]:
        headers = {
            "Nats-Msg-Id": str(event.event_id),
            "Empreinte-Tenant": event.tenant_id,
            "Empreinte-Position": str(event.global_position),
        }
        if previous is not None:
            headers[Header.EXPECTED_LAST_MSG_ID.value] = str(previous.event_id)
        subject = events_subject(self.namespace, self.service, event.type)
        # The payload goes out as the log stores it (its canonical JSON): parsing it only to
        # write it again was a tenth of a busy service's CPU. Consumers read the same values.
        return subject, wire.encode(event.to_json() | {"payload": wire.as_is(payload)}), headers

    async def _advance(self, position: int) -> None:
        async with self._advanced:
            self.published_position = position
            self._advanced.notify_all()

    async def wait_published(self, position: int) -> None:
        """Return once this relay has checkpointed `position` (or beyond)."""
        async with self._advanced:
            await self._advanced.wait_for(lambda: self.published_position >= position)

    async def checkpoint(self) -> int:
        """The last position JetStream acknowledged (0 before the first)."""
        t = self.store.tables.checkpoints
        async with self.store.engine.connect() as conn:
            found = await conn.execute(sa.select(t.c.position).where(t.c.name == CHECKPOINT))
            return int(found.scalar_one_or_none() or 0)

    async def _save_checkpoint(self, position: int) -> None:
        t = self.store.tables.checkpoints
        now = datetime.now(UTC)
        stmt = insert(t).values(name=CHECKPOINT, position=position, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.name], set_={"position": position, "updated_at": now}
        )
        async with self.store.engine.begin() as conn:
            await conn.execute(stmt)
