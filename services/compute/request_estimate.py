"""What-if requests (compute's `estimate`): the per-request core on rows sent inline, with
a server footprint when given, as an emission shaped like a request log's. Pure.

The rows' lineage is their SHA-256 (of their canonical JSON), standing where a log's file
hash stands: the same rows give the same hash and the same figure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from contracts.compute import Emission, EstimateRequests
from contracts.factors import FactorView
from services.compute.core import Method, compute_emissions
from services.compute.product import grid_from_factors, grid_lineage, log_emission
from services.compute.server_share import with_server


def requests_emission(
    what: EstimateRequests, chosen: Mapping[str, FactorView], release: str, *,
    source_id: UUID, event_id: UUID,
) -> Emission:  # fmt: skip
    """The rows' emission on the grid of `chosen` (a release's factors by country), naming
    the factor version behind each intensity used, as a request log's does; InputError or
    ValueError naming what is wrong with the rows."""
    grid = grid_from_factors(chosen, release)
    columns = _columns(what)
    method = with_server(
        Method(model=what.model),
        what.server,
        lambda plain: compute_emissions(columns, plain, grid),
        "estimate request",
    )
    result = compute_emissions(columns, method, grid)
    return log_emission(
        result,
        log_id=source_id,
        event_id=event_id,
        stream_version=0,
        sha256=rows_sha256(what),
        site=what.site,
        period=(what.period_start, what.period_end),
        grid=grid_lineage(result, chosen),
    )


def rows_sha256(what: EstimateRequests) -> str:
    canonical = json.dumps(what.rows.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _columns(what: EstimateRequests) -> dict[str, Any]:
    return {name: values for name, values in what.rows.model_dump().items() if values is not None}
