"""Reporting's projection rebuild (`empreinte reporting rebuild`): events replayed per second.

A synthetic compute log (bench/compute_history.py: calculated, restated, withdrawn and
unresolved emissions, request logs split into parts) is appended to a compute event store
and relayed to its JetStream stream, in a scratch database and namespace. Then reporting's
projections are rebuilt from that stream twice in the same run: by the bulk path (the
default) and by the per-event path of the live consumer (`--no-compare` skips it). Both
results are fingerprinted (every projection row) and must be identical. Prints the rates,
their ratio and the ratio to the goal (issue 7: rebuild >= 50,000 events/s), writes
bench/results/rebuild.json.  Run: `python -m bench.rebuild [--events N] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from functools import partial
from pathlib import Path
from typing import Any

import nats
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import rate, scratch_database, timed, write_results
from bench.compute_history import history
from kernel.db import create_engine
from kernel.migrations import upgrade
from kernel.naming import events_stream
from kernel.relay import Relay
from kernel.settings import Settings
from kernel.store import EventStore
from services.reporting.rebuild import rebuild
from services.reporting.tables import reporting_tables

GOAL = 50_000.0
EVENTS, QUICK_EVENTS = 50_000, 400
MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "reporting" / "migrations"


async def publish(engine: AsyncEngine, nc: NatsClient, namespace: str, events: int) -> None:
    """Append the synthetic log to compute's store and relay all of it to JetStream."""
    await upgrade(engine, "compute")
    store, drafts = EventStore(engine, "compute"), history(events)
    for start in range(0, len(drafts), 1000):
        await store.append(drafts[start : start + 1000])
    stop = asyncio.Event()
    relay = Relay(store, nc, namespace=namespace, service="compute", batch=2000)
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.wait_for(relay.wait_published(len(drafts)), 600)
    finally:
        stop.set()
        await task


async def fingerprint(engine: AsyncEngine, schema: str) -> dict[str, str]:
    """Per projection table: its row count and the md5 of its rows in key order."""
    found = {}
    async with engine.connect() as conn:
        for table in reporting_tables(schema).projections:
            key = ", ".join(column.name for column in table.primary_key)
            sql = (
                f"SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' "
                f'ORDER BY {key}), \'\')) FROM "{schema}"."{table.name}" AS t'
            )
            found[table.name] = str((await conn.execute(sa.text(sql))).scalar_one())
    return found


async def rebuild_rate(
    engine: AsyncEngine, nc: NatsClient, namespace: str, *, bulk: bool
) -> tuple[float, dict[str, str], float]:
    """Events/s, the fingerprint of the result, and the share of the time this process's
    CPU was busy (decoding, building rows; the rest is waiting for PostgreSQL or NATS)."""
    done: list[int] = []

    async def run() -> None:
        rebuilt = await rebuild(engine, nc, namespace, "reporting", bulk=bulk)
        done.append(rebuilt.compute_events)

    cpu = time.process_time()
    seconds = await timed(run)
    busy = (time.process_time() - cpu) / seconds
    return rate(done[0], seconds), await fingerprint(engine, "reporting"), busy


async def floor_rate(engine: AsyncEngine, events: int) -> float:
    """Events/s if writing the rebuilt rows were all there is to it: the same rows copied by
    PostgreSQL alone, table to table (no JSON, no client), into fresh logged tables with the
    same indexes, in one transaction. The rebuild cannot beat this on this machine's
    PostgreSQL; the ratio says how close it is."""
    seconds = 0.0
    async with engine.begin() as conn:
        for table in reporting_tables("reporting").projections:
            name, copy = f'"reporting"."{table.name}"', '"reporting".floor_copy'
            await conn.execute(sa.text(f"CREATE TABLE {copy} (LIKE {name} INCLUDING ALL)"))
            insert = sa.text(f"INSERT INTO {copy} SELECT * FROM {name}")
            seconds += await timed(partial(conn.execute, insert))
            await conn.execute(sa.text(f"DROP TABLE {copy}"))
    return rate(events, seconds)


async def mix(engine: AsyncEngine) -> dict[str, int]:
    """How many versions of each event type and source kind the history made."""
    sql = (
        "SELECT event_type || '/' || source_kind, count(*) FROM reporting.emission_versions "
        "GROUP BY 1 ORDER BY 1"
    )
    async with engine.connect() as conn:
        return {str(k): int(n) for k, n in await conn.execute(sa.text(sql))}


async def measure(url: str, nats_url: str, events: int, compare: bool = True) -> dict[str, Any]:
    engine, namespace = create_engine(url, pool_size=2), f"bench{secrets.token_hex(3)}"
    nc = await nats.connect(nats_url)
    try:
        await publish(engine, nc, namespace, events)
        await upgrade(engine, "reporting", MIGRATIONS)
        bulk, bulk_rows, busy = await rebuild_rate(engine, nc, namespace, bulk=True)
        results: dict[str, Any] = {"events": events, "goal_events_per_s": GOAL,
                                   "bulk_events_per_s": bulk, "bulk_to_goal": bulk / GOAL,
                                   "bulk_client_busy_share": busy,
                                   "meets_goal": bulk >= GOAL, "rows": bulk_rows,
                                   "mix": await mix(engine)}  # fmt: skip
        floor = await floor_rate(engine, events)
        results |= {"floor_events_per_s": floor, "bulk_to_floor": bulk / floor}
        if compare:
            one, one_rows, _ = await rebuild_rate(engine, nc, namespace, bulk=False)
            results |= {"per_event_events_per_s": one, "bulk_to_per_event": bulk / one,
                        "identical": one_rows == bulk_rows}  # fmt: skip
        return results
    finally:
        await nc.jetstream().delete_stream(events_stream(namespace, "compute"))
        await nc.drain()
        await engine.dispose()


async def main(events: int, compare: bool) -> dict[str, Any]:
    settings = Settings()
    server = settings.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    async with scratch_database(server) as url:
        return await measure(url, settings.nats_url or "nats://127.0.0.1:4222", events, compare)


def show(results: dict[str, Any]) -> None:
    console = Console()
    console.print(f"rebuild of {results['events']:,} compute events")
    console.print(f"  bulk path: {results['bulk_events_per_s']:,.0f} events/s = "
                  f"{results['bulk_to_goal']:.2f}x the goal of {GOAL:,.0f}/s; this process "
                  f"busy {results['bulk_client_busy_share']:.0%} of the time")  # fmt: skip
    console.print(f"  PostgreSQL alone writing the same rows: {results['floor_events_per_s']:,.0f} "
                  f"events/s; the bulk path is {results['bulk_to_floor']:.2f}x that")  # fmt: skip
    if "per_event_events_per_s" in results:
        console.print(f"  per-event path: {results['per_event_events_per_s']:,.0f} events/s; "
                      f"bulk is {results['bulk_to_per_event']:.1f}x faster; "
                      f"identical projections: {results['identical']}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS} events")
    parser.add_argument("--no-compare", action="store_true", help="skip the per-event path")
    args = parser.parse_args()
    count = QUICK_EVENTS if args.quick else args.events
    found = asyncio.run(main(count, not args.no_compare))
    show(found)
    print(f"wrote {write_results('rebuild', found)}")
