"""Rows of an XLSX sheet for `empreinte import`, streamed (openpyxl's read-only mode).

The first row names the columns; each later non-empty row is one item. Dates become ISO
dates, formulas their last computed value (as saved by the spreadsheet), empty cells are
left out. Memory stays bounded: read-only mode parses the sheet as it is iterated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from contracts.inventory import Rejection

Row = dict[str, Any] | Rejection


class SheetNotFound(ValueError):
    """The workbook has no sheet of the name asked for."""


def xlsx_rows(path: Path, sheet: str | None, progress: Callable[[float], None]) -> Iterator[Row]:
    """Each data row of `sheet` (the first one when None) as {column: value}, in order.

    `progress` hears the fraction of the sheet's rows read so far (0 to 1)."""
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from _sheet_rows(book, path, sheet, progress)
    finally:
        book.close()


def _sheet_rows(
    book: Any, path: Path, sheet: str | None, progress: Callable[[float], None]
) -> Iterator[Row]:
    if sheet is not None and sheet not in book.sheetnames:
        raise SheetNotFound(
            f"{path.name} has no sheet {sheet!r}; it has {', '.join(book.sheetnames)}"
        )
    found = book[sheet] if sheet is not None else book.worksheets[0]
    rows = found.iter_rows(values_only=True)
    header = [None if c is None else str(c).strip() for c in next(rows, ())]
    total = max(1, (found.max_row or 1) - 1)
    index = 0
    for number, cells in enumerate(rows, start=1):
        progress(min(1.0, number / total))
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        yield _row(index, header, cells)
        index += 1


def _row(index: int, header: list[str | None], cells: tuple[Any, ...]) -> Row:
    beyond = [c for c in cells[len(header) :] if c is not None]
    if beyond:
        reason = f"{len(header) + len(beyond)} values for {len(header)} named columns"
        return Rejection(index=index, field="(row)", reason=reason)
    return {
        name: _value(cell)
        for name, cell in zip(header, cells, strict=False)
        if name and cell is not None and not (isinstance(cell, str) and not cell.strip())
    }


def _value(cell: Any) -> Any:
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return cell.strip() if isinstance(cell, str) else cell
