"""The current-tables bench runs end to end at a tiny size (times are not checked here)."""

from __future__ import annotations

from bench.common import scratch_database
from bench.current_follow import WAYS, measure


async def test_the_current_follow_bench_times_every_way_on_a_filled_ledger(
    database_server_url: str,
) -> None:
    async with scratch_database(database_server_url) as url:
        results = await measure(url, events=500, batches=3)

    assert results["current_sources"] > 0
    assert set(results["ways"]) == set(WAYS)
    for found in results["ways"].values():
        assert 0 < found["follow_ms_p50"] <= found["follow_ms_p95"]
        assert found["follow_ms_p50"] <= found["batch_ms_p50"]
    assert {k for k in results if "_to_" in k} >= {"batch_p50_new_to_main"}
