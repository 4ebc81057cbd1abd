from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID

import pytest

from contracts import inventory as c
from kernel.errors import RemoteError
from kernel.projection import rebuild
from services.inventory.projections import Ledger
from tests.integration.inventory.conftest import (
    ADMIN,
    GOOD,
    INTEGRATOR,
    OTHER_TENANT,
    VIEWER,
    Running,
)


def batch(key: str, *items: dict[str, object]) -> c.RecordActivities:
    return c.RecordActivities(idempotency_key=key, activities=list(items))


async def record_one(inv: Running, **changes: object) -> UUID:
    outcome = await inv.client.call(
        c.RECORD, batch(f"k-{changes}", {**GOOD, **changes}), INTEGRATOR
    )
    assert outcome.activity_ids[0] is not None
    return outcome.activity_ids[0]


def correction(activity_id: UUID, quantity: float, version: int | None = None):
    return c.CorrectActivity(
        activity_id=activity_id,
        expected_version=version,
        quantity=quantity,
        unit="MWh",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 2, 1),
        reason="meter re-read",
    )


async def refused(call) -> RemoteError:
    with pytest.raises(RemoteError) as error:
        await call
    return error.value


async def test_a_mixed_batch_stores_the_good_items_and_names_the_bad_ones(inv: Running) -> None:
    items = [GOOD, {**GOOD, "unit": "km"}, {**GOOD, "kind": "teleport"}, {**GOOD, "quantity": 3}]
    outcome = await inv.client.call(c.RECORD, batch("b1", *items), INTEGRATOR)

    assert (outcome.accepted, outcome.stored, outcome.replayed) == (2, True, False)
    assert [i is not None for i in outcome.activity_ids] == [True, False, False, True]
    assert [(r.index, r.field) for r in outcome.rejected] == [(1, "unit"), (2, "kind")]
    assert "needs a unit of [mass] * [length] ** 2 / [time] ** 2" in outcome.rejected[0].reason
    events = await inv.store.read_all()
    assert [e.type for e in events] == ["ActivityRecorded", "ActivityRecorded"]
    assert len({e.recorded_at for e in events}) == 1  # one append, one transaction


async def test_a_retry_with_the_same_key_answers_the_same_and_stores_nothing(inv: Running) -> None:
    first = await inv.client.call(c.RECORD, batch("b2", GOOD, {**GOOD, "unit": "km"}), INTEGRATOR)
    head = await inv.store.head_position()

    again = await inv.client.call(c.RECORD, batch("b2", GOOD, {**GOOD, "unit": "km"}), INTEGRATOR)

    assert again.replayed and again.model_copy(update={"replayed": False}) == first
    assert await inv.store.head_position() == head
    error = await refused(
        inv.client.call(c.RECORD, batch("b2", {**GOOD, "quantity": 9}), INTEGRATOR)
    )
    assert (error.code, error.field) == ("idempotency_key_reused", "idempotency_key")
    assert "already used for a different batch" in error.message


async def test_a_batch_of_rejects_only_stores_nothing(inv: Running) -> None:
    outcome = await inv.client.call(c.RECORD, batch("b3", {**GOOD, "region": "fr"}), INTEGRATOR)
    assert (outcome.stored, outcome.accepted, outcome.activity_ids) == (False, 0, [None])
    assert outcome.rejected[0].field == "region"
    assert await inv.store.head_position() == 0


async def test_correct_then_retract_keeps_the_history_and_the_current_state(inv: Running) -> None:
    activity_id = await record_one(inv)
    corrected = await inv.client.call(c.CORRECT, correction(activity_id, 1.5, 1), INTEGRATOR)
    assert (corrected.status, corrected.version, corrected.quantity) == ("corrected", 2, 1.5)
    assert corrected.unit == "MWh"

    retract = c.RetractActivity(activity_id=activity_id, reason="duplicate of invoice 12")
    retracted = await inv.client.call(c.RETRACT, retract, INTEGRATOR)

    assert (retracted.status, retracted.version, retracted.quantity) == ("retracted", 3, 1.5)
    history = await inv.store.read_stream(f"activity-{activity_id}")
    assert [e.type for e in history] == [
        "ActivityRecorded",
        "ActivityCorrected",
        "ActivityRetracted",
    ]
    again = await refused(inv.client.call(c.CORRECT, correction(activity_id, 2), INTEGRATOR))
    assert (again.code, again.field) == ("activity_retracted", "activity_id")
    assert await inv.client.call(c.GET, c.GetActivity(activity_id=activity_id), VIEWER) == retracted


async def test_keyed_corrections_and_retractions_answer_their_retries(inv: Running) -> None:
    activity_id = await record_one(inv)
    fix = correction(activity_id, 1.5, 1).model_copy(update={"idempotency_key": "fix-1"})
    first, concurrent = await asyncio.gather(  # two writers racing on one key
        inv.client.call(c.CORRECT, fix, INTEGRATOR), inv.client.call(c.CORRECT, fix, INTEGRATOR)
    )
    again = await inv.client.call(c.CORRECT, fix, INTEGRATOR)  # its expected version is past
    assert first == concurrent == again and first.version == 2
    other = fix.model_copy(update={"quantity": 9.0})
    reused = await refused(inv.client.call(c.CORRECT, other, INTEGRATOR))
    assert (reused.code, reused.field) == ("idempotency_key_reused", "idempotency_key")

    retract = c.RetractActivity(activity_id=activity_id, reason="dup", idempotency_key="rm-1")
    retracted = await inv.client.call(c.RETRACT, retract, INTEGRATOR)
    assert await inv.client.call(c.RETRACT, retract, INTEGRATOR) == retracted  # not refused
    history = await inv.store.read_stream(f"activity-{activity_id}")
    assert [e.type for e in history] == [
        "ActivityRecorded",
        "ActivityCorrected",
        "ActivityRetracted",
    ]


async def test_a_correction_in_the_wrong_dimension_is_refused(inv: Running) -> None:
    activity_id = await record_one(inv)
    bad = correction(activity_id, 3).model_copy(update={"unit": "km"})
    error = await refused(inv.client.call(c.CORRECT, bad, INTEGRATOR))
    assert (error.code, error.field) == ("invalid_unit", "unit")
    assert "[length]" in error.message


async def test_another_tenant_sees_nothing_and_changes_nothing(inv: Running) -> None:
    activity_id = await record_one(inv)
    get = inv.client.call(c.GET, c.GetActivity(activity_id=activity_id), OTHER_TENANT)
    assert (await refused(get)).code == "not_found"
    correct = inv.client.call(c.CORRECT, correction(activity_id, 1), OTHER_TENANT)
    assert ((error := await refused(correct)).code, error.field) == ("not_found", "activity_id")
    retract = c.RetractActivity(activity_id=activity_id, reason="mine now")
    assert (await refused(inv.client.call(c.RETRACT, retract, OTHER_TENANT))).code == "not_found"
    page = await inv.client.call(c.LIST, c.ListActivities(), OTHER_TENANT)
    assert page.items == [] and page.next_cursor is None
    assert (
        await inv.client.call(c.GET, c.GetActivity(activity_id=activity_id), VIEWER)
    ).version == 1


async def test_roles_are_checked_per_endpoint(inv: Running) -> None:
    error = await refused(inv.client.call(c.RECORD, batch("r", GOOD), VIEWER))
    assert (error.code, error.field) == ("forbidden", "Empreinte-Role")
    activity_id = await record_one(inv)
    compliance = VIEWER.__class__(tenant_id="acme", role="compliance")
    assert (
        await refused(inv.client.call(c.CORRECT, correction(activity_id, 1), compliance))
    ).code == "forbidden"
    assert (await inv.client.call(c.RECORD, batch("r", GOOD), ADMIN)).accepted == 1
    assert (await inv.client.call(c.LIST, c.ListActivities(), compliance)).items


async def test_cursor_pagination_walks_every_activity_once_with_filters(inv: Running) -> None:
    items = [{**GOOD, "quantity": i, "site": "lyon" if i % 2 else "paris"} for i in range(25)]
    await inv.client.call(c.RECORD, batch("p", *items), INTEGRATOR)
    seen: list[float] = []
    request = c.ListActivities(site="lyon", limit=5)
    while True:
        page = await inv.client.call(c.LIST, request, VIEWER)
        seen += [a.quantity for a in page.items]
        if page.next_cursor is None:
            break
        request = request.model_copy(update={"cursor": page.next_cursor})
    assert seen == [float(i) for i in range(1, 25, 2)]
    error = await refused(inv.client.call(c.LIST, c.ListActivities(cursor="nonsense"), VIEWER))
    assert (error.code, error.field) == ("invalid_cursor", "cursor")


async def test_list_filters_by_kind_region_status_and_overlapping_period(inv: Running) -> None:
    kept = await record_one(
        inv, region="GBR-LND", period_start="2025-03-01", period_end="2025-04-01"
    )
    await record_one(inv, region="GBR-LND", kind="natural_gas_net_cv")
    await record_one(inv)
    query = c.ListActivities(
        kind="electricity",
        region="GBR-LND",
        status="recorded",
        period_start=date(2025, 3, 15),
        period_end=date(2025, 3, 16),
    )
    page = await inv.client.call(c.LIST, query, VIEWER)
    assert [a.activity_id for a in page.items] == [kept]


async def test_ten_thousand_items_go_in_as_one_append(inv: Running) -> None:
    defaults = {k: v for k, v in GOOD.items() if k != "quantity"}
    request = c.RecordActivities(
        idempotency_key="big",
        defaults=defaults,
        activities=[{"quantity": i} for i in range(10_000)],
    )
    outcome = await inv.client.call(c.RECORD, request, INTEGRATOR)

    assert (outcome.accepted, outcome.rejected) == (10_000, [])
    events = await inv.store.read_all(limit=20_000)
    assert len(events) == 10_000 and len({e.recorded_at for e in events}) == 1
    assert [e.global_position for e in events] == list(range(1, 10_001))
    page = await inv.client.call(c.LIST, c.ListActivities(limit=1000), VIEWER)
    assert len(page.items) == 1000 and page.next_cursor is not None


async def test_two_corrections_at_the_same_version_one_wins(inv: Running) -> None:
    activity_id = await record_one(inv)
    results = await asyncio.gather(
        inv.client.call(c.CORRECT, correction(activity_id, 2, 1), INTEGRATOR),
        inv.client.call(c.CORRECT, correction(activity_id, 3, 1), INTEGRATOR),
        return_exceptions=True,
    )
    [winner] = [r for r in results if isinstance(r, c.ActivityView)]
    [loser] = [r for r in results if isinstance(r, RemoteError)]
    assert winner.version == 2
    assert (loser.code, loser.field) == ("concurrency_conflict", "expected_version")
    assert "at version 2, not 1" in loser.message
    assert len(await inv.store.read_stream(f"activity-{activity_id}")) == 2


async def test_the_read_model_rebuilds_identically_from_the_log(inv: Running) -> None:
    activity_id = await record_one(inv)
    await inv.client.call(c.CORRECT, correction(activity_id, 7), INTEGRATOR)
    await inv.client.call(c.RECORD, batch("x", GOOD, GOOD), INTEGRATOR)
    before = await inv.client.call(c.LIST, c.ListActivities(), VIEWER)

    assert await rebuild(inv.store, [Ledger(inv.store.schema)]) == 4

    assert await inv.client.call(c.LIST, c.ListActivities(), VIEWER) == before


async def test_a_page_of_large_activities_stops_short_and_the_cursor_goes_on(
    inv: Running,
) -> None:
    bulky = {**GOOD, "attributes": {"note": "x" * 4000}}
    await inv.client.call(c.RECORD, batch("bulky", *[bulky] * 200), INTEGRATOR)
    first = await inv.client.call(c.LIST, c.ListActivities(limit=1000), VIEWER)
    assert 100 < len(first.items) < 200 and first.next_cursor is not None
    rest = await inv.client.call(
        c.LIST, c.ListActivities(limit=1000, cursor=first.next_cursor), VIEWER
    )
    assert len(first.items) + len(rest.items) == 200 and rest.next_cursor is None
