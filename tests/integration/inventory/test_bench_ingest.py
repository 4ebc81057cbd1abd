"""The ingest benchmark in a small run, so it does not rot (figures are not checked)."""

from __future__ import annotations

from pathlib import Path

from bench.common import scratch_database
from bench.ingest import measure
from kernel.settings import Settings


async def test_the_ingest_bench_runs_small(
    database_server_url: str, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    async with scratch_database(database_server_url) as url:
        settings = Settings(
            DATABASE_URL=url, NATS_URL=nats_url, EMPREINTE_NAMESPACE=f"{namespace}bench"
        )
        results = await measure(settings, 200, 3_000, tmp_path)
    assert results["request_log"]["row_count_registered"] == 3_000
    assert set(results["activities_per_s"]) == {"1", "100", "10000"}
    assert set(results["peak_rss_mb"]) == {
        "service_started", "after_activities", "after_request_log",
    }  # fmt: skip
