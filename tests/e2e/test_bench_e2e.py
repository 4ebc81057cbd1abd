"""bench/e2e.py in its quick mode, so the benchmark keeps working: every request is accepted,
every accepted activity becomes visible, and the figures it writes are there."""

from __future__ import annotations

from bench import e2e
from bench.e2e_load import STAGES


async def test_the_end_to_end_bench_runs_in_quick_mode(
    database_server_url: str, nats_url: str
) -> None:
    results = await e2e.run(STAGES["quick"], database_server_url, nats_url)
    stages = results["stages"]
    assert [s["target_per_s"] for s in stages] == [s.rate for s in STAGES["quick"]]
    for stage in stages:
        assert stage["errors"] == {}
        assert stage["accepted"] == stage["target_per_s"] * stage["seconds"]
        assert stage["unseen_after_wait"] == 0
        assert stage["visible_per_s"] > 0
        assert 0 < stage["visible_ms"]["p50"] <= stage["visible_ms"]["p99"]
        assert set(stage["lag_at_end_of_sending"]) == {"compute_inventory", "reporting_compute"}
    recorded = sum(s["accepted"] for s in stages)
    assert results["storage"]["by_service"]["inventory"]["events"] >= recorded
    kept = results["storage"]
    assert kept["schemas_mb_per_million_events"] > kept["mb_per_million_events"] > 0
    assert results["rebuild"]["events"] >= recorded  # one emission at least per activity
    assert results["ratios"]["rebuild_to_50000_per_s"] > 0
    assert (
        0
        < results["ratios"]["sustained_per_s_to_2000"]
        <= (results["ratios"]["accepted_per_s_to_2000"])
    )
