"""`make bench`: run every benchmark in turn; each writes its own JSON under bench/results/."""

from __future__ import annotations

import runpy
import sys

BENCHES = [
    "bench.eventstore",
    "bench.requests_core",
    "bench.ingest",
    "bench.graphql",
    "bench.compute_throughput",
    "bench.e2e",
    "bench.rebuild",
    "bench.current_follow",
]

if __name__ == "__main__":
    for name in BENCHES:
        print(f"== {name}", flush=True)
        sys.argv = [name]
        runpy.run_module(name, run_name="__main__")
