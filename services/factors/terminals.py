"""Boavizta's terminal and peripheral archetypes as factors of the release `boavizta-2.5.0`.

`data/boavizta-2.5.0-terminals.json` is written by `empreinte factors import-boavizta` from
the Boavizta API's answers. Each archetype gives two factors, both of the whole embedded
impact Boavizta states (every life-cycle phase but use), valid worldwide:

* `device_embedded_<archetype>` per item: a device bought (scope 3 category 2, capital
  goods, as the ADEME device factors of the default catalogue);
* `device_embedded_<archetype>_per_hour` per hour of the device's lifetime: the share of a
  device a product or a service uses (scope 3 category 1).

The use phase is not a factor: it depends on the grid, so the release keeps the archetype's
power and share of time in use, stated again in each factor's source detail.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from contracts.factors import FactorDraft

TERMINALS_RELEASE = Path(__file__).parent / "data" / "boavizta-2.5.0-terminals.json"
REGION = "WORLD"  # Boavizta's embedded figures are generic, not tied to where it is used
LICENCE = "AGPL-3.0 (boaviztapi 2.5.0 and the data it ships; no separate data licence)"
DEVICES = {
    "box": "Internet box",
    "desktop": "Desktop computer",
    "external_hdd": "External hard disk drive",
    "external_ssd": "External SSD",
    "laptop": "Laptop",
    "monitor": "Monitor",
    "smartphone": "Smartphone",
    "tablet": "Tablet",
    "television": "Television",
    "usb_stick": "USB stick",
    "vr_controller": "VR controller",
    "vr_headset": "VR headset",
}


def terminals_release(path: Path = TERMINALS_RELEASE) -> dict[str, Any]:
    """The terminals release file, as written by `empreinte factors import-boavizta`."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def terminal_kind(archetype: str, per_hour: bool = False) -> str:
    """The activity kind of an archetype's embedded factor (`laptop-pro` per item...)."""
    name = "device_embedded_" + archetype.replace("-", "_")
    return name + "_per_hour" if per_hour else name


def terminal_drafts(release: dict[str, Any]) -> list[tuple[str, FactorDraft]]:
    """(idempotency key, factor) of both factors of every archetype of `release`."""
    drafts = []
    for archetype, figures in sorted(release["archetypes"].items()):
        for per_hour in (False, True):
            draft = terminal_draft(release, archetype, figures, per_hour)
            key = f"defaults:{release['release']}:{draft.activity_kind}:{REGION}:{draft.year}"
            drafts.append((key, draft))
    return drafts


def terminal_draft(
    release: dict[str, Any], archetype: str, figures: dict[str, Any], per_hour: bool
) -> FactorDraft:
    """One factor of one archetype: per item (its lifetime) or per hour of its lifetime."""
    source = release["source"]
    year = int(source["retrieved_at"][:4])  # Boavizta states no reference year: when read
    value, low, high = figures["embedded_kg_per_hour" if per_hour else "embedded_kg"]
    return FactorDraft(
        activity_kind=terminal_kind(archetype, per_hour),
        component="total",
        unit="hour" if per_hour else "item",
        kgco2e_per_unit=value,
        min_kgco2e_per_unit=low,
        max_kgco2e_per_unit=high,
        region=REGION,
        valid_from=date(year, 1, 1),
        scope=3,
        category=1 if per_hour else 2,
        source=f"Boavizta API {source['version']}",
        source_detail=_source_detail(source, archetype, figures, per_hour),
        licence=LICENCE,
        year=year,
        description=_description(archetype, figures, per_hour),
    )


def _description(archetype: str, figures: dict[str, Any], per_hour: bool) -> str:
    device = DEVICES.get(figures["device"], figures["device"])
    per = f"per hour of its {figures['hours_life_time']:g} h lifetime" if per_hour else "per unit"
    return (
        f"{device} (Boavizta archetype {archetype}), embedded impact (every life-cycle phase "
        f"but use) {per}; use phase not included"
    )


def _source_detail(
    source: dict[str, Any], archetype: str, figures: dict[str, Any], per_hour: bool
) -> str:
    query = f"GET /v1/{figures['family']}/{figures['device']}?archetype={archetype}&criteria=gwp"
    settings = " ".join(f"{k}={v}" for k, v in sorted(source["oracle_settings"].items()))
    if per_hour:
        query, what = query + "&duration=1", "embedded_kg_per_hour"
    else:
        what = "embedded_kg"
    power, ratio = figures["avg_power_w"], figures["use_time_ratio"]
    return (
        f"{query} answered by boaviztapi {source['version']} run locally ({settings}) on "
        f"{source['retrieved_at']}: impacts.gwp.embedded [value, min, max] = {figures[what]} "
        f"kgCO2e; hours_life_time {figures['hours_life_time']:g} h. Use phase (not in this "
        f"factor): avg_power {power} W, use_time_ratio {ratio}. Boavizta cites "
        f"{figures['upstream']}. Recorded in "
        f"services/factors/data/boavizta-{source['version']}-terminals.json"
    )
