from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from nats.js.errors import ObjectNotFoundError

from contracts import inventory as c
from contracts import request_log_rows as rows
from kernel.envelope import NewEvent
from kernel.errors import RemoteError
from services.inventory.request_logs import upload_request_log
from tests.integration.inventory.conftest import INTEGRATOR, OTHER_TENANT, Running


def row(bytes_: object = 1200, client: str = "FRA", device: str = "laptop") -> bytes:
    cells = {"bytes": bytes_, "client_country": client, "server_country": "DEU", "device": device}
    return json.dumps(cells).encode() + b"\n"


ROWS = row(1200) + row(5400, "DEU") + row(7, "USA", "smartphone").rstrip()


def registration(
    name: str, sha256: str, fmt: str = "ndjson", bad_rows: c.BadRows = "refuse"
) -> c.RegisterRequestLog:
    return c.RegisterRequestLog(
        object_name=name,
        sha256=sha256,
        format=fmt,
        period_start=date(2025, 6, 1),
        period_end=date(2025, 7, 1),
        site="www.example.org",
        bad_rows=bad_rows,
    )


async def upload(
    inv: Running, tmp_path: Path, body: bytes, tenant: str = "acme"
) -> tuple[str, str]:
    path = tmp_path / "june.ndjson"
    path.write_bytes(body)
    return await upload_request_log(inv.nc.jetstream(), inv.namespace, tenant, path)


async def test_an_uploaded_log_is_hashed_back_and_recorded(inv: Running, tmp_path: Path) -> None:
    name, sha = await upload(inv, tmp_path, ROWS)
    assert (name, sha) == ("acme/june.ndjson", hashlib.sha256(ROWS).hexdigest())

    view = await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha.upper()), INTEGRATOR
    )

    assert (view.object_name, view.sha256, view.size, view.row_count) == (name, sha, len(ROWS), 3)
    [event] = await inv.store.read_all()
    received = c.RequestLogReceived.from_recorded(event)
    assert received.bucket == f"{inv.namespace}_request_logs"
    assert (received.format, received.site) == ("ndjson", "www.example.org")
    again = await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)
    assert again == view and await inv.store.head_position() == 1


async def test_a_large_log_streams_through_the_hash(inv: Running, tmp_path: Path) -> None:
    body = row() * 300_000  # several chunks, several record batches
    name, sha = await upload(inv, tmp_path, body)
    view = await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)
    assert (view.size, view.row_count) == (len(body), 300_000)


async def test_a_wrong_hash_or_a_missing_object_is_refused(inv: Running, tmp_path: Path) -> None:
    name, _ = await upload(inv, tmp_path, ROWS)
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(RemoteError) as mismatch:
        await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, wrong), INTEGRATOR)
    assert (mismatch.value.code, mismatch.value.field) == ("sha256_mismatch", "sha256")
    with pytest.raises(RemoteError) as missing:
        await inv.client.call(c.REGISTER_REQUEST_LOG, registration("acme/nope", wrong), INTEGRATOR)
    assert (missing.value.code, missing.value.field) == ("not_found", "object_name")
    assert await inv.store.head_position() == 0


async def test_a_tenant_cannot_register_another_tenants_file(inv: Running, tmp_path: Path) -> None:
    name, sha = await upload(inv, tmp_path, ROWS)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), OTHER_TENANT)
    assert (refused.value.code, refused.value.field) == ("invalid_object_name", "object_name")
    assert "globex/<name>" in refused.value.message


async def test_the_same_object_registered_with_other_details_is_refused(
    inv: Running, tmp_path: Path
) -> None:
    name, sha = await upload(inv, tmp_path, ROWS)
    await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)
    other_site = registration(name, sha).model_copy(update={"site": "api.example.org"})
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(c.REGISTER_REQUEST_LOG, other_site, INTEGRATOR)
    assert (refused.value.code, refused.value.field) == ("already_registered", "object_name")


async def test_a_parquet_log_is_checked_batch_by_batch(inv: Running, tmp_path: Path) -> None:
    table = pa.table(
        {
            "bytes": list(range(150_000)),
            "client_country": ["FRA", "DEU"] * 75_000,
            "cloud_region": ["eu-west-3"] * 150_000,
            "device": ["desktop"] * 150_000,
        }
    )
    path = tmp_path / "june.parquet"
    pq.write_table(table, path, row_group_size=5_000)
    name, sha = await upload_request_log(inv.nc.jetstream(), inv.namespace, "acme", path)

    view = await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha, "parquet"), INTEGRATOR
    )

    assert (view.format, view.row_count, view.size) == ("parquet", 150_000, path.stat().st_size)
    assert view.schema_check is not None
    assert (view.schema_check.rows_checked, view.schema_check.rows_rejected) == (150_000, 0)


async def test_a_file_declared_parquet_that_is_not_is_refused(inv: Running, tmp_path: Path) -> None:
    name, sha = await upload(inv, tmp_path, ROWS)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(
            c.REGISTER_REQUEST_LOG, registration(name, sha, "parquet"), INTEGRATOR
        )
    assert (refused.value.code, refused.value.field) == ("invalid_format", "format")
    assert "cannot be read as parquet" in refused.value.message


BAD = row(1200) + row(-5) + row(300, "XXX") + row(None, device="toaster") + row(9)


async def test_bad_rows_refuse_the_log_by_default_and_nothing_is_kept(
    inv: Running, tmp_path: Path
) -> None:
    name, sha = await upload(inv, tmp_path, BAD)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)

    assert (refused.value.code, refused.value.field) == ("invalid_rows", "rows.2.bytes")
    message = refused.value.message
    assert message.startswith("3 of 5 rows are invalid")
    assert "row 3, client_country: 'XXX' is not an ISO 3166-1 alpha-3 country code" in message
    assert "row 4, device: unknown device 'toaster'" in message
    assert await inv.store.head_position() == 0
    store = await inv.nc.jetstream().object_store(c.request_log_bucket(inv.namespace))
    with pytest.raises(ObjectNotFoundError):
        await store.get_info(name)


async def test_bad_rows_accepted_are_counted_and_named_in_the_event(
    inv: Running, tmp_path: Path
) -> None:
    name, sha = await upload(inv, tmp_path, BAD)
    view = await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha, bad_rows="accept"), INTEGRATOR
    )

    [event] = await inv.store.read_all()
    check = c.RequestLogReceived.from_recorded(event).schema_check
    assert check is not None and view.schema_check == check
    assert (check.rules, check.bad_rows) == (rows.RULES, "accept")
    assert (check.rows_checked, check.rows_rejected, view.row_count) == (5, 3, 5)
    assert [(e.row, e.column) for e in check.first_errors] == [
        (2, "bytes"),
        (3, "client_country"),
        (4, "bytes"),
        (4, "device"),
    ]
    assert check.first_errors[2].reason == "missing (empty, null or NaN)"
    store = await inv.nc.jetstream().object_store(c.request_log_bucket(inv.namespace))
    assert (await store.get_info(name)).size == len(BAD)  # the file stays for compute


async def test_a_registered_log_is_kept_when_a_retry_in_refuse_mode_is_refused(
    inv: Running, tmp_path: Path
) -> None:
    name, sha = await upload(inv, tmp_path, BAD)
    await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha, bad_rows="accept"), INTEGRATOR
    )
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)
    assert refused.value.code == "invalid_rows"
    store = await inv.nc.jetstream().object_store(c.request_log_bucket(inv.namespace))
    assert (await store.get_info(name)).size == len(BAD)
    assert await inv.store.head_position() == 1


async def test_a_csv_log_without_a_needed_column_is_refused_naming_it(
    inv: Running, tmp_path: Path
) -> None:
    path = tmp_path / "june.csv"
    path.write_bytes(b"bytes,client_country,device\n12,FRA,laptop\n")
    name, sha = await upload_request_log(inv.nc.jetstream(), inv.namespace, "acme", path)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(
            c.REGISTER_REQUEST_LOG, registration(name, sha, "csv", "accept"), INTEGRATOR
        )
    assert (refused.value.code, refused.value.field) == (
        "invalid_columns",
        "server_country or cloud_region",
    )


async def test_a_v1_event_reads_as_an_unchecked_log(inv: Running) -> None:
    payload = {
        "log_id": str(uuid.uuid4()), "bucket": "b", "object_name": "acme/old.ndjson",
        "sha256": "0" * 64, "size": 10, "format": "ndjson", "period_start": "2025-06-01",
        "period_end": "2025-07-01", "site": "www", "row_count": 3,
    }  # fmt: skip
    old = NewEvent(
        stream_id=f"request_log-{payload['log_id']}",
        type="RequestLogReceived",
        payload=payload,
        tenant_id="acme",
        schema_version=1,
    )
    await inv.store.append([old])
    [event] = await inv.store.read_all()
    received = c.RequestLogReceived.from_recorded(event)
    assert (received.row_count, received.schema_check) == (3, None)


async def test_a_csv_log_with_a_word_for_a_number_is_accepted_without_that_row(
    inv: Running, tmp_path: Path
) -> None:
    path = tmp_path / "june.csv"
    path.write_bytes(
        b"bytes,client_country,server_country,device\n12,FRA,DEU,laptop\nabc,FRA,DEU,laptop\n"
    )
    name, sha = await upload_request_log(inv.nc.jetstream(), inv.namespace, "acme", path)
    view = await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha, "csv", "accept"), INTEGRATOR
    )
    assert view.schema_check is not None
    assert view.schema_check.first_errors == [
        c.RowError(row=2, column="bytes", reason="not a number ('abc')")
    ]


async def test_an_ndjson_column_mixing_types_is_unreadable_in_either_mode(
    inv: Running, tmp_path: Path
) -> None:
    # compute's reader could not parse it either, so it cannot be accepted row by row
    name, sha = await upload(inv, tmp_path, row(1) + row("abc"))
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(
            c.REGISTER_REQUEST_LOG, registration(name, sha, bad_rows="accept"), INTEGRATOR
        )
    assert (refused.value.code, refused.value.field) == ("invalid_format", "format")
    assert "Column(/bytes) changed from number to string" in refused.value.message


async def test_registered_logs_list_in_the_order_received(inv: Running, tmp_path: Path) -> None:
    views = []
    for month, body in (("june", ROWS), ("july", ROWS + b"\n" + row(99).rstrip())):
        path = tmp_path / f"{month}.ndjson"
        path.write_bytes(body)
        name, sha = await upload_request_log(inv.nc.jetstream(), inv.namespace, "acme", path)
        views.append(
            await inv.client.call(c.REGISTER_REQUEST_LOG, registration(name, sha), INTEGRATOR)
        )

    page = await inv.client.call(c.LIST_REQUEST_LOGS, c.ListRequestLogs(limit=1), INTEGRATOR)
    rest = c.ListRequestLogs(limit=1, after=page.next_cursor)
    last = await inv.client.call(c.LIST_REQUEST_LOGS, rest, INTEGRATOR)
    listed = [*page.items, *last.items]
    assert last.next_cursor is None
    assert [(s.log_id, s.object_name, s.sha256, s.row_count, s.schema_check) for s in listed] == [
        (v.log_id, v.object_name, v.sha256, v.row_count, v.schema_check) for v in views
    ]
    assert [(s.period_start, s.site) for s in listed] == [(date(2025, 6, 1), "www.example.org")] * 2
    assert listed[0].received_at <= listed[1].received_at
    other = await inv.client.call(c.LIST_REQUEST_LOGS, c.ListRequestLogs(), OTHER_TENANT)
    assert other.items == [] and other.next_cursor is None
