from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts import inventory as c
from kernel.errors import RemoteError
from services.inventory.request_logs import upload_request_log
from tests.integration.inventory.conftest import INTEGRATOR, OTHER_TENANT, Running

ROWS = b'{"bytes": 1200, "country": "FRA"}\n{"bytes": 5400, "country": "DEU"}\n{"bytes": 7}'


def registration(name: str, sha256: str, fmt: str = "ndjson") -> c.RegisterRequestLog:
    return c.RegisterRequestLog(
        object_name=name,
        sha256=sha256,
        format=fmt,
        period_start=date(2025, 6, 1),
        period_end=date(2025, 7, 1),
        site="www.example.org",
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
    body = b"".join(b'{"bytes": %d}\n' % i for i in range(300_000))  # several chunks
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


async def test_a_parquet_log_gets_its_row_count_from_the_footer(
    inv: Running, tmp_path: Path
) -> None:
    table = pa.table({"bytes": list(range(50_000)), "country": ["FRA", "DEU"] * 25_000})
    path = tmp_path / "june.parquet"
    pq.write_table(table, path, row_group_size=5_000)
    name, sha = await upload_request_log(inv.nc.jetstream(), inv.namespace, "acme", path)

    view = await inv.client.call(
        c.REGISTER_REQUEST_LOG, registration(name, sha, "parquet"), INTEGRATOR
    )

    assert (view.format, view.row_count, view.size) == ("parquet", 50_000, path.stat().st_size)


async def test_a_file_declared_parquet_that_is_not_is_refused(inv: Running, tmp_path: Path) -> None:
    name, sha = await upload(inv, tmp_path, ROWS)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(
            c.REGISTER_REQUEST_LOG, registration(name, sha, "parquet"), INTEGRATOR
        )
    assert (refused.value.code, refused.value.field) == ("invalid_format", "format")
    assert "PAR1" in refused.value.message
