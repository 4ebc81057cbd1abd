"""The rebuild benchmark runs end to end at a tiny size (rates are not checked here)."""

from __future__ import annotations

from bench.common import scratch_database
from bench.rebuild import QUICK_EVENTS, measure


async def test_the_rebuild_bench_replays_every_event_by_both_paths_identically(
    database_server_url: str, nats_url: str
) -> None:
    async with scratch_database(database_server_url) as url:
        results = await measure(url, nats_url, QUICK_EVENTS)

    assert results["events"] == QUICK_EVENTS
    assert results["identical"] is True
    versions = results["rows"]["emission_versions"]
    assert versions.startswith(f"{QUICK_EVENTS}:")
    kinds = {"EmissionCalculated/activity", "EmissionCalculated/request_log",
             "EmissionRestated/activity", "EmissionWithdrawn/activity",
             "EmissionUnresolved/activity"}  # fmt: skip
    assert kinds <= set(results["mix"])
    assert results["bulk_events_per_s"] > 0 and results["per_event_events_per_s"] > 0
    assert results["floor_events_per_s"] > 0
    assert {"bulk_to_goal", "bulk_to_per_event", "bulk_to_floor", "meets_goal"} <= set(results)
