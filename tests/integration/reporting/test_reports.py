"""CSRD reports from the ledger, on real PostgreSQL, NATS and its object store."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.endpoints import CallContext
from kernel.errors import RequestRefused
from kernel.runtime import call_context
from tests.integration.reporting.test_csrd_arelle import arelle_messages, blocking
from tests.integration.reporting.test_footprint import Setup, cause, emission, line, running

ACME = CallContext(tenant_id="acme", role="compliance", actor="claire")
GLOBEX = CallContext(tenant_id="globex", role="compliance")
ORG = r.Organisation(name="Acme SAS", identifier="9695005EMPREINTE0004")
MIX = r.Mix(fossil=0.1, nuclear=0.7, renewable=0.2)


def request(**changes: object) -> r.GenerateReport:
    base = r.GenerateReport(
        organisation=ORG,
        period_start=date(2024, 1, 1),
        period_end=date(2025, 1, 1),
        base_year=2023,
        net_revenue_eur=2_000_000,
        significant_scope3=[1, 3],
        electricity_mix=MIX,
    )
    return base.model_copy(update=changes)


@pytest.fixture
async def ledger(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    """A year of Acme: electricity, gas, diesel, cloud, software; and a base year."""
    async with running(engine, nats_client, namespace) as ready:
        items = [
            ([line(5000, 2, quantity=100_000, basis="location"),
              line(1000, 3, "upstream", 3, quantity=100_000)], "offices", "electricity", 2024),
            ([line(36000, 1, "combustion", quantity=200_000)], "offices", "natural_gas_gross_cv",
             2024),
            ([line(2500, 1, "combustion", quantity=1000, unit="liter")], "offices", "diesel_fuel",
             2024),
            ([line(12000, 3, "total", 1, quantity=5000, unit="hour")], "cloud",
             "cloud_instance_usage", 2024),
            ([line(30000, 3, "total", 1, quantity=60000, unit="EUR")], "purchases",
             "spend_software_it_services", 2024),
            ([line(8000, 2, quantity=160_000, basis="location")], "offices", "electricity", 2023),
        ]  # fmt: skip
        for lines, post, kind, year in items:
            source = uuid.uuid4()
            made = emission(source, lines, post=post, kind=kind, year=year)
            await ready.emit(c.EmissionCalculated(emission=made, cause=cause()), source, ACME)
        yield ready


async def fetched(setup: Setup, object_name: str) -> bytes:
    store = await setup.reporting.nc.jetstream().object_store(r.reports_bucket(setup.namespace))
    found = await store.get(object_name)
    assert found.data is not None
    return found.data


def datapoints(document: bytes) -> dict[str, str]:
    return {p["key"]: p["value"] for p in json.loads(document)["datapoints"]}


async def test_a_report_is_built_from_the_ledger_and_stored(ledger: Setup) -> None:
    view = await ledger.reporting.generate_report(ACME, request())

    assert [f.name for f in view.files] == [
        "esrs-e1.xhtml", "esrs-e1.json", "esrs-e1.csv", "esrs-e1.xlsx"
    ]  # fmt: skip
    for file in view.files:
        assert file.object_name == f"acme/{view.report_id}/{file.name}"
        data = await fetched(ledger, file.object_name)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (file.sha256, file.size)
    facts = datapoints(await fetched(ledger, view.files[1].object_name))
    assert facts["E1-6_01.scope1"] == "38.5"  # gas 36 t + diesel 2.5 t
    assert facts["E1-6_09.scope2-location"] == facts["E1-6_10.scope2-market"] == "5.0"
    assert facts["E1-6_11.scope3-cat1"] == "42.0" and facts["E1-6_11.scope3-cat1.1"] == "12.0"
    assert facts["E1-6_11.scope3-cat3"] == "1.0"
    assert facts["E1-6_09.scope2-location-base"] == "8.0"
    # 100 MWh of electricity split 10/70/20; 200 MWh gross of gas is 180 MWh net; 1000 l of
    # diesel is 10.03 MWh.
    assert facts["E1-5_01.energy-total"] == "290.0"
    assert (facts["E1-5_12.fossil-gas"], facts["E1-5_11.fossil-oil"]) == ("180.0", "10.0")
    assert (facts["E1-5_14.fossil-purchased"], facts["E1-5_03.energy-nuclear"]) == ("10.0", "70.0")
    assert facts["E1-5_07.renewable-purchased"] == "20.0"

    assert view.positions == {"compute": 6} and view.actor == "claire"
    # The factor releases and the methods behind the figures, for the auditor.
    assert (view.releases, view.methods) == (["ademe"], ["activity-factor 1"])
    assert any("market-based Scope 2 is reported equal to location-based" in n for n in view.notes)
    lineage = json.loads(await fetched(ledger, view.files[1].object_name))["lineage"]
    assert lineage["content_hash"] == view.content_hash and lineage["notes"] == view.notes
    assert await ledger.reporting.get_report(ACME, r.GetReport(report_id=view.report_id)) == view


async def test_a_report_from_the_ledger_validates_against_the_taxonomy(
    ledger: Setup, tmp_path: Path
) -> None:
    view = await ledger.reporting.generate_report(ACME, request())
    path = tmp_path / view.files[0].name
    path.write_bytes(await fetched(ledger, view.files[0].object_name))
    messages = await asyncio.to_thread(arelle_messages, path, True)
    assert any(m["messageCode"].startswith("message:ea_") for m in messages)  # the DTS loaded
    assert blocking(messages) == []


async def test_generating_again_at_the_same_position_gives_the_same_bytes(ledger: Setup) -> None:
    first = await ledger.reporting.generate_report(ACME, request())
    source = uuid.uuid4()
    later = emission(
        source, [line(1000, 1, "combustion", quantity=5000)], kind="natural_gas_net_cv"
    )
    await ledger.emit(c.EmissionCalculated(emission=later, cause=cause()), source, ACME)

    pinned = request(as_of=r.AsOf(position=first.positions["compute"]))
    again = await ledger.reporting.generate_report(ACME, pinned)
    now = await ledger.reporting.generate_report(ACME, request())

    assert again.report_id != first.report_id
    assert [(f.name, f.sha256, f.size) for f in again.files] == [
        (f.name, f.sha256, f.size) for f in first.files
    ]
    for old, new in zip(first.files, again.files, strict=True):
        assert await fetched(ledger, old.object_name) == await fetched(ledger, new.object_name)
    assert (again.content_hash, again.as_of) == (first.content_hash, first.as_of)
    assert now.content_hash != first.content_hash and now.positions == {"compute": 7}

    page = await ledger.reporting.list_reports(ACME, r.ListReports(limit=2))
    assert [v.report_id for v in page.items] == [now.report_id, again.report_id]
    rest = await ledger.reporting.list_reports(ACME, r.ListReports(limit=2, after=page.next))
    assert [v.report_id for v in rest.items] == [first.report_id] and rest.next is None
    assert (await ledger.reporting.list_reports(GLOBEX, r.ListReports())).items == []


async def test_a_report_generated_again_with_its_key_is_the_first_one(ledger: Setup) -> None:
    keyed = request(idempotency_key="e1-2024")
    first, concurrent = await asyncio.gather(  # two writers racing on one key
        ledger.reporting.generate_report(ACME, keyed),
        ledger.reporting.generate_report(ACME, keyed),
    )
    again = await ledger.reporting.generate_report(ACME, keyed)

    assert first == concurrent == again
    store = await ledger.reporting.nc.jetstream().object_store(r.reports_bucket(ledger.namespace))
    # the race's loser built and stored its files too, then removed them
    kept = await store.list(ignore_deletes=True)
    assert {o.name for o in kept} == {f.object_name for f in first.files}
    generated = [e for e in await ledger.reporting.store.read_all()
                 if e.type == r.ReportGenerated.event_type]  # fmt: skip
    assert len(generated) == 1
    page = await ledger.reporting.list_reports(ACME, r.ListReports())
    assert [v.report_id for v in page.items] == [first.report_id]
    with pytest.raises(RequestRefused) as refused:
        await ledger.reporting.generate_report(
            ACME, request(idempotency_key="e1-2024", base_year=None)
        )
    assert (refused.value.code, refused.value.field) == (
        "idempotency_key_reused",
        "idempotency_key",
    )
    unkeyed = await ledger.reporting.generate_report(ACME, request())
    assert unkeyed.report_id != first.report_id


async def test_refusals_name_the_field(ledger: Setup) -> None:
    cases = [
        (request(electricity_mix=None), "missing_energy_mix", "electricity_mix"),
        (request(significant_scope3=[1, 6]), "no_figure", "significant_scope3"),
        (request(period_end=date(2024, 1, 1)), "invalid_period", "period_end"),
        (
            request(organisation=ORG.model_copy(update={"identifier": "nope"})),
            "invalid_identifier",
            "organisation.identifier",
        ),
        (request(as_of=r.AsOf(position=0)), "empty_ledger", "as_of"),
        (request(as_of=r.AsOf(position=99)), "position_ahead", "as_of.position"),
        (request(electricity_mix=r.Mix(fossil=0.5, nuclear=0.5, renewable=0.5)), "invalid_mix",
         "electricity_mix"),
        # A period with nothing recorded is said, not exported as an empty valid-looking file.
        (request(period_start=date(2019, 1, 1), period_end=date(2020, 1, 1)), "no_data",
         "period_start"),
    ]  # fmt: skip
    for bad, code, field in cases:
        with pytest.raises(RequestRefused) as refused:
            await ledger.reporting.generate_report(ACME, bad)
        assert (refused.value.code, refused.value.field) == (code, field)
    with pytest.raises(RequestRefused) as missing:
        await ledger.reporting.get_report(GLOBEX, r.GetReport(report_id=uuid.uuid4()))
    assert (missing.value.code, missing.value.field) == ("not_found", "report_id")


def test_only_compliance_and_admin_generate_reports() -> None:
    headers = {"Empreinte-Tenant": "acme", "Empreinte-Role": "viewer"}
    with pytest.raises(RequestRefused) as refused:
        call_context(headers, r.GENERATE_REPORT.roles)
    assert refused.value.code == "forbidden"
    for role in ("compliance", "admin"):
        call_context({**headers, "Empreinte-Role": role}, r.GENERATE_REPORT.roles)
