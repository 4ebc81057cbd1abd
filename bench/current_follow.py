"""Reporting's current tables following the watermark (services/reporting/current.py): the
time of `follow` per live-sized batch on a large ledger, main's way against the new one.

A synthetic compute log (bench/compute_history.py) is projected by the real projection
(`EmissionVersions.apply_batch`), batch after batch in log order, round robin over one
connection per way of following. Each connection is kept from the empty tables on, as the
live consumer keeps its own, so whatever plans PostgreSQL cached there were made as the
tables grew (asyncpg prepares the statements; after five runs a generic plan may be kept):
* `main`: the statements as on main (no estimate cap), planned as PostgreSQL chooses;
* `main_generic`: the same forced to a generic plan made on the full tables;
* `cap_only`: today's statements (capped estimate), planned as PostgreSQL chooses;
* `new`: `follow` as it is now (capped, planned for each batch's range).
The first `--events` fill the ledger in batches of 200; then `--batches` batches of 50 per
way are timed. Prints the median and p95 of `follow` and of the batch's whole transaction
per way, new's ratio to each, and per connection's follow statement its generic and custom
plans and the tables its plan would read whole. Writes bench/results/current_follow.json.
Run: `python -m bench.current_follow [--events N] [--batches N] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import scratch_database, write_results
from bench.compute_history import history
from kernel.db import create_engine
from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.settings import Settings
from services.reporting import current, projections
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables

SCHEMA = "reporting"
MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "reporting" / "migrations"
EVENTS, BATCHES, FILL_BATCH, LIVE_BATCH = 100_000, 60, 200, 50
Follow = Callable[[AsyncConnection, str | None, int, int], Awaitable[None]]


@dataclass(frozen=True)
class Way:
    """A way of following: its statements (main's lacked the estimate cap) and plan mode."""

    capped: bool
    mode: str | None

    def statements(self) -> list[sa.TextClause]:
        found = current.follow_statements(SCHEMA)
        if self.capped:
            return list(found)
        return [sa.text(str(s).replace(current.ESTIMATE_CAP, "")) for s in found]

    async def follow(self, conn: AsyncConnection, schema: str | None, start: int, end: int) -> None:
        if end <= start:
            return
        if self.mode is not None:
            await conn.execute(sa.text(f"SET LOCAL plan_cache_mode = {self.mode}"))
        for statement in self.statements():
            await conn.execute(statement, {"start": start, "end": end})


WAYS: dict[str, Way] = {
    "main": Way(capped=False, mode=None),
    "main_generic": Way(capped=False, mode="force_generic_plan"),
    "cap_only": Way(capped=True, mode=None),
    "new": Way(capped=True, mode="force_custom_plan"),  # explains only; runs current.follow
}
FOLLOWS: dict[str, Follow] = {name: way.follow for name, way in WAYS.items()}
FOLLOWS["new"] = current.follow


class Timed:
    """Stands in for the projection's `follow`: runs the way of the batch at hand, timed."""

    def __init__(self) -> None:
        self.way: Follow = current.follow
        self.seconds = 0.0

    async def __call__(
        self, conn: AsyncConnection, schema: str | None, start: int, end: int
    ) -> None:
        started = time.perf_counter()
        await self.way(conn, schema, start, end)
        self.seconds = time.perf_counter() - started


def recorded(count: int) -> list[RecordedEvent]:
    """The synthetic log as the store would hand it out (positions from 1; hashes blank)."""
    at = datetime.now(UTC)
    return [
        RecordedEvent(
            event_id=e.event_id,
            stream_id=e.stream_id,
            stream_version=1,
            type=e.type,
            schema_version=e.schema_version,
            tenant_id=e.tenant_id,
            occurred_at=e.occurred_at,
            recorded_at=at,
            global_position=i + 1,
            causation_id=None,
            correlation_id=None,
            actor=e.actor,
            payload=e.payload,
            prev_hash=bytes(32),
            hash=bytes(32),
        )
        for i, e in enumerate(history(count))
    ]


class Run:
    """One connection per way; batches handed out round robin, each in its transaction."""

    def __init__(self, conns: dict[str, AsyncConnection], timed: Timed) -> None:
        self.conns, self.timed = conns, timed
        self.versions = EmissionVersions(reporting_tables(SCHEMA))
        self.times: dict[str, dict[str, list[float]]] = {
            way: {"follow_ms": [], "batch_ms": []} for way in conns
        }

    async def batches(self, events: list[RecordedEvent], size: int, keep: bool) -> None:
        ways = list(self.conns)
        for n, start in enumerate(range(0, len(events), size)):
            await self.batch(ways[n % len(ways)], events[start : start + size], keep)

    async def batch(self, way: str, events: list[RecordedEvent], keep: bool) -> None:
        conn, self.timed.way = self.conns[way], FOLLOWS[way]
        started = time.perf_counter()
        async with conn.begin():
            await self.versions.apply_batch(events, conn)
        if keep:
            self.times[way]["batch_ms"].append((time.perf_counter() - started) * 1000)
            self.times[way]["follow_ms"].append(self.timed.seconds * 1000)


async def scanned(conn: AsyncConnection, way: Way, start: int) -> list[str]:
    """Per follow statement prepared on this connection: its generic and custom plans so far
    and the tables its plan for the last batch, as the connection would make it now, reads
    whole (sequential scans)."""
    await conn.rollback()
    sql = (
        "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE 'WITH moved AS%' ORDER BY name"
    )
    found = []
    async with conn.begin() as transaction:
        if way.mode is not None:
            await conn.execute(sa.text(f"SET LOCAL plan_cache_mode = {way.mode}"))
        for name, generic, custom in (await conn.execute(sa.text(sql))).all():
            explain = f"EXPLAIN EXECUTE {name}({start}, {start + LIVE_BATCH})"
            lines = (await conn.execute(sa.text(explain))).scalars()
            seq = {line.split(" on ")[1].split()[0] for line in lines if "Seq Scan on" in line}
            found.append(f"{generic}g/{custom}c seq [{','.join(sorted(seq))}]")
        await transaction.rollback()
    return found


async def sources(conn: AsyncConnection) -> int:
    sql = f'SELECT count(*) FROM "{SCHEMA}".current_sources'
    return int((await conn.execute(sa.text(sql))).scalar_one())


def summary(times: dict[str, list[float]]) -> dict[str, float]:
    return {
        f"{name}_{q}": float(np.percentile(values, p))
        for name, values in times.items()
        for q, p in (("p50", 50), ("p95", 95))
    }


async def measure(url: str, events: int, batches: int) -> dict[str, Any]:
    engine, timed = create_engine(url, pool_size=len(WAYS)), Timed()
    await upgrade(engine, SCHEMA, MIGRATIONS)
    await engine.dispose()  # the ways' connections start with no statement prepared
    log = recorded(events + batches * LIVE_BATCH * len(WAYS))
    real_follow = vars(projections)["follow"]
    vars(projections)["follow"] = timed  # the projection's own code, but the way at hand
    try:
        conns = {way: await engine.connect() for way in WAYS}
        run = Run(conns, timed)
        await run.batches(log[:events], FILL_BATCH, keep=False)
        await run.batches(log[events:], LIVE_BATCH, keep=True)
        found: dict[str, dict[str, Any]] = {way: summary(run.times[way]) for way in WAYS}
        count = await sources(conns["new"])
        for way, conn in conns.items():
            found[way]["plans"] = await scanned(conn, WAYS[way], len(log) - LIVE_BATCH)
        for conn in conns.values():
            await conn.close()
    finally:
        vars(projections)["follow"] = real_follow
        await engine.dispose()
    return {"events": events, "batches_per_way": batches, "batch_size": LIVE_BATCH,
            "current_sources": count, "ways": found, **ratios(found)}  # fmt: skip


def ratios(found: dict[str, dict[str, Any]]) -> dict[str, float]:
    """New over each other way, for the median follow; and over main for the whole batch."""
    new = found["new"]
    return {f"follow_p50_new_to_{way}": new["follow_ms_p50"] / found[way]["follow_ms_p50"]
            for way in WAYS if way != "new"} | {
        "batch_p50_new_to_main": new["batch_ms_p50"] / found["main"]["batch_ms_p50"]
    }  # fmt: skip


async def main(events: int, batches: int) -> dict[str, Any]:
    settings = Settings()
    server = settings.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    async with scratch_database(server) as url:
        return await measure(url, events, batches)


def show(results: dict[str, Any], loads: tuple[float, float]) -> None:
    print(
        f"follow per batch of {results['batch_size']} after {results['events']:,} events "
        f"({results['current_sources']:,} current sources), load average "
        f"{loads[0]:.1f} -> {loads[1]:.1f}"
    )
    for way, found in results["ways"].items():
        follow, batch = (f"{found[f'{n}_p50']:6.2f}/{found[f'{n}_p95']:6.2f} ms"
                         for n in ("follow_ms", "batch_ms"))  # fmt: skip
        print(f"  {way:12} follow p50/p95 {follow}, batch {batch}, statements {found['plans']}")
    print("  " + ", ".join(f"{k} {v:.2f}" for k, v in results.items() if "_to_" in k))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--batches", type=int, default=BATCHES)
    parser.add_argument("--quick", action="store_true", help="2,000 events, 10 batches")
    args = parser.parse_args()
    events, batches = (2_000, 10) if args.quick else (args.events, args.batches)
    load_before = os.getloadavg()[0]
    found = asyncio.run(main(events, batches))
    loads = (load_before, os.getloadavg()[0])
    show(found, loads)
    print(f"wrote {write_results('current_follow', {**found, 'load_average': loads})}")
