"""The event store benchmark runs end to end at a tiny size (figures are not checked here)."""

from __future__ import annotations

from bench.common import scratch_database
from bench.eventstore import BATCHES, measure


async def test_the_eventstore_bench_measures_every_batch_size_and_verifies_its_chain(
    database_server_url: str,
) -> None:
    async with scratch_database(database_server_url) as url:
        results = await measure(url, 300)

    assert sorted(results["append"]) == sorted(str(b) for b in BATCHES)
    assert all(r["ours"] > 0 and r["eventsourcing"] > 0 for r in results["append"].values())
    assert {"goal", "meets_goal"} <= set(results["append"]["100"])
    assert results["catch_up_read"]["ours"] > 0
    assert results["chain_verified"] is True
