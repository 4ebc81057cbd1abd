"""What every area of the schema shares: role sets, calling a service, Kg, input checking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.types import Info

from contracts.compute import Kg as KgModel
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from kernel.endpoints import EndpointSpec

READERS = ("viewer", "integrator", "auditor", "compliance")
AUDITORS = ("auditor", "compliance")
WRITERS = ("integrator",)
CAMPAIGNERS = ("compliance",)
ADMIN = ("admin",)

M = TypeVar("M", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
GqlInfo = Info[GatewayContext, None]


async def call(info: GqlInfo, spec: EndpointSpec[M, Resp], request: M, *roles: str) -> Resp:
    """`request` to `spec`'s service, acting as the first of `roles` the caller holds."""
    ctx = info.context.acting_as(*roles)
    return await info.context.services.call(spec, request, ctx)


# Contract fields a list query's arguments fill under another name: `first` is `limit`.
PAGE_ARGUMENTS = {"limit": "first"}


def build(model: type[M], *, named: Mapping[str, str] | None = None, **data: Any) -> M:
    """`model` from client input; a bad value is a BAD_USER_INPUT naming its field, as the
    client named it (`named`: the argument that fills a field called otherwise)."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        path = [str(p) for p in first["loc"]]
        if path and named:
            path[0] = named.get(path[0], path[0])
        raise GatewayError("BAD_USER_INPUT", first["msg"], ".".join(path) or None) from invalid


def given(**data: Any) -> dict[str, Any]:
    """`data` without the values the client left out (None or UNSET)."""
    return {k: v for k, v in data.items() if v is not None and v is not strawberry.UNSET}


@strawberry.type(description="kgCO2e with its range.")
class Kg:
    value: float
    min: float
    max: float

    @staticmethod
    def of(kg: KgModel) -> Kg:
        return Kg(value=kg.value, min=kg.min, max=kg.max)
