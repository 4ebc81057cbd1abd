"""The XLSX workbook for compliance staff: E1-6, E1-5, all datapoints, provenance."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.compute import E1Report
from services.reporting.csrd.datapoints import Datapoint
from services.reporting.csrd.tabular import COLUMNS, row

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1B6B5A")
FactRow = list[str | int | float | None]


def write_xlsx(report: E1Report, facts: list[Datapoint], path: Path) -> None:
    """Sheets: the E1-6 and E1-5 tables (reporting and base year side by side), every
    datapoint with its exact value, and the provenance."""
    workbook = Workbook()
    e1_6 = workbook.active
    assert e1_6 is not None
    e1_6.title = "E1-6 GHG emissions"
    base = report.source.base_year
    header = _table_header(report.source.year, None if base is None else base.year)
    _fill(e1_6, header, _table_rows(facts, "E1-6"))
    _fill(workbook.create_sheet("E1-5 Energy"), header, _table_rows(facts, "E1-5"))
    rows: list[FactRow] = [list(row(f).values()) for f in facts]
    _fill(workbook.create_sheet("Datapoints"), list(COLUMNS), rows)
    _fill(workbook.create_sheet("Provenance"), ["Item", "Value"], _provenance(report))
    workbook.save(path)
    _pin_time(path, report.source.lineage.as_of)


def _table_header(year: int, base_year: int | None) -> list[str]:
    base = "" if base_year is None else f"Base year {base_year}"
    return ["Datapoint", "Concept", "Scope 3 category", base, str(year), "Min", "Max", "Unit"]


def _table_rows(facts: list[Datapoint], standard: str) -> list[FactRow]:
    """One row per line item; base-year facts go in their own column of the same row."""
    by_key = {fact.key: fact for fact in facts if fact.datapoint_id.startswith(standard)}
    items = dict.fromkeys(key.removesuffix("-base") for key in by_key)
    return [_table_row(by_key.get(item), by_key.get(item + "-base")) for item in items]


def _table_row(current: Datapoint | None, base: Datapoint | None) -> FactRow:
    fact = current or base
    assert fact is not None
    category = [m.removesuffix("Member") for a, m in fact.dimensions if a == tx.SCOPE3_AXIS]
    return [
        fact.datapoint_id,
        fact.concept,
        ", ".join(category),
        None if base is None else _number(base.value),
        None if current is None else _number(current.value),
        None if current is None else _number(current.minimum),
        None if current is None else _number(current.maximum),
        fact.unit,
    ]


def _number(value: Decimal | None) -> float | int | None:
    # Excel stores doubles; the exact decimal strings are in the Datapoints sheet.
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _provenance(report: E1Report) -> list[FactRow]:
    src = report.source
    lineage = src.lineage
    rows: list[FactRow] = [
        ["Organisation", src.organisation.name],
        ["Identifier", f"{src.organisation.scheme} {src.organisation.identifier}"],
        ["Period", f"{src.period_start.isoformat()} to {src.period_end.isoformat()}"],
        ["As of", lineage.as_of.isoformat()],
        ["Content hash", lineage.content_hash],
    ]
    rows += [[f"Position of {log}", pos] for log, pos in sorted(lineage.positions.items())]
    rows += [["Note", note] for note in lineage.notes]
    return rows


def _fill(sheet: Worksheet, header: list[str], rows: list[FactRow]) -> None:
    sheet.append(header)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for values in rows:
        sheet.append(values)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)


def _pin_time(path: Path, instant: datetime) -> None:
    """openpyxl stamps the time of saving into docProps/core.xml and every zip entry; a
    report is a function of its input, so both become the figures' as-of instant."""
    moment = instant.astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            info = zipfile.ZipInfo(name, moment.timetuple()[:6])
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
