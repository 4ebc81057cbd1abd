"""What bench/requests_core.py measures the core against: co2.js per call, a Python loop.

Both run on a subsample of the synthetic log and are scaled by rows/s; both are checked
against the core's total on the same rows, so the comparison is between equal answers.
Also the peak-memory probe both paths are measured with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench.common import rate
from services.compute.core import compute_emissions
from services.compute.grid import GridIntensities, region_country
from services.compute.methods import Method
from services.compute.methods.swd import BYTES_PER_GB, V4_GLOBAL_GRID_INTENSITY, V4_KWH_PER_GB

TEXT = ("client_country", "cloud_region", "device")
CO2JS_VERSION = "0.19.0"
# Where tools/co2js_oracle/generate.mjs's instructions install co2.js.
CO2JS_DIR = os.environ.get("CO2JS_DIR", "/tmp/co2js")
PER_CALL = Path(__file__).parents[1] / "tools" / "co2js_oracle" / "per_call.mjs"


def peak_bytes(run: Callable[[], Any]) -> int:
    """Peak bytes numpy and Python allocate while ``run`` runs (tracemalloc).

    Arrow's pool is not traced; the core allocates nothing there for one-chunk dictionary
    columns (their codes and the numbers are read as zero-copy views).
    """
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def core_total(sample: pa.Table, grid: GridIntensities) -> float:
    return compute_emissions(sample, Method("swd-v4"), grid, path="full").total.value


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# --- co2.js per call, in node ---------------------------------------------------------------


def co2js_per_call(
    sample: pa.Table, grid: GridIntensities, install_dir: str, repeat: int
) -> dict[str, Any]:
    """co2.js's SWD v4 perByteTrace once per row, timed in node; or why it could not run."""
    problem = _co2js_ready(install_dir)
    if problem:
        return {"unavailable": problem}
    with tempfile.TemporaryDirectory() as scratch:
        rows_path = Path(scratch) / "rows.json"
        rows_path.write_text(json.dumps(_co2js_rows(sample, grid)))
        done = subprocess.run(
            ["node", str(PER_CALL), install_dir, str(rows_path), str(repeat)],
            capture_output=True, text=True, timeout=3600, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        return {"unavailable": f"node failed: {done.stderr.strip()[-500:]}"}
    answer: dict[str, Any] = json.loads(done.stdout)
    answer["rows_per_s"] = rate(answer["rows"], answer["seconds"])
    answer["rows_per_cpu_s"] = rate(answer["rows"], answer["cpu_seconds"])
    answer["relative_difference_vs_core"] = _relative(answer["total_g"], core_total(sample, grid))
    return answer


def _co2js_ready(install_dir: str) -> str | None:
    """None once co2.js is installed in ``install_dir`` (from npm if need be), else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    package = Path(install_dir) / "node_modules" / "@tgwf" / "co2" / "package.json"
    if not package.exists():
        if shutil.which("npm") is None:
            return f"co2.js is not installed in {install_dir} and npm is not on PATH"
        install = ["npm", "install", "--prefix", install_dir, f"@tgwf/co2@{CO2JS_VERSION}"]
        done = subprocess.run(install, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            return f"npm install @tgwf/co2@{CO2JS_VERSION} failed: {done.stderr.strip()[-300:]}"
    version = json.loads(package.read_text())["version"]
    return None if version == CO2JS_VERSION else f"co2.js {version} installed, not {CO2JS_VERSION}"


def _co2js_rows(sample: pa.Table, grid: GridIntensities) -> dict[str, list[float]]:
    """Bytes and, per row, the client and server grid intensities (the Piano grid)."""
    return {
        "bytes": sample.column("bytes").to_pylist(),
        "client_intensity": _intensities(sample.column("client_country"), grid, str),
        "server_intensity": _intensities(sample.column("cloud_region"), grid, region_country),
    }


def _intensities(
    column: pa.ChunkedArray, grid: GridIntensities, country: Callable[[str], str]
) -> list[float]:
    encoded = column.combine_chunks()
    by_code = np.array([grid.by_country[country(v)] for v in encoded.dictionary.to_pylist()])
    values: list[float] = by_code[encoded.indices.to_numpy()].tolist()
    return values


# --- a plain per-row Python loop --------------------------------------------------------------

_DC, _NET, _DEV = (V4_KWH_PER_GB[s] for s in ("data_centre", "network", "user_device"))
_EMBODIED_G_PER_GB = (_DC[1] + _NET[1] + _DEV[1]) * V4_GLOBAL_GRID_INTENSITY


def python_per_row(sample: pa.Table, grid: GridIntensities) -> dict[str, Any]:
    """SWD v4 row by row in plain Python, with the core's breakdowns; rows/s (wall-clock and
    per CPU second) and the total."""
    rows = sample.select(["bytes", *TEXT]).to_pylist()  # not timed: a reader's work
    intensity = dict(grid.by_country)
    started, cpu = time.perf_counter(), time.process_time()
    totals = _loop(rows, intensity)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    total = sum(totals["client_country"].values())
    return {
        "rows": len(rows),
        "seconds": seconds,
        "rows_per_s": rate(len(rows), seconds),
        "cpu_seconds": cpu_seconds,
        "rows_per_cpu_s": rate(len(rows), cpu_seconds),
        "total_g": total,
        "relative_difference_vs_core": _relative(total, core_total(sample, grid)),
    }


def _loop(rows: list[dict[str, Any]], intensity: dict[str, float]) -> dict[str, dict[str, float]]:
    totals: dict[str, dict[str, float]] = {name: {} for name in (*TEXT, "segment")}
    for row in rows:
        size = row["bytes"]
        if size < 1:
            continue  # co2.js: a request under one byte emits nothing
        gb = size / BYTES_PER_GB
        client = intensity[row["client_country"]]
        server = intensity[region_country(row["cloud_region"])]
        segments = {
            "data_centre": gb * _DC[0] * server,
            "network": gb * _NET[0] * client,
            "user_device": gb * _DEV[0] * client,
            "embodied": gb * _EMBODIED_G_PER_GB,
        }
        grams = sum(segments.values())
        for name in TEXT:
            by = totals[name]
            by[row[name]] = by.get(row[name], 0.0) + grams
        for segment, value in segments.items():
            totals["segment"][segment] = totals["segment"].get(segment, 0.0) + value
    return totals
