"""The compute throughput benchmark in a small run, so it does not rot (figures not checked)."""

from __future__ import annotations

from bench.common import scratch_database
from bench.compute_throughput import measure
from kernel.settings import Settings


async def test_the_compute_throughput_bench_runs_small(
    database_server_url: str, nats_url: str, namespace: str
) -> None:
    async with scratch_database(database_server_url) as url:
        settings = Settings(
            DATABASE_URL=url, NATS_URL=nats_url, EMPREINTE_NAMESPACE=f"{namespace}ctp"
        )
        results = await measure(settings, 40, 20)
    for run in results["runs"].values():
        assert sum(run["emitted"].values()) == 40
        assert run["emitted"]["EmissionCalculated"] == 40
    assert set(results["runs"]) == {"uncached", "cached", "batched"}
    for ratios in ("ratio_cached_to_uncached", "ratio_batched_to_one_per_transaction"):
        assert set(results[ratios]) == {"activities_per_s", "activities_per_cpu_s"}
