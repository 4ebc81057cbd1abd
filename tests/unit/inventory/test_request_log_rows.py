"""The request-log row rules: what inventory counts as rejected is what compute leaves out."""

from __future__ import annotations

import math
from datetime import date

import pyarrow as pa
import pytest

from contracts import request_log_rows as rows
from contracts.inventory import LogCheck
from kernel.errors import RequestRefused
from services.inventory.log_check import check_log, refuse_bad_rows

JUNE = (date(2025, 6, 1), date(2025, 7, 1))


def batch(**columns: list[object]) -> pa.RecordBatch:
    base: dict[str, list[object]] = {
        "bytes": [100.0, 200.0, 300.0],
        "client_country": ["FRA", "DEU", "USA"],
        "server_country": ["FRA", "FRA", "DEU"],
        "device": ["laptop", "smartphone", "desktop"],
    }
    return pa.RecordBatch.from_pydict({**base, **columns})


def problems(b: pa.RecordBatch) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in rows.check_batch(b, 1, JUNE, 20).problems]


def test_good_rows_pass() -> None:
    verdict = rows.check_batch(batch(count=[1, 2, 3], exec_ms=[None, 5.0, 0.0]), 1, JUNE, 20)
    assert verdict.valid.tolist() == [True, True, True] and verdict.problems == []


def test_each_bad_value_is_named_by_row_and_column() -> None:
    found = problems(
        batch(
            bytes=[-5.0, math.nan, 1.0],
            client_country=["FRA", "XXX", None],
            device=["laptop", "toaster", "laptop"],
        )
    )
    assert found == [
        (1, "bytes", "negative (-5)"),
        (2, "bytes", "missing (empty, null or NaN)"),
        (2, "client_country", "'XXX' is not an ISO 3166-1 alpha-3 country code"),
        (2, "device", "unknown device 'toaster'; expected one of smartphone, laptop, desktop"),
        (3, "client_country", "missing (empty or null)"),
    ]


def test_text_numbers_are_parsed_and_the_others_named() -> None:
    found = problems(batch(bytes=["12", "abc", ""], count=["1", "2", "inf"]))
    assert found == [
        (2, "bytes", "not a number ('abc')"),
        (3, "bytes", "missing (empty, null or NaN)"),
        (3, "count", "infinite"),
    ]


def test_timestamps_must_fall_in_the_declared_period() -> None:
    stamps = ["2025-06-03T10:00:00", "2025-07-01T00:00:00+02:00", "yesterday"]
    assert problems(batch(timestamp=stamps)) == [
        (3, "timestamp", "not an ISO 8601 date-time ('yesterday')"),
    ]
    late = ["2025-06-03T10:00:00", "2025-07-01T00:00:00", "2025-06-30T23:59:59"]
    assert problems(batch(timestamp=late))[0][:2] == (2, "timestamp")


def test_missing_or_doubled_columns_are_named() -> None:
    assert rows.column_problems(["bytes", "client_country"]) == [
        ("device", "missing column"),
        ("server_country or cloud_region", "missing column"),
    ]
    both = ["bytes", "client_country", "device", "server_country", "cloud_region"]
    assert rows.column_problems(both) == [
        ("server_country or cloud_region", "give one of these columns, not both"),
    ]


def test_keep_valid_leaves_out_exactly_the_rejected_rows() -> None:
    kept = rows.keep_valid(batch(bytes=["12", "-1", "30"]), JUNE)
    assert kept.column("bytes").to_pylist() == [12.0, 30.0]
    assert kept.column("client_country").to_pylist() == ["FRA", "USA"]


def test_rows_are_numbered_across_batches_and_errors_capped() -> None:
    bad = batch(bytes=[-1.0, -2.0, -3.0])
    check = check_log([bad] * 10, JUNE, "accept")
    assert (check.rows_checked, check.rows_rejected, len(check.first_errors)) == (30, 30, 20)
    assert [e.row for e in check.first_errors[-2:]] == [19, 20]


def test_refuse_mode_lists_the_first_errors() -> None:
    check = check_log([batch(bytes=[1.0, -2.0, 3.0])], JUNE, "refuse")
    with pytest.raises(RequestRefused) as refused:
        refuse_bad_rows(check)
    assert (refused.value.code, refused.value.field) == ("invalid_rows", "rows.2.bytes")
    assert "1 of 3 rows are invalid" in refused.value.message
    assert "row 2, bytes: negative (-2)" in refused.value.message
    accepted = LogCheck.model_validate({**check.model_dump(), "bad_rows": "accept"})
    refuse_bad_rows(accepted)  # counted, not refused


def test_a_file_without_a_needed_column_is_refused_in_either_mode() -> None:
    without = pa.RecordBatch.from_pydict({"bytes": [1.0], "client_country": ["FRA"]})
    with pytest.raises(RequestRefused) as refused:
        check_log([without], JUNE, "accept")
    assert (refused.value.code, refused.value.field) == ("invalid_columns", "device")


def test_compute_on_the_kept_rows_equals_compute_on_the_good_rows_alone() -> None:
    # compute refuses the whole batch with the bad rows; with them skipped it equals the good ones
    from services.compute.core import InputError, compute_emissions
    from services.compute.grid import EMBER_CO2JS_0_19
    from services.compute.methods import Method

    mixed = batch(bytes=["1e9", "-1", "2e9"], count=[1, 2, 3])
    good = batch(bytes=[1e9, 2e9], count=[1, 3], **{
        k: [v[0], v[2]] for k, v in batch().to_pydict().items() if k != "bytes"
    })  # fmt: skip
    with pytest.raises(InputError):
        compute_emissions(mixed, Method(), EMBER_CO2JS_0_19)
    kept = compute_emissions(rows.keep_valid(mixed, JUNE), Method(), EMBER_CO2JS_0_19)
    alone = compute_emissions(good, Method(), EMBER_CO2JS_0_19)
    assert kept.total.value == pytest.approx(alone.total.value) and alone.total.value > 0


def test_typed_timestamps_are_checked_at_once_in_utc() -> None:
    from datetime import datetime, timedelta, timezone

    paris = timezone(timedelta(hours=2))
    stamps = pa.array(
        [datetime(2025, 6, 1, 1, 0, tzinfo=paris), datetime(2025, 6, 15, tzinfo=paris), None],
        pa.timestamp("s", tz="+02:00"),
    )  # the first is 31 May, 23:00 UTC: before the period
    found = problems(batch(timestamp=stamps))
    assert [(row, column) for row, column, _ in found] == [(1, "timestamp"), (3, "timestamp")]
    assert "2025-05-31 23:00:00 is outside the declared period" in found[0][2]


def test_a_long_bad_value_is_quoted_cut_short() -> None:
    [(_, column, reason)] = problems(batch(device=["laptop", "x" * 10_000, "desktop"]))
    assert column == "device" and len(reason) < 120 and "xxx...'" in reason
