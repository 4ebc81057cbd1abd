"""A request log's schema check: its columns, then every row, batch by batch.

Pure: record batches in, a `LogCheck` out. The row rules are the contract's
(contracts.request_log_rows), so compute skips exactly the rows counted here as rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pyarrow as pa

from contracts import request_log_rows as rows
from contracts.inventory import MAX_ROW_ERRORS, BadRows, LogCheck, RowError
from kernel.errors import RequestRefused

LISTED = 10  # row errors a refusal's message spells out


def check_log(
    batches: Iterable[pa.RecordBatch], period: tuple[date, date], bad_rows: BadRows
) -> LogCheck:
    """The check of every row; `RequestRefused` for a file without the columns it needs."""
    checked = rejected = 0
    errors: list[RowError] = []
    for batch in batches:
        _refuse_on_columns(batch.schema.names)
        verdict = rows.check_batch(batch, checked + 1, period, MAX_ROW_ERRORS - len(errors))
        errors += [RowError(row=p.row, column=p.column, reason=p.reason) for p in verdict.problems]
        checked += batch.num_rows
        rejected += batch.num_rows - int(verdict.valid.sum())
    if checked == 0:
        raise RequestRefused("invalid_format", "the file holds no rows", "format")
    found = LogCheck(
        rules=rows.RULES,
        bad_rows=bad_rows,
        rows_checked=checked,
        rows_rejected=rejected,
        first_errors=errors,
    )
    return found


def refuse_bad_rows(check: LogCheck) -> None:
    """Refuse a file with bad rows unless its sender accepts them (then they are skipped)."""
    if check.rows_rejected == 0 or check.bad_rows == "accept":
        return
    first = check.first_errors[0]
    listed = "; ".join(f"row {e.row}, {e.column}: {e.reason}" for e in check.first_errors[:LISTED])
    raise RequestRefused(
        "invalid_rows",
        f"{check.rows_rejected} of {check.rows_checked} rows are invalid, so the file is "
        f"refused and removed (send it with bad_rows=accept to skip them): {listed}",
        f"rows.{first.row}.{first.column}",
    )


def _refuse_on_columns(names: list[str]) -> None:
    problems = rows.column_problems(names)
    if problems:
        column, reason = problems[0]
        raise RequestRefused("invalid_columns", f"{column}: {reason}", column)
