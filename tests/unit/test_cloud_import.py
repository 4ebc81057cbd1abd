"""The Boavizta importer's reading of the API's answers (no API needed)."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest

from empreinte_cli.boavizta_commands import (
    _bracket,
    dump_release,
    embedded_per_hour,
    instance_figures,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "boavizta"


def test_instance_figures_from_a_recorded_verbose_answer() -> None:
    answer = json.loads((FIXTURES / "dev1-s-verbose-load100.json").read_text())
    host, entry = instance_figures(answer)
    assert host["cpu"]["threads"] == 32 and host["cpu"]["units"] == 1
    assert host["ram"]["dimm_gb"] == pytest.approx(32.0)
    assert host["other_ratio"] == [0.33, 0.2, 0.6]
    assert entry["vcpu"] == 2 and entry["memory_gb"] == 2
    assert entry["disk_w"][0] > 0


def test_brackets_take_trailing_zeros_as_not_significant() -> None:
    assert _bracket(0.00091, 1.0) == pytest.approx((0.000905, 0.000915))
    assert _bracket(790.0, 10.0) == pytest.approx((78.5, 79.5))


def _round_like_boavizta(value: float, low: float, high: float) -> float:
    # Default API settings: a grid of a power of ten within 10 % of the min-max range.
    step = 10.0 ** min(math.floor(math.log10((high - low) / 10)), math.floor(math.log10(value)))
    return round(value / step) * step


@pytest.mark.parametrize("true", [9.134213139142247e-4, 0.0323582, 1.234567])
def test_embedded_per_hour_recovers_the_unrounded_value(true: float) -> None:
    low, high = true * 0.58, true * 1.67

    async def ask(hours: float) -> dict[str, Any]:
        value = _round_like_boavizta(true * hours, low * hours, high * hours)
        return {"value": float(f"{value:.12g}"), "min": low * hours, "max": high * hours}

    first = asyncio.run(ask(1.0))
    value, vmin, vmax = asyncio.run(embedded_per_hour(ask, first))
    assert value == pytest.approx(true, rel=1e-3)
    assert (vmin, vmax) == pytest.approx((low, high))


def test_dump_release_is_json_with_one_line_per_instance() -> None:
    release = {
        "release": "r",
        "hosts": {"h": {"cpu": {}}},
        "instances": {"aws": {"a": {"host": "h"}, "b": {"host": "h"}}},
    }
    text = dump_release(release)
    assert json.loads(text) == release
    assert '"a": {"host": "h"},' in text.splitlines()
