"""Engine creation: SQLAlchemy Core on asyncpg, with the JSON codec the hash chain relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kernel import wire

# Every statement after this one in the transaction is planned for its parameters each time.
# asyncpg runs statements prepared, and after five runs PostgreSQL may keep a generic plan,
# costed once, when a table was near empty (a sequential scan, then): on a table that has
# grown since, and with no statistics to invalidate it (autovacuum off), a lookup of a
# batch's keys scanned the whole table each time (compute's emission statuses, reporting's
# watermark advance and current tables). Transaction-scoped: other transactions keep their
# cached plans.
CUSTOM_PLANS = sa.text("SET LOCAL plan_cache_mode = force_custom_plan")


def async_url(url: str) -> str:
    """Any PostgreSQL URL, rewritten to use the asyncpg driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10, name: str | None = None) -> AsyncEngine:
    """An async engine for one process; share it, never create one per request. `name`
    becomes its connections' application_name, so pg_stat_activity (and bench/e2e.py's
    CPU per process) tells the services' backends apart."""
    server_settings = {"application_name": name} if name else {}
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per checkout; a dead connection fails the
        # statement instead, which callers already treat as retryable.
        pool_recycle=3600,
        json_serializer=wire.text,
        json_deserializer=wire.decode,
        connect_args={"server_settings": server_settings},
    )


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg connection, for a statement that needs none of
    SQLAlchemy's per-row or per-statement work. A connection that broke is discarded."""
    pooled = await engine.raw_connection()
    try:
        yield pooled.driver_connection
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
        pooled.invalidate()  # a broken connection never goes back to the pool
        raise
    finally:
        pooled.close()
