"""The reporting consumer benchmark runs end to end at a tiny size (figures not checked)."""

from __future__ import annotations

from bench.current_follow import recorded
from bench.reporting_consumer import QUICK_EVENTS, measure


async def test_the_reporting_consumer_bench_projects_every_event_per_size(
    database_server_url: str, nats_url: str
) -> None:
    results = await measure(database_server_url, nats_url, recorded(QUICK_EVENTS), [50, 100])

    assert results["events"] == QUICK_EVENTS
    assert set(results["per_event"]) == {"50", "100"}
    for figures in results["per_event"].values():
        assert figures["python_cpu_ms"] > 0 and figures["wall_ms"] > 0
    assert results["ratio_to_batch_50"]["50"]["wall_ms"] == 1.0
