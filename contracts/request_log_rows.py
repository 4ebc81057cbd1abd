"""The row rules of a request log, shared by inventory (which checks) and compute (which skips).

A request log has the columns bytes, client_country, server_country or cloud_region and
device; exec_ms, count and timestamp or period are optional. A row is valid when every one
of its values is: bytes and count finite numbers >= 0; exec_ms empty or a finite number
>= 0; countries ISO 3166-1 alpha-3 codes; cloud_region text; device one of `DEVICES`;
timestamp an ISO 8601 date-time within the declared period; period text. Rows are numbered
from 1, the first data row. Pure: pyarrow batches in, masks and problems out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contracts.regions import COUNTRIES

RULES = "request-log-rows/1"  # bump when a rule changes: events name the rules they applied
DEVICES = ("smartphone", "laptop", "desktop")  # compute's terminal archetypes (METHODS §2)
NUMBERS = ("bytes", "count", "exec_ms")
SERVER_COLUMNS = ("server_country", "cloud_region")
TIME_COLUMNS = ("timestamp", "period")
Mask = np.ndarray[Any, np.dtype[np.bool_]]
SHOWN = 60  # characters of a bad value a reason quotes
Reason = Callable[[int], str]  # why the value at a row of the batch is bad


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based, in the whole file
    column: str
    reason: str


@dataclass(frozen=True)
class BatchVerdict:
    valid: Mask
    problems: list[RowProblem]  # the first ones, at most the limit asked for


def shown(value: object) -> str:
    """A value as a reason quotes it, cut short: a row error must stay small."""
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 5]}...{text[-1]}"


def column_problems(names: Iterable[str]) -> list[tuple[str, str]]:
    """(column, reason) for each column the file lacks or has in excess; [] when fine."""
    present = set(names)
    problems = [(n, "missing column") for n in ("bytes", "client_country", "device")]
    problems = [p for p in problems if p[0] not in present]
    for group in (SERVER_COLUMNS, TIME_COLUMNS):
        if set(group) <= present:
            problems.append((" or ".join(group), "give one of these columns, not both"))
    if not present & set(SERVER_COLUMNS):
        problems.append(("server_country or cloud_region", "missing column"))
    return problems


def check_batch(
    batch: pa.RecordBatch, first_row: int, period: tuple[date, date], limit: int
) -> BatchVerdict:
    """Which rows of `batch` (file row `first_row` onwards) are valid; the first problems."""
    found = [(name, *_column_check(batch, name, period)) for name in batch.schema.names]
    bad = np.zeros(batch.num_rows, dtype=np.bool_)
    for _, mask, _ in found:
        bad |= mask
    problems: list[RowProblem] = []
    for row in np.flatnonzero(bad)[:limit]:
        problems += [
            RowProblem(first_row + int(row), n, why(int(row))) for n, m, why in found if m[row]
        ]
    return BatchVerdict(~bad, problems[:limit])


def keep_valid(batch: pa.RecordBatch, period: tuple[date, date]) -> pa.RecordBatch:
    """The valid rows of `batch`, with its number columns as float64 (as compute reads them)."""
    verdict = check_batch(batch, 1, period, limit=0)
    columns = {n: _as_floats(batch.column(n))[0] if n in NUMBERS else batch.column(n)
               for n in batch.schema.names}  # fmt: skip
    return pa.RecordBatch.from_pydict(columns).filter(pa.array(verdict.valid))


def _column_check(
    batch: pa.RecordBatch, name: str, period: tuple[date, date]
) -> tuple[Mask, Reason]:
    values = batch.column(name)
    if name in NUMBERS:
        return _number_check(values, missing_allowed=name == "exec_ms")
    if name in ("client_country", "server_country"):
        return _text_check(values, lambda v: v.strip().upper() in COUNTRIES, _not_a_country)
    if name == "device":
        return _text_check(values, lambda v: v.strip().lower() in DEVICES, _not_a_device)
    if name == "timestamp":
        return _timestamp_check(values, period)
    if name in ("cloud_region", "period"):
        return _text_check(values, lambda v: bool(v.strip()), lambda v: "empty text")
    return np.zeros(len(values), dtype=np.bool_), str  # other columns are carried, unchecked


def _number_check(values: pa.Array, *, missing_allowed: bool) -> tuple[Mask, Reason]:
    numbers, parsed = _as_floats(values)
    array = numbers.to_numpy(zero_copy_only=False)
    missing = np.isnan(array) & parsed
    bad = ~parsed | np.isinf(array) | (array < 0)
    if not missing_allowed:
        bad |= missing

    def reason(row: int) -> str:
        if not parsed[row]:
            return f"not a number ({shown(values[row].as_py())})"
        if np.isnan(array[row]):
            return "missing (empty, null or NaN)"
        return "infinite" if np.isinf(array[row]) else f"negative ({array[row]:g})"

    return bad, reason


def _as_floats(values: pa.Array) -> tuple[pa.Array, Mask]:
    """float64 values (empty -> NaN) and which values were numbers or empty."""
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
        numbers = pc.cast(values, pa.float64())
        return numbers.fill_null(np.nan), np.ones(len(values), dtype=np.bool_)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return pa.nulls(len(values), pa.float64()).fill_null(np.nan), np.zeros(
            len(values), dtype=np.bool_
        )
    try:
        numbers = pc.cast(values, pa.float64())
        return numbers.fill_null(np.nan), np.ones(len(values), dtype=np.bool_)
    except pa.ArrowInvalid:  # some cell is not a number: parse one by one to find which
        parsed = [_float(v) for v in values.to_pylist()]
    floats = [np.nan if p is None else p for p in parsed]
    return pa.array(floats, type=pa.float64()), np.array([p is not None for p in parsed])


def _float(value: str | None) -> float | None:
    """The number in a cell; NaN for an empty one, None for one that is not a number."""
    if value is None or not value.strip():
        return np.nan
    try:
        return float(value)
    except ValueError:
        return None


def _text_check(
    values: pa.Array, accepted: Callable[[str], bool], why: Callable[[str], str]
) -> tuple[Mask, Reason]:
    """Text values judged once per distinct value (a log holds few distinct countries)."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_null(values.type):
        values = values.cast(pa.string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        bad_type = np.ones(len(values), dtype=np.bool_)
        return bad_type, lambda row: f"not text ({shown(values[row].as_py())})"
    encoded = values.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    good = np.array([accepted(v) for v in distinct] + [False], dtype=np.bool_)
    codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)

    def reason(row: int) -> str:
        value = values[row].as_py()
        return "missing (empty or null)" if value is None else why(value)

    return ~good[codes], reason


def _not_a_country(value: str) -> str:
    return f"{shown(value)} is not an ISO 3166-1 alpha-3 country code"


def _not_a_device(value: str) -> str:
    return f"unknown device {shown(value)}; expected one of {', '.join(DEVICES)}"


def _timestamp_check(values: pa.Array, period: tuple[date, date]) -> tuple[Mask, Reason]:
    start, end = (np.datetime64(datetime.combine(d, time()), "us") for d in period)
    instants = _instants(values)
    bad = np.isnat(instants) | (instants < start) | (instants >= end)

    def reason(row: int) -> str:
        if np.isnat(instants[row]):
            return f"not an ISO 8601 date-time ({shown(values[row].as_py())})"
        found = instants[row].astype(datetime)
        return f"{found} is outside the declared period {period[0]} .. {period[1]}"

    return bad, reason


def _instants(values: pa.Array) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    """UTC instants (NaT where there is none): typed columns at once, text one by one."""
    kind = values.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        typed = pc.cast(values, pa.timestamp("us"))  # an offset-aware column is UTC inside
        found: np.ndarray[Any, np.dtype[np.datetime64]] = np.asarray(
            typed.to_numpy(zero_copy_only=False), dtype="datetime64[us]"
        )
        return found
    parsed = [_instant(v) for v in values.to_pylist()]
    return np.array([np.datetime64("NaT") if i is None else i for i in parsed], "datetime64[us]")


def _instant(value: object) -> datetime | None:
    """A naive UTC date-time; None when `value` is none."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) - (value.utcoffset() or timedelta())
    if isinstance(value, date):
        return datetime.combine(value, time())
    return None
