"""A measured server footprint shared among a period's requests (METHODS §3, issue #4).

Carried by compute's `estimate` (what-if request rows) and by inventory's RequestLogReceived
(v3): with it, the per-request core replaces SWD's data-centre segment by each request's
share of the servers' own footprint (cloud usage by the Boavizta method, say), and records
these figures in the emission's lineage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AllocationBasis = Literal["requests", "bytes"]


class FootprintKg(BaseModel):
    """kgCO2e with its range; min <= value <= max, all >= 0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float = Field(ge=0, allow_inf_nan=False)
    min: float = Field(ge=0, allow_inf_nan=False)
    max: float = Field(ge=0, allow_inf_nan=False)

    @classmethod
    def exact(cls, value: float) -> FootprintKg:
        return cls(value=value, min=value, max=value)

    @model_validator(mode="after")
    def _ordered(self) -> FootprintKg:
        if not self.min <= self.value <= self.max:
            raise ValueError(f"need min <= value <= max, got {self.min}, {self.value}, {self.max}")
        return self


class ServerFootprint(BaseModel):
    """The servers' footprint over the period the requests belong to, and how to share it.

    ``period_total`` is the period's requests (``allocation`` requests) or bytes (bytes);
    left out, the log (or the what-if rows) is taken to be the whole period, so it gets the
    whole footprint. ``source`` says where the footprint comes from, for the lineage.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    use_kg: FootprintKg
    embedded_kg: FootprintKg = FootprintKg(value=0.0, min=0.0, max=0.0)
    allocation: AllocationBasis = "requests"
    period_total: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    source: str = Field(default="", max_length=500)


KG_TEXT_HELP = "kgCO2e as 'value' or 'value,min,max'"


def footprint_kg(text: str) -> FootprintKg:
    """kgCO2e written as the command line and the REST upload take it; ValueError if not."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{text!r}: expected {KG_TEXT_HELP}") from None
    if len(values) == 1:
        return FootprintKg.exact(values[0])
    if len(values) != 3:
        raise ValueError(f"{text!r}: expected {KG_TEXT_HELP}")
    return FootprintKg(value=values[0], min=values[1], max=values[2])
