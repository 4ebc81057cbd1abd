"""A report is a function of its input: no clock time in its files, a stable content hash."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from services.reporting.csrd import write_report
from services.reporting.csrd.sample import sample_input
from services.reporting.generate import content_hash


def test_the_workbook_carries_the_as_of_instant_not_the_time_of_writing(tmp_path: Path) -> None:
    source = sample_input()
    written = write_report(source, tmp_path)
    with zipfile.ZipFile(written.paths["xlsx"]) as workbook:
        core = workbook.read("docProps/core.xml").decode()
        stamps = {info.date_time for info in workbook.infolist()}
    assert core.count("2026-02-15T09:30:00Z") == 2  # created and modified
    assert stamps == {(2026, 2, 15, 9, 30, 0)}


def test_the_content_hash_covers_the_figures_not_the_lineage() -> None:
    source = sample_input()
    elsewhere = replace(source, lineage=replace(source.lineage, positions={"compute": 1}))
    assert content_hash(source) == content_hash(elsewhere)
    assert content_hash(source).startswith("sha256:")
    richer = replace(source, net_revenue=source.net_revenue + Decimal(1))
    assert content_hash(richer) != content_hash(source)


def test_notes_reach_every_format(tmp_path: Path) -> None:
    source = sample_input()
    noted = replace(source, lineage=replace(source.lineage, notes=("Market equals location.",)))
    written = write_report(noted, tmp_path)
    for kind in ("xhtml", "json"):
        assert "Market equals location." in written.paths[kind].read_text()
    with zipfile.ZipFile(written.paths["xlsx"]) as workbook:
        assert any(b"Market equals location." in workbook.read(n) for n in workbook.namelist())
