"""The relay: publishes a service's log to JetStream, in position order, exactly once.

The event table is the outbox. One relay per service holds a PostgreSQL advisory lock; a
second one waits for it. Each event goes out with `Nats-Msg-Id` = its event id and the
checkpoint moves only after JetStream acknowledged, so a crash between publish and checkpoint
republishes a few events, which JetStream's duplicate window drops.

A batch is sent in one go, and only its last event asks for an acknowledgement. Order and
completeness still hold because each event but the first names the one before it as the
stream's expected last message id: should one be lost or refused (a connection dropped
mid-batch, then the rest resent from nats-py's reconnect buffer), the server refuses every
later one too, the last included, whose refusal (or silence) fails the batch. So the last
one's acknowledgement vouches for the whole batch: each was stored right after the one
before. (An acknowledgement per event, each with its future, reply and parsing, was half of
the relay's CPU, besides a reply per event for the server to send.) A batch that failed is published
again one event at a time, each acknowledged (someone else's message in the stream breaks
the chain too, as does a replayed duplicate), which cannot reorder either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import Header, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.aio import wait_any, wait_for_stop
from kernel.metrics import RELAY_LAG, RELAY_PUBLISHED
from kernel.naming import events_stream, events_subject
from kernel.outbox import Outgoing, outgoing_statement, read_outgoing
from kernel.store import EventStore

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_S = 24 * 3600.0  # longer than any relay outage we tolerate
# For the acknowledgement of a batch's last event, once the whole batch is sent.
ACK_WAIT_S = 5.0
CHECKPOINT = "relay"


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
        nc: NatsClient,
        *,
        namespace: str,
        service: str,
        batch: int = 500,
        idle_wait_s: float = 1.0,
    ) -> None:
        self.store, self.nc, self.js = store, nc, nc.jetstream()
        self.namespace, self.service = namespace, service
        self.batch, self.idle_wait_s = batch, idle_wait_s
        self.active = asyncio.Event()
        self.published_position = 0
        self._advanced = asyncio.Condition()
        self._wakeup = asyncio.Event()
        self._lock_key = f"{store.schema}.relay"
        self._outgoing = outgoing_statement(store.schema)
        self._checkpoint_sql = (
            f'INSERT INTO "{store.schema}".checkpoints (name, position, updated_at) '
            "VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE "
            "SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at"
        )

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
                # The lock's own asyncpg connection: it listens, reads and checkpoints (_pump)
                session: Any = (await lock_conn.get_raw_connection()).driver_connection
                await self._listen(session)
                await ensure_events_stream(self.js, self.namespace, self.service)
                self.active.set()
                await self._pump(stop, session)
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

    async def _listen(self, session: Any) -> None:
        channel = self.store.tables.notify_channel
        await session.add_listener(channel, lambda *_: self._wakeup.set())

    async def _pump(self, stop: asyncio.Event, session: Any) -> None:
        position = await self.checkpoint()
        # The lock lives as long as its session: a dead connection means another relay may
        # already be active, so this one must stop before it publishes (run() then waits for
        # the lock). So every batch is read through the lock's own connection, and its
        # checkpoint saved there: in autocommit, a round trip each (with a pooled connection
        # and SQLAlchemy's transactions, a liveness probe, the read and the save took seven).
        while not stop.is_set():
            self._wakeup.clear()
            events = await read_outgoing(session, self._outgoing, after=position, limit=self.batch)
            await self._publish_batch(events)
            if events:
                position = events[-1].position
                await session.execute(self._checkpoint_sql, CHECKPOINT, position)
                await self._advance(position)
            if len(events) == self.batch:  # more may wait: measure how many
                RELAY_LAG.labels(self.service).set(await self.store.head_position() - position)
            else:  # it read all there was (a query less per batch at moderate rates)
                RELAY_LAG.labels(self.service).set(0)
                await wait_any(self.idle_wait_s, stop, self._wakeup)

    async def _publish_batch(self, events: list[Outgoing]) -> None:
        if not events:
            return
        try:
            await self._chained(events)
        except Exception as error:  # nothing after the failure was stored: see the docstring
            log.warning("relay %s: chained batch failed (%r), one by one", self.service, error)
            for event in events:
                subject, data, headers = self._message(event, None)
                await self.js.publish(subject, data, timeout=ACK_WAIT_S, headers=headers)
        RELAY_PUBLISHED.labels(self.service).inc(len(events))

    async def _chained(self, events: list[Outgoing]) -> None:
        previous: str | None = None
        for event in events[:-1]:
            subject, data, headers = self._message(event, previous)
            await self.nc.publish(subject, data, headers=headers)
            previous = event.event_id
        subject, data, headers = self._message(events[-1], previous)
        await self.js.publish(subject, data, timeout=ACK_WAIT_S, headers=headers)

    def _message(self, event: Outgoing, previous: str | None) -> tuple[str, bytes, dict[str, str]]:
        # Only what JetStream acts on: every header is stored with the message and parsed by
        # every consumer (nats-py, in Python), and the body carries the rest.
        headers = {"Nats-Msg-Id": event.event_id}
        if previous is not None:
            headers[Header.EXPECTED_LAST_MSG_ID.value] = previous
        return events_subject(self.namespace, self.service, event.type), event.body, headers

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
