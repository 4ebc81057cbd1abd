"""Request-log files as record batches: Parquet text columns stay dictionary codes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from services.compute.core import compute_emissions
from services.compute.grid import EMBER_CO2JS_0_19
from services.compute.methods import Method
from services.compute.request_logs import batches

LOG = {
    "bytes": [1e6, 2e6, 3e6],
    "client_country": ["FRA", "DEU", "FRA"],
    "cloud_region": ["eu-west-3", "eu-central-1", "eu-west-3"],
    "device": ["laptop", "smartphone", "laptop"],
}


def test_parquet_text_columns_arrive_as_dictionary_codes_from_a_path_or_a_stream(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(pa.table(LOG), path)
    with path.open("rb") as stream:
        for source in (path, stream):
            (batch,) = list(batches(source, "parquet"))
            for name in ("client_country", "cloud_region", "device"):
                assert pa.types.is_dictionary(batch.schema.field(name).type), name
            assert batch.schema.field("bytes").type == pa.float64()
            ours = compute_emissions(batch, Method(), EMBER_CO2JS_0_19).total.value
            assert ours == compute_emissions(LOG, Method(), EMBER_CO2JS_0_19).total.value
