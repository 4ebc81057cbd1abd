"""The datapoints and the files built from them: XHTML, JSON, CSV, XLSX."""

from __future__ import annotations

import csv
import dataclasses
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.reporting.csrd import Datapoint, compute_report, datapoints, write_report
from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.document import render_document
from services.reporting.csrd.model import Energy
from services.reporting.csrd.sample import sample_input

IX = "{http://www.xbrl.org/2013/inlineXBRL}"
XBRLI = "{http://www.xbrl.org/2003/instance}"
XBRLDI = "{http://xbrl.org/2006/xbrldi}"
D = Decimal


@pytest.fixture(scope="module")
def facts() -> list[Datapoint]:
    return datapoints(compute_report(sample_input()))


@pytest.fixture(scope="module")
def xhtml(facts: list[Datapoint]) -> ET.Element:
    return ET.fromstring(render_document(compute_report(sample_input()), facts).encode())


def test_keys_are_unique_and_ids_are_efrags(facts: list[Datapoint]) -> None:
    assert len({fact.key for fact in facts}) == len(facts)
    assert all(fact.datapoint_id == tx.DATAPOINT_IDS[fact.concept] for fact in facts)
    assert {f.datapoint_id for f in facts} >= {"E1-6_01", "E1-6_11", "E1-6_30", "E1-5_01"}


def test_scope3_members_come_from_the_fixed_list(facts: list[Datapoint]) -> None:
    members = {member for f in facts for axis, member in f.dimensions if axis == tx.SCOPE3_AXIS}
    assert members <= set(tx.SCOPE3_MEMBERS.values())
    assert "Category11CloudComputingAndDataCentreServicesMember" in members


def test_base_year_facts_carry_the_baseline_member_and_period(facts: list[Datapoint]) -> None:
    base = [f for f in facts if (tx.BASELINE_AXIS, tx.BASELINE_MEMBER) in f.dimensions]
    assert base and all(f.key.endswith("-base") for f in base)
    assert {(f.period_start.isoformat(), f.period_end.isoformat()) for f in base} == {
        ("2022-01-01", "2022-12-31")
    }


def test_every_fact_is_tagged_once_with_its_value(
    facts: list[Datapoint], xhtml: ET.Element
) -> None:
    tagged = {node.get("id"): node for node in xhtml.iter(f"{IX}nonFraction")}
    assert len(tagged) == len(facts) == len(list(xhtml.iter(f"{IX}nonFraction")))
    for fact in facts:
        node = tagged[fact.key]
        shown = Decimal((node.text or "").replace(",", ""))
        assert shown.scaleb(int(node.get("scale", "0"))) == fact.value, fact.key
        assert node.get("name") == f"esrs:{fact.concept}"
        assert node.get("decimals") == str(fact.decimals)


def test_contexts_put_dimensions_in_the_scenario(xhtml: ET.Element) -> None:
    contexts = list(xhtml.iter(f"{XBRLI}context"))
    assert not list(xhtml.iter(f"{XBRLI}segment"))
    members = [m.text for m in xhtml.iter(f"{XBRLDI}explicitMember")]
    assert "esrs:BaselineYearMember" in members
    assert len({c.get("id") for c in contexts}) == len(contexts)


def test_units_are_the_utr_ones(xhtml: ET.Element) -> None:
    measures = {m.text for m in xhtml.iter(f"{XBRLI}measure")}
    assert measures == {"utr:tCO2e", "utr:MWh", "xbrli:pure", "iso4217:EUR"}
    assert len(list(xhtml.iter(f"{XBRLI}divide"))) == 1


def test_written_files_agree(tmp_path: Path, facts: list[Datapoint]) -> None:
    files = write_report(sample_input(), tmp_path)
    document = json.loads(files.paths["json"].read_text(encoding="utf-8"))
    assert [row["key"] for row in document["datapoints"]] == [f.key for f in facts]
    assert document["lineage"]["positions"] == {
        "compute": 48213,
        "factors": 1290,
        "inventory": 50771,
    }
    with files.paths["csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["value"] for row in rows] == [str(f.value) for f in facts]
    assert rows[0]["datapoint_id"] == "E1-6_01" and rows[0]["decimals"] == "1"
    book = load_workbook(files.paths["xlsx"])
    assert book.sheetnames == ["E1-6 GHG emissions", "E1-5 Energy", "Datapoints", "Provenance"]
    assert book["Datapoints"].max_row == len(facts) + 1
    assert set(files.sha256) == {"xhtml", "json", "csv", "xlsx"}


def test_a_report_without_options_has_no_base_year_and_no_detail() -> None:
    source = sample_input()
    bare = dataclasses.replace(
        source,
        base_year=None,
        scope1_ets_share=None,
        biogenic_co2=None,
        by_post={},
        energy=Energy(D(1000), D(600), D(0), D(400)),
    )
    facts = datapoints(compute_report(bare))
    concepts = {fact.concept for fact in facts}
    assert tx.ETS_SHARE not in concepts and tx.FOSSIL_DETAIL[0] not in concepts
    assert not any(fact.key.endswith("-base") for fact in facts)
    root = ET.fromstring(render_document(compute_report(bare), facts).encode())
    assert len(list(root.iter(f"{IX}nonFraction"))) == len(facts)
