"""E1-5 energy from the ledger: the quantities of own-operations energy activities, in kWh.

Pure (no I/O). Only activities with a Scope 1 or Scope 2 line count (energy consumed in own
operations); each source counts once, with the quantity its Scope 1/2 line carries in the
factor's unit. Classification, by activity kind:

* fossil, natural gas: `natural_gas_net_cv` (kWh net CV) and `natural_gas_gross_cv` (kWh
  gross CV, as on French bills) times 0.9, the net/gross ratio of natural gas ADEME uses.
* fossil, crude oil and petroleum products: `heating_oil_net_cv` (kWh net CV), and litres of
  `heating_oil` and `diesel_fuel` (10.03 kWh/l: IPCC 2006 gas/diesel oil, 43.0 MJ/kg at
  0.84 kg/l) and `petrol_fuel` (9.17 kWh/l: motor gasoline, 44.3 MJ/kg at 0.745 kg/l).
* purchased electricity (`electricity`, and `electricity_grid_average` when recorded as an
  activity with its Scope 2 line) and purchased heat (`district_heating*`): split into
  fossil, nuclear and renewable by the mix the caller gives (grid or supplier mix); the
  ledger holds no mix. Their fossil part is "purchased fossil", their renewable part
  "purchased renewable"; nothing is classed self-generated or renewable fuel.

Other Scope 1/2 kinds are not energy (or not known to be) and are left out, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from contracts.reporting import Mix
from kernel.errors import RequestRefused
from services.reporting.csrd import Energy, FossilDetail, RenewableDetail

GAS_NET_PER_GROSS = Decimal("0.9")
KWH_PER_LITRE = {
    "heating_oil": Decimal("10.03"),
    "diesel_fuel": Decimal("10.03"),
    "petrol_fuel": Decimal("9.17"),
}
NATURAL_GAS = {"natural_gas_net_cv": Decimal(1), "natural_gas_gross_cv": GAS_NET_PER_GROSS}
OIL_KWH = {"heating_oil_net_cv"}
ELECTRICITY = {"electricity", "electricity_grid_average"}
HEAT = {"district_heating", "district_heating_paris_cpcu"}
ZERO = Decimal(0)


@dataclass(frozen=True)
class Consumption:
    """kWh of each carrier found in the ledger, and the kinds that were left out."""

    natural_gas: Decimal = ZERO
    oil: Decimal = ZERO
    electricity: Decimal = ZERO
    heat: Decimal = ZERO
    left_out: tuple[str, ...] = ()


def consumption(quantities: Mapping[tuple[str, str], Decimal]) -> Consumption:
    """Sum `(activity kind, unit) -> quantity` into carriers, in kWh."""
    gas = oil = electricity = heat = ZERO
    left_out: set[str] = set()
    for (kind, unit), quantity in quantities.items():
        if kind in NATURAL_GAS and unit == "kWh":
            gas += quantity * NATURAL_GAS[kind]
        elif kind in KWH_PER_LITRE and unit == "liter":
            oil += quantity * KWH_PER_LITRE[kind]
        elif kind in OIL_KWH and unit == "kWh":
            oil += quantity
        elif kind in ELECTRICITY and unit == "kWh":
            electricity += quantity
        elif kind in HEAT and unit == "kWh":
            heat += quantity
        else:
            left_out.add(f"{kind} ({unit})")
    return Consumption(gas, oil, electricity, heat, tuple(sorted(left_out)))


def energy(found: Consumption, electricity_mix: Mix | None, heat_mix: Mix | None) -> Energy:
    """The E1-5 figures; a purchased carrier present in the ledger needs its mix."""
    power = _split(found.electricity, electricity_mix, "electricity_mix")
    warmth = _split(found.heat, heat_mix, "heat_mix")
    purchased = [a + b for a, b in zip(power, warmth, strict=True)]
    fossil_detail = FossilDetail(ZERO, found.oil, found.natural_gas, ZERO, purchased[0])
    renewable_detail = RenewableDetail(ZERO, purchased[2], ZERO)
    fossil = sum(fossil_detail.parts(), ZERO)
    return Energy(
        total=fossil + purchased[1] + purchased[2],
        fossil=fossil,
        nuclear=purchased[1],
        renewable=purchased[2],
        fossil_detail=fossil_detail,
        renewable_detail=renewable_detail,
    )


def _split(kwh: Decimal, mix: Mix | None, field: str) -> tuple[Decimal, Decimal, Decimal]:
    if kwh == 0:
        return ZERO, ZERO, ZERO
    if mix is None:
        carrier = field.removesuffix("_mix")
        raise RequestRefused(
            "missing_energy_mix",
            f"the ledger holds {kwh} kWh of purchased {carrier}; give its mix (fossil, nuclear, "
            "renewable shares) to split it for E1-5",
            field,
        )
    shares = [Decimal(str(s)) for s in (mix.fossil, mix.nuclear, mix.renewable)]
    whole = sum(shares, ZERO)
    if abs(whole - 1) > Decimal("0.0001"):
        raise RequestRefused("invalid_mix", f"the shares add up to {whole}, not 1", field)
    fossil, nuclear = kwh * shares[0] / whole, kwh * shares[1] / whole
    return fossil, nuclear, max(ZERO, kwh - fossil - nuclear)


def notes(found: Consumption) -> list[str]:
    """What the report should say about how its energy figures were derived."""
    said = [
        "E1-5 energy is derived from the ledger's Scope 1 and 2 energy activities; purchased "
        "electricity and heat are split by the mix given with the request."
    ]
    if found.left_out:
        said.append("Not counted as energy (Scope 1/2 kinds): " + ", ".join(found.left_out) + ".")
    return said
