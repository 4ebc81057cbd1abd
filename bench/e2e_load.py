"""bench/e2e.py's integrator: recordActivities mutations sent open-loop at a stage's pace,
and when each activity's change notice was heard."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from nats.aio.msg import Msg

MAX_IN_FLIGHT = 32
RECORD = """
mutation Record($key: String!, $activities: [ActivityInput!]!, $defaults: ActivityInput) {
  recordActivities(idempotencyKey: $key, activities: $activities, defaults: $defaults) {
    activityIds accepted
  }
}"""
DEFAULTS = {"kind": "electricity", "unit": "MWh", "region": "FRA", "site": "hq",
            "periodStart": "2024-03-01", "periodEnd": "2024-04-01"}  # fmt: skip


@dataclass(frozen=True)
class Stage:
    rate: int  # activities per second
    batch: int  # activities per request
    seconds: float


# Integrators send batches: the request rate stays 10-20/s and the batch grows with the rate.
STAGES = {
    "full": [Stage(100, 10, 60), Stage(500, 25, 60), Stage(2000, 100, 60)],
    "quick": [Stage(20, 5, 3), Stage(100, 10, 3)],
}


@dataclass
class Visibility:
    """When each activity's answer came back, and when reporting announced it (perf_counter)."""

    answered: dict[str, float] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)

    async def on_notice(self, msg: Msg) -> None:
        self.seen.setdefault(json.loads(msg.data)["source_id"], time.perf_counter())

    def latencies(self, ids: list[str]) -> list[float]:
        """Seconds from answer to notice (negative: announced before the answer arrived)."""
        return [self.seen[i] - self.answered[i] for i in ids if i in self.seen]

    def last_seen(self, ids: list[str]) -> float | None:
        """When the last of `ids` to be announced was (None: none was)."""
        return max((self.seen[i] for i in ids if i in self.seen), default=None)


@dataclass
class Sent:
    ids: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    last_answer: float = 0.0


async def drive(stage: Stage, http: httpx.AsyncClient, seen: Visibility) -> Sent:
    """Send the stage's requests on schedule; the accepted ids and the errors met."""
    sent, run, slots = Sent(), secrets.token_hex(4), asyncio.Semaphore(MAX_IN_FLIGHT)
    interval, tasks = stage.batch / stage.rate, set()
    started = time.perf_counter()
    for n in range(round(stage.seconds / interval)):
        await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))  # pace
        await slots.acquire()  # a saturated stack slows the sender: the accepted rate shows it
        key = f"bench-{run}-{stage.rate}-{n}"
        task = asyncio.create_task(_send(http, key, stage, seen, sent))
        task.add_done_callback(lambda _: slots.release())
        tasks.add(task)
    await asyncio.gather(*tasks)
    return sent


async def _send(
    http: httpx.AsyncClient, key: str, stage: Stage, seen: Visibility, sent: Sent
) -> None:
    quantities = [{"quantity": 1 + i % 9} for i in range(stage.batch)]
    body = {"query": RECORD,
            "variables": {"key": key, "activities": quantities, "defaults": DEFAULTS}}  # fmt: skip
    try:
        response = await http.post("/graphql", json=body)
    except httpx.HTTPError as error:
        sent.errors[type(error).__name__] += 1
        return
    answered = time.perf_counter()
    payload = _payload(response)
    if isinstance(payload, str):
        sent.errors[payload] += 1
        return
    ids = [i for i in payload["activityIds"] if i is not None]
    if len(ids) < stage.batch:
        sent.errors["rejected items"] += stage.batch - len(ids)
    for i in ids:
        seen.answered[i] = answered
    sent.ids += ids
    sent.last_answer = max(sent.last_answer, answered)


def _payload(response: httpx.Response) -> dict[str, Any] | str:
    """The mutation's payload, or what went wrong (HTTP status and error code)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if response.status_code != 200 or body.get("errors"):
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
        return f"HTTP {response.status_code} {','.join(sorted(map(str, codes)))}"
    found: dict[str, Any] = body["data"]["recordActivities"]
    return found


async def wait_visible(seen: Visibility, ids: list[str], within: float) -> int:
    """Poll (with a deadline) until every id was announced; how many were not."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if all(i in seen.seen for i in ids):
            return 0
        await asyncio.sleep(0.1)  # notices arrive on their own: poll with a deadline
    return sum(1 for i in ids if i not in seen.seen)
