from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from contracts import factors as c
from kernel.projection import rebuild
from kernel.store import EventStore
from services.factors.defaults import load_defaults
from services.factors.handlers import FactorHandlers

from .conftest import ADMIN, electricity

pytestmark = pytest.mark.integration


async def snapshot(handlers: FactorHandlers) -> dict[str, list[Any]]:
    async with handlers.store.engine.connect() as conn:
        found = {}
        for table in handlers.catalogue.tables:
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(row) for row in rows]
        return found


async def test_the_catalogue_rebuilt_from_the_log_is_identical(
    handlers: FactorHandlers, factors_store: EventStore
) -> None:
    await load_defaults(handlers)
    accepted = await handlers.publish(ADMIN, c.PublishFactor(factor=electricity(region="EU")))
    values = c.FactorValues(
        **electricity(region="EU").model_dump(exclude={"activity_kind", "component"})
    )
    revise = c.ReviseFactor(
        factor_id=accepted.factor_id, expected_version=1, values=values, reason="r"
    )
    await handlers.revise(ADMIN, revise)
    retire = c.RetireFactor(
        factor_id=accepted.factor_id, expected_version=2, retired_from=date(2025, 1, 1), reason="r"
    )
    await handlers.retire(ADMIN, retire)
    before = await snapshot(handlers)
    assert len(before["factor_versions"]) > 300
    await rebuild(factors_store, [handlers.catalogue])
    assert await snapshot(handlers) == before
