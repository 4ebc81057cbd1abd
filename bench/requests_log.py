"""A synthetic request log for bench/requests_core.py, as a Parquet reader would give it.

Client countries Zipf-distributed over ~150 Ember countries (co2.js 0.19's grid data),
server cloud regions Zipf over ~30 regions whose country Ember knows, 4 devices, log-normal
bytes and execution times. Text columns are dictionary-encoded with int32 codes and each
column is one chunk, as `pyarrow.parquet` yields a row group.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from empreinte_cli.requests_commands import ember_intensities
from services.compute.grid import REGION_COUNTRY, GridIntensities
from services.compute.methods.device import BOAVIZTA_TERMINALS, Terminal

COUNTRIES, REGIONS, ZIPF_EXPONENT = 150, 30, 1.1
DEVICES = ("smartphone", "laptop", "desktop", "tablet")
DEVICE_SHARES = (0.55, 0.25, 0.1, 0.1)
# Boavizta's archetypes have no tablet: an illustrative one, for timing measured-device only.
DEVICE_TERMINALS = {**BOAVIZTA_TERMINALS, "tablet": Terminal(5.0, 3.0, 8.0, 60.0, 26_280.0)}
BYTES_MEDIAN, BYTES_SIGMA = 500_000.0, 1.5
EXEC_MS_MEDIAN, EXEC_MS_SIGMA = 200.0, 1.0


def synthetic_log(rows: int, seed: int) -> tuple[pa.Table, GridIntensities]:
    """The log and the grid intensities (Ember via co2.js 0.19) its countries take."""
    rng = np.random.default_rng(seed)
    grid = ember_intensities(allow_fallback=False)
    countries = [c for c in sorted(grid.by_country) if len(c) == 3 and c != "WORLD"]
    clients = list(rng.choice(countries, size=COUNTRIES, replace=False))
    regions = sorted(r for r, c in REGION_COUNTRY.items() if c in grid.by_country)
    servers = list(rng.choice(regions, size=REGIONS, replace=False))
    table = pa.table(
        {
            "bytes": np.round(rng.lognormal(np.log(BYTES_MEDIAN), BYTES_SIGMA, rows)),
            "client_country": _zipf(clients, rows, rng),
            "cloud_region": _zipf(servers, rows, rng),
            "device": _categorical(DEVICES, rng.choice(4, size=rows, p=DEVICE_SHARES)),
            "exec_ms": rng.lognormal(np.log(EXEC_MS_MEDIAN), EXEC_MS_SIGMA, rows),
        }
    )
    return table, grid


def _zipf(values: list[str], rows: int, rng: np.random.Generator) -> pa.DictionaryArray:
    weights = 1.0 / np.arange(1, len(values) + 1) ** ZIPF_EXPONENT
    return _categorical(values, rng.choice(len(values), size=rows, p=weights / weights.sum()))


def _categorical(values: list[str] | tuple[str, ...], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(codes.astype(np.int32), pa.array(list(values)))
