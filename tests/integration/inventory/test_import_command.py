from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from contracts import inventory as c
from empreinte_cli.inventory_commands import import_file, inventory_app
from tests.integration.inventory.conftest import GOOD, INTEGRATOR, VIEWER, Running

HEADER = "type,amount,unit,period_start,period_end,site,region,invoice\n"
ROWS = [
    "electricity,1200,kWh,2025-01-01,2025-02-01,paris-hq,FRA,F-1\n",
    "electricity,12,km,2025-01-01,2025-02-01,paris-hq,FRA,F-2\n",
    'natural_gas_net_cv,"3,5",kWh,2025-01-01,2025-02-01,paris-hq,FRA,F-3\n',
    "train_intercity,640,km,2025-01-03,2025-01-04,lyon,FRA,\n",
    "electricity,80,MWh,2025-01-01,2025-02-01,london,GBR-LND,F-5\n",
]


def cli() -> typer.Typer:
    """The command as `empreinte_cli.main` mounts it."""
    app = typer.Typer()
    app.callback()(lambda: None)
    app.add_typer(inventory_app)
    return app


async def test_the_import_command_sends_a_csv_and_writes_the_rejects(
    inv: Running, nats_url: str, tmp_path: Path
) -> None:
    source, rejects = tmp_path / "activities.csv", tmp_path / "rejects.csv"
    source.write_text(HEADER + "".join(ROWS))
    args = ["import", str(source), "--tenant", "acme", "--rejects", str(rejects),
            "--mapping", "type=kind", "--mapping", "amount=quantity"]  # fmt: skip
    env = {"NATS_URL": nats_url, "EMPREINTE_NAMESPACE": inv.namespace}

    result = await asyncio.to_thread(CliRunner().invoke, cli(), args, env=env)

    assert result.exit_code == 1, result.output
    assert "accepted: 3, rejected: 2" in result.output
    with rejects.open() as file:
        written = list(csv.DictReader(file))
    assert [(r["index"], r["field"]) for r in written] == [("1", "unit"), ("2", "quantity")]
    assert "[length]" in written[0]["reason"]
    page = await inv.client.call(c.LIST, c.ListActivities(), VIEWER)
    assert [(a.site, a.attributes) for a in page.items] == [
        ("paris-hq", {"invoice": "F-1"}),
        ("lyon", {}),
        ("london", {"invoice": "F-5"}),
    ]


async def test_a_bad_mapping_is_refused_before_anything_is_sent(
    inv: Running, nats_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.csv"
    source.write_text(HEADER)
    args = ["import", str(source), "--tenant", "acme", "--mapping", "type=sort"]
    env = {"NATS_URL": nats_url, "EMPREINTE_NAMESPACE": inv.namespace}
    result = await asyncio.to_thread(CliRunner().invoke, cli(), args, env=env)
    assert result.exit_code == 2
    assert "type=sort" in result.output
    assert await inv.store.head_position() == 0


async def test_ndjson_streams_in_batches_and_a_rerun_stores_nothing(
    inv: Running, tmp_path: Path
) -> None:
    lines = [json.dumps({**GOOD, "quantity": i}) for i in range(120)]
    lines.insert(7, "{not json")
    source = tmp_path / "activities.ndjson"
    source.write_text("\n".join(lines) + "\n")

    summary = await import_file(inv.client, INTEGRATOR, source, {}, max_bytes=16_000)

    assert summary.accepted == 120
    assert [(r.index, r.field) for r in summary.rejected] == [(7, "(row)")]
    events = await inv.store.read_all(limit=1000)
    assert len({e.recorded_at for e in events}) == 2  # ~80 rows fit in 16 kB less the envelope
    again = await import_file(inv.client, INTEGRATOR, source, {}, max_bytes=16_000)
    assert again.accepted == 120 and await inv.store.head_position() == 120


@pytest.mark.parametrize("answer_limit", [6_000])
async def test_a_batch_with_too_many_rejections_to_answer_goes_in_halves(
    inv: Running, tmp_path: Path
) -> None:
    rows = [{**GOOD, "quantity": i, "unit": "km" if i % 3 == 0 else "kWh"} for i in range(90)]
    source = tmp_path / "mostly.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))

    summary = await import_file(inv.client, INTEGRATOR, source, {})

    assert summary.accepted == 60
    assert [r.index for r in summary.rejected] == list(range(0, 90, 3))
    assert {r.field for r in summary.rejected} == {"unit"}
    assert await inv.store.head_position() == 60


async def test_an_xlsx_sheet_is_imported_row_by_row_with_dates_and_formulas(
    inv: Running, nats_url: str, tmp_path: Path
) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("bills")
    sheet.append(["type", "amount", "unit", "period_start", "period_end", "site", "region"])
    sheet.append(["electricity", 1200, "kWh", datetime(2025, 1, 1), datetime(2025, 2, 1),
                  "paris-hq", "FRA"])  # fmt: skip
    sheet.append([None] * 7)  # a blank row in between is no item
    sheet.append(["electricity", -5, "kWh", "2025-01-01", "2025-02-01", "paris-hq", "FRA"])
    sheet.append(["electricity", "=B2*2", "kWh", "2025-02-01", "2025-03-01", "lyon", "FRA"])
    source, rejects = tmp_path / "bills.xlsx", tmp_path / "rejects.csv"
    book.save(source)
    args = ["import", str(source), "--tenant", "acme", "--sheet", "bills", "--rejects",
            str(rejects), "--mapping", "type=kind", "--mapping", "amount=quantity"]  # fmt: skip
    env = {"NATS_URL": nats_url, "EMPREINTE_NAMESPACE": inv.namespace}

    result = await asyncio.to_thread(CliRunner().invoke, cli(), args, env=env)

    assert result.exit_code == 1, result.output
    assert "accepted: 1, rejected: 2" in result.output
    with rejects.open() as file:
        written = [(r["index"], r["field"]) for r in csv.DictReader(file)]
    # openpyxl never computes formulas: a formula's value is the one the spreadsheet saved,
    # and a file written by openpyxl has none, so that row lacks its quantity
    assert written == [("1", "quantity"), ("2", "quantity")]
    page = await inv.client.call(c.LIST, c.ListActivities(), VIEWER)
    assert [(a.quantity, a.period_start.isoformat()) for a in page.items] == [(1200, "2025-01-01")]
    missing = await asyncio.to_thread(
        CliRunner().invoke, cli(), [*args[:4], "--sheet", "nope"], env=env
    )
    assert missing.exit_code == 2 and "no sheet 'nope'" in missing.output
