"""The gateway benchmark's quick mode runs end to end (so the full one does not rot)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bench.common import RESULTS


async def test_the_quick_graphql_bench_measures_every_path(
    database_server_url: str, nats_url: str
) -> None:
    (RESULTS / "graphql_quick.json").unlink(missing_ok=True)  # so a stale file cannot pass
    env = {**os.environ, "DATABASE_URL": database_server_url, "NATS_URL": nats_url}
    bench = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.graphql", "--quick", "--seconds", "1",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await bench.communicate()
    assert bench.returncode == 0, output.decode()[-3000:]
    results = json.loads((RESULTS / "graphql_quick.json").read_text())
    assert results["activities"] > 100  # the demo company's year went in, and settled
    for run in (results, results["one_client"]):  # 4 clients, then one
        for path in ("gateway", "nats", "nats_ledger"):
            figures = run[path]
            assert figures["requests"] > 0 and figures["requests_per_s"] > 0
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
            assert figures["reporting_cpu_percent"] > 0 and figures["dropped_connections"] >= 0
        assert run["overhead"]["p95_ratio"] > 0 and "p95_met" in run["goal"]
        assert run["now_against_ledger"]["p95_ratio"] > 0
