"""An integrator recording activities through the gateway's GraphQL API at a steady rate.

Each request is retried, with the same idempotency key, until it gets a success answer: an
acknowledged activity must never be lost, a retried one never duplicated. A refusal that
no outage explains (bad input, a key refused, a reused key) fails at once instead.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx

RECORD = """
mutation Record($key: String!, $activities: [ActivityInput!]!) {
  recordActivities(idempotencyKey: $key, activities: $activities) {
    activityIds accepted replayed rejected { index field reason }
  }
}"""
BATCH = 2  # activities per request: integrators send batches, even small ones
DEFINITIVE = {
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "UNAUTHENTICATED",
    "IDEMPOTENCY_KEY_REUSED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}


class Refused(AssertionError):
    """The gateway refused a valid request for a reason that is not an outage."""


class Recorder:
    """Records batches one request at a time; `accepted` holds every acknowledged id."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.accepted: list[uuid.UUID] = []
        self.answered: list[list[uuid.UUID]] = []  # request n's ids, as first acknowledged
        self.failures: Counter[str] = Counter()  # what the retried attempts met, by kind
        self.replayed = 0  # retries answered with the first attempt's outcome
        self.grew = asyncio.Condition()

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            await self._record_until_acknowledged(n)
            n += 1
            await asyncio.sleep(0.02)  # the steady rate itself, not a wait for an event

    async def resend(self, n: int) -> list[uuid.UUID]:
        """Send request `n` again, as a client unsure of its answer would: same key, same body.
        Its ids (the answer must say it replays the first one)."""
        payload = await self._attempt(_variables(n))
        assert payload is not None and payload["replayed"], payload
        return [uuid.UUID(i) for i in payload["activityIds"]]

    async def progress(self, count: int) -> None:
        """Return once `count` more activities were acknowledged (the stack works again)."""
        async with self.grew:
            target = len(self.accepted) + count
            await asyncio.wait_for(self.grew.wait_for(lambda: len(self.accepted) >= target), 180)

    async def _record_until_acknowledged(self, n: int) -> None:
        while True:
            if (payload := await self._attempt(_variables(n))) is not None:
                break
            await asyncio.sleep(0.2)  # back off, then retry with the same key
        assert payload["accepted"] == BATCH and not payload["rejected"], payload
        ids = [uuid.UUID(i) for i in payload["activityIds"]]
        async with self.grew:
            self.answered.append(ids)
            self.accepted += ids
            self.replayed += bool(payload["replayed"])
            self.grew.notify_all()

    async def _attempt(self, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The mutation's payload, or None when the answer was not a success."""
        try:
            response = await self.http.post(
                "/graphql", json={"query": RECORD, "variables": variables}
            )
        except httpx.TransportError as error:  # the gateway is down or was killed mid-request
            self.failures[type(error).__name__] += 1
            return None
        errors = _errors(response)
        if response.status_code == 200 and not errors:
            found: dict[str, Any] = response.json()["data"]["recordActivities"]
            return found
        codes = {e.get("extensions", {}).get("code") for e in errors}
        if codes & DEFINITIVE:
            raise Refused(f"HTTP {response.status_code}: {errors}")
        self.failures[f"{response.status_code} {','.join(sorted(map(str, codes)))}"] += 1
        return None


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:  # a bare 500 page: no GraphQL body at all
        return []
    found: list[dict[str, Any]] = body.get("errors") or [] if isinstance(body, dict) else []
    return found


def _variables(n: int) -> dict[str, Any]:
    return {"key": f"faults-{n}", "activities": [_activity(n, i) for i in range(BATCH)]}


def _activity(n: int, i: int) -> dict[str, Any]:
    return {
        "kind": "electricity",
        "quantity": 1 + (n + i) % 7,
        "unit": "MWh",
        "region": "FRA",
        "periodStart": "2024-03-01",
        "periodEnd": "2024-04-01",
        "site": f"site-{n % 5}",
    }
