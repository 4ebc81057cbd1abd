"""The per-request core: full path against eco path, and streaming, on one synthetic log.

N rows (default 10 million) with Zipf-distributed client and server countries among ~200
codes and three devices, as a pyarrow Table of plain string columns (as a CSV or NDJSON log
arrives). Times both paths in the same process (best of --repeat), checks they agree, then
measures each one's peak traced memory in a separate run (tracemalloc slows allocation) and
streams the same log through the accumulator in chunks. Prints the eco speed-up and rows/s,
writes bench/results/core.json.  Run: `python -m bench.core [--rows N] [--method M]`.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from bench.common import rate, write_results
from services.compute import core
from services.compute.core import EmissionAccumulator, Path, compute_emissions
from services.compute.grid import EMBER_CO2JS_0_19, GridIntensities
from services.compute.methods import EmissionResult, Method

DEVICES = ("smartphone", "laptop", "desktop")
DEVICE_SHARES = (0.6, 0.3, 0.1)
ZIPF_EXPONENT = 1.1
T = TypeVar("T")


def country_codes(count: int) -> list[str]:
    """The five Ember countries of METHODS §1, then user-assigned ISO codes XAA, XAB, ..."""
    real = [c for c in EMBER_CO2JS_0_19.by_country if c != "WORLD"]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    made_up = [f"X{a}{b}" for a in letters for b in letters]
    return (real + made_up)[:count]


def grid_for(codes: list[str], rng: np.random.Generator) -> GridIntensities:
    """Ember values for the real codes, random ones (20-900 g/kWh) for the made-up ones."""
    values = {c: float(rng.uniform(20, 900)) for c in codes}
    values |= {c: v for c, v in EMBER_CO2JS_0_19.by_country.items() if c in values}
    return GridIntensities(values, "synthetic for the bench; Ember via co2.js 0.19 where real")


def zipf_strings(codes: list[str], rows: int, rng: np.random.Generator) -> pa.Array:
    weights = 1.0 / np.arange(1, len(codes) + 1) ** ZIPF_EXPONENT
    index = rng.choice(len(codes), size=rows, p=weights / weights.sum()).astype(np.int32)
    return pa.DictionaryArray.from_arrays(index, pa.array(codes)).cast(pa.string())


def request_log(rows: int, countries: int, seed: int) -> tuple[pa.Table, GridIntensities]:
    rng = np.random.default_rng(seed)
    codes = country_codes(countries)
    device = rng.choice(len(DEVICES), size=rows, p=DEVICE_SHARES).astype(np.int32)
    table = pa.table(
        {
            "bytes": np.round(rng.lognormal(np.log(500_000), 1.5, rows)),
            "client_country": zipf_strings(codes, rows, rng),
            "server_country": zipf_strings(codes, rows, rng),
            "device": pa.DictionaryArray.from_arrays(device, pa.array(DEVICES)).cast(pa.string()),
            "exec_ms": rng.lognormal(np.log(200), 1.0, rows),
        }
    )
    return table, grid_for(codes, rng)


def best_time(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    best = float("inf")
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def traced_peak_mb(run: Callable[[], Any]) -> float:
    """Peak memory traced while `run` runs (numpy and Python; Arrow's pool is not traced)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def streamed(table: pa.Table, method: Method, grid: GridIntensities, chunk: int) -> EmissionResult:
    accumulator = EmissionAccumulator(method, grid, path="eco")
    for batch in table.to_batches(max_chunksize=chunk):
        accumulator.add(batch)
    return accumulator.result()


def relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def dictionary_typed(table: pa.Table) -> pa.Table:
    """The same log with dictionary-typed text columns, as Parquet dictionary pages give it."""
    for name in ("client_country", "server_country", "device"):
        index = table.column_names.index(name)
        table = table.set_column(index, name, table.column(name).dictionary_encode())
    return table


def timings(table: pa.Table, method: Method, grid: GridIntensities, repeat: int) -> dict[str, Any]:
    rows = table.num_rows

    def path(name: Path) -> Callable[[], EmissionResult]:
        return lambda: compute_emissions(table, method, grid, path=name)

    # The reading and checking both paths share; private, timed here only to split the figure.
    read_s, _ = best_time(lambda: core._read(core._Columns(table), method), repeat)
    full_s, full = best_time(path("full"), repeat)
    eco_s, eco = best_time(path("eco"), repeat)
    return {
        "full": {"seconds": full_s, "rows_per_s": rate(rows, full_s)},
        "eco": {"seconds": eco_s, "rows_per_s": rate(rows, eco_s)},
        "shared_reading_seconds": read_s,
        "eco_speedup": full_s / eco_s,
        "eco_speedup_beyond_reading": (full_s - read_s) / max(eco_s - read_s, 1e-9),
        "relative_difference_eco_vs_full": relative_difference(eco.total.value, full.total.value),
        "total_g": eco.total.value,
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    table, grid = request_log(args.rows, args.countries, args.seed)
    generated = time.perf_counter() - started
    method = Method(args.method)
    strings = timings(table, method, grid, args.repeat)
    dictionary = timings(dictionary_typed(table), method, grid, args.repeat)
    stream_s, stream = best_time(lambda: streamed(table, method, grid, args.chunk), 1)
    return {
        "rows": args.rows,
        "countries": args.countries,
        "distinct_keys_possible": args.countries**2 * len(DEVICES),
        "method": args.method,
        "repeat": args.repeat,
        "generate_s": round(generated, 3),
        "eco_speedup": strings["eco_speedup"],
        "string_columns": strings,
        "dictionary_columns": dictionary,
        "stream_eco": {
            "seconds": stream_s,
            "rows_per_s": rate(args.rows, stream_s),
            "chunk_rows": args.chunk,
            "relative_difference_vs_whole": relative_difference(
                stream.total.value, strings["total_g"]
            ),
        },
        "peak_traced_mb": {
            "full": traced_peak_mb(lambda: compute_emissions(table, method, grid, path="full")),
            "eco": traced_peak_mb(lambda: compute_emissions(table, method, grid, path="eco")),
            "stream_eco": traced_peak_mb(lambda: streamed(table, method, grid, args.chunk)),
        },
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
        "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() / 1e6,
    }


def report(results: dict[str, Any]) -> None:
    print(f"{results['rows']:,} rows, {results['countries']} countries, {results['method']}")
    for kind in ("string_columns", "dictionary_columns"):
        figures = results[kind]
        print(f"  {kind}: shared reading {figures['shared_reading_seconds']:.3f} s")
        for name in ("full", "eco"):
            print(f"    {name:<5} {figures[name]['seconds']:7.3f} s "
                  f"{figures[name]['rows_per_s']:>14,.0f} rows/s")  # fmt: skip
        print(f"    eco speed-up {figures['eco_speedup']:.2f}x "
              f"({figures['eco_speedup_beyond_reading']:.1f}x beyond the shared reading); "
              f"eco vs full {figures['relative_difference_eco_vs_full']:.1e}")  # fmt: skip
    stream = results["stream_eco"]
    print(f"  stream (eco, {stream['chunk_rows']:,}-row batches) {stream['seconds']:.3f} s "
          f"{stream['rows_per_s']:,.0f} rows/s")  # fmt: skip
    peaks = ", ".join(f"{k} {v:.0f} MB" for k, v in results["peak_traced_mb"].items())
    print(f"  peak traced memory: {peaks}")
    print(f"  max RSS {results['max_rss_mb']:.0f} MB, Arrow pool peak "
          f"{results['arrow_pool_peak_mb']:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--countries", type=int, default=200)
    parser.add_argument("--method", default="swd-v4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per streamed batch")
    parser.add_argument("--seed", type=int, default=20260101)
    results = measure(parser.parse_args())
    report(results)
    print(f"wrote {write_results('core', results)}")


if __name__ == "__main__":
    main()
