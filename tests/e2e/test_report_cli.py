"""`empreinte report csrd` against the running services, in a process of its own."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient

from contracts import inventory as inv
from contracts import reporting as r
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.settings import Settings
from tests.e2e.conftest import organisation

EMPREINTE = str(Path(sys.executable).parent / "empreinte")
YEAR = r.Filters(period_start=date(2024, 1, 1), period_end=date(2025, 1, 1))


async def test_the_cli_writes_the_chosen_file_of_a_recorded_report(
    services: NatsClient, stack_settings: Settings
) -> None:
    org = organisation()
    client = ServiceClient(services, stack_settings.namespace, timeout=60)
    writer, viewer = (
        CallContext(tenant_id=org, role="integrator"),
        CallContext(tenant_id=org, role="viewer"),
    )
    item = {
        "kind": "electricity",
        "quantity": 40,
        "unit": "MWh",
        "region": "FRA",
        "period_start": "2024-05-01",
        "period_end": "2024-06-01",
        "site": "lyon",
    }
    notices: asyncio.Queue[bytes] = asyncio.Queue()

    async def heard(msg: Any) -> None:
        notices.put_nowait(msg.data)

    sub = await services.subscribe(r.changes_subject(stack_settings.namespace, org), cb=heard)
    request = inv.RecordActivities(idempotency_key="cli", activities=[item])
    await client.call(inv.RECORD, request, writer)
    async with asyncio.timeout(90):  # re-ask at each change notice until the figure is there
        while (await client.call(r.FOOTPRINT, r.Footprint(filters=YEAR), viewer)).total.value == 0:
            await notices.get()
    await sub.unsubscribe()

    out = Path(tempfile.mkdtemp()) / "e1.xhtml"
    env = {
        **os.environ,
        "NATS_URL": str(stack_settings.nats_url),
        "EMPREINTE_NAMESPACE": stack_settings.namespace,
    }
    proc = await asyncio.create_subprocess_exec(
        EMPREINTE,
        "report",
        "csrd",
        "--org",
        org,
        "--year",
        "2024",
        "--net-revenue",
        "1000000",
        "--electricity-mix",
        "0.1,0.6,0.3",
        "--format",
        "ixbrl",
        "--out",
        str(out),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said = (await proc.communicate())[0].decode()
    assert proc.returncode == 0, said
    text = out.read_text()
    assert "GrossLocationBasedScope2GreenhouseGasEmissions" in text and "ix:nonFraction" in text
    assert "sha256" in said
