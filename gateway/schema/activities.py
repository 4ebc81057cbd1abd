"""Activities: one by id, or a Relay-style connection with filters; each with its emission."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from contracts import inventory as inv
from gateway.errors import GatewayError
from gateway.schema.common import READERS, GqlInfo, build, call, given
from gateway.schema.emissions import Emission, emissions_of

MAX_PAGE = 1000


async def _emission(root: Activity, info: GqlInfo) -> Emission | None:
    return await emissions_of(info.context).load(UUID(root.id))


@strawberry.type(description="One activity of the organisation's ledger, as it stands now.")
class Activity:
    id: strawberry.ID
    kind: str
    quantity: float
    unit: str
    period_start: date
    period_end: date
    site: str
    region: str
    source: str | None
    attributes: JSON
    status: str = strawberry.field(description="recorded, corrected or retracted")
    version: int
    recorded_at: datetime
    updated_at: datetime
    emission: Emission | None = strawberry.field(
        resolver=_emission,
        description="Its emission (null until compute has seen it).",
    )

    @staticmethod
    def of(v: inv.ActivityView) -> Activity:
        data = v.model_dump(exclude={"activity_id", "attributes"})
        return Activity(id=strawberry.ID(str(v.activity_id)), attributes=JSON(v.attributes), **data)


@strawberry.input(description="Which activities; all optional, periods keep overlapping ones.")
class ActivityFilter:
    kind: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    site: str | None = None
    region: str | None = None
    status: str | None = None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo


@dataclass(frozen=True)
class _Cursor:
    """A position: the service's page cursor (None: the start) and items to skip in it."""

    page: str | None
    skip: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps([self.page, self.skip]).encode()).decode()

    @staticmethod
    def decode(text: str | None) -> _Cursor:
        if text is None:
            return _Cursor(None, 0)
        try:
            page, skip = json.loads(base64.urlsafe_b64decode(text.encode()))
        except (ValueError, TypeError, binascii.Error):
            raise GatewayError("BAD_USER_INPUT", "not a cursor this API gave", "after") from None
        if not (page is None or isinstance(page, str)) or not isinstance(skip, int) or skip < 0:
            raise GatewayError("BAD_USER_INPUT", "not a cursor this API gave", "after")
        return _Cursor(page, skip)


async def activity(info: GqlInfo, id: strawberry.ID) -> Activity:
    """One activity of the organisation (NOT_FOUND otherwise)."""
    request = build(inv.GetActivity, activity_id=id)
    return Activity.of(await call(info, inv.GET, request, *READERS))


async def activities(
    info: GqlInfo, filter: ActivityFilter | None = None, first: int = 50, after: str | None = None
) -> ActivityConnection:
    """The organisation's activities, oldest first, `first` at a time after `after`."""
    if not 1 <= first <= MAX_PAGE:
        raise GatewayError("BAD_USER_INPUT", f"first must be 1..{MAX_PAGE}", "first")
    wanted = given(**vars(filter)) if filter else {}
    start = _Cursor.decode(after)
    items, next_page, start = await _page(info, wanted, start, first)
    edges = [
        ActivityEdge(cursor=_after(start, i, items, next_page).encode(), node=Activity.of(v))
        for i, v in enumerate(items[start.skip : start.skip + first])
    ]
    has_next = len(items) > start.skip + first or next_page is not None
    end = edges[-1].cursor if edges else after
    return ActivityConnection(
        edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end)
    )


async def _page(
    info: GqlInfo, wanted: dict[str, Any], at: _Cursor, first: int
) -> tuple[list[inv.ActivityView], str | None, _Cursor]:
    """The service's page holding the items after `at` (following pages it answered short)."""
    while True:
        limit = min(at.skip + first, MAX_PAGE)
        request = build(inv.ListActivities, **wanted, limit=limit, cursor=at.page)
        page = await call(info, inv.LIST, request, *READERS)
        if at.skip < len(page.items) or page.next_cursor is None:
            return page.items, page.next_cursor, at
        at = _Cursor(page.next_cursor, at.skip - len(page.items))


def _after(start: _Cursor, i: int, items: list[inv.ActivityView], next_page: str | None) -> _Cursor:
    """The cursor just after the `i`-th item returned from `start`."""
    taken = start.skip + i + 1
    if taken == len(items) and next_page is not None:
        return _Cursor(next_page, 0)
    return _Cursor(start.page, taken)
