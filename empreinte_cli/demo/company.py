"""Acme Analytics, a web-analytics SaaS: its year 2024 as activity data and request logs.

Deterministic (seeded). Quantities are made up but of realistic size for a 120-person
company; every emission the demo shows is computed by the services from these, never
written here.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

YEAR = 2024
SEED = 2024

# Where the product runs: (provider, instance type, how many, country of the region, load %).
FLEET = (
    ("aws", "m5.xlarge", 24, "FRA", 45),
    ("aws", "c5.2xlarge", 12, "USA", 60),
    ("aws", "r5.large", 8, "DEU", 35),
    ("gcp", "n2-standard-8", 6, "BEL", 50),
    ("scaleway", "dev1-s", 10, "FRA", 20),
)
# Where its users are: ISO alpha-3 codes, most requests from the first (Zipf-distributed).
AUDIENCE = (
    "FRA",
    "USA",
    "DEU",
    "GBR",
    "ESP",
    "ITA",
    "IND",
    "BRA",
    "JPN",
    "CAN",
    "NLD",
    "BEL",
    "POL",
    "SWE",
    "CHE",
    "AUS",
    "MEX",
    "CHN",
    "KOR",
    "ZAF",
    "TUR",
    "PRT",
    "AUT",
    "IRL",
    "NOR",
    "DNK",
    "FIN",
    "ARG",
    "COL",
    "CHL",
    "IDN",
    "PHL",
    "VNM",
    "THA",
    "MAR",
    "EGY",
    "NGA",
    "KEN",
    "SGP",
    "ISR",
)
SERVERS = ("FRA", "USA", "DEU")
DEVICES = ("smartphone", "laptop", "desktop")


@dataclass(frozen=True)
class Month:
    start: date
    end: date  # first day of the next month

    @property
    def fields(self) -> dict[str, str]:
        return {"period_start": self.start.isoformat(), "period_end": self.end.isoformat()}


def months() -> Iterator[Month]:
    for m in range(1, 13):
        nxt = date(YEAR + (m == 12), m % 12 + 1, 1)
        yield Month(date(YEAR, m, 1), nxt)


def activities() -> list[dict[str, Any]]:
    """Every activity of the year, as the API takes them."""
    rng = np.random.default_rng(SEED)
    rows: list[dict[str, Any]] = []
    for month in months():
        rows += _offices(month, rng) + _cloud(month) + _travel(month, rng) + _purchases(month, rng)
    return rows


def _item(
    kind: str, quantity: Any, unit: str, region: str, site: str, month: Month, **attributes: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "quantity": round(float(quantity), 3),
        "unit": unit,
        "region": region,
        "site": site,
        **month.fields,
        "attributes": attributes,
    }


def _offices(month: Month, rng: np.random.Generator) -> list[dict[str, Any]]:
    winter = month.start.month in (1, 2, 3, 11, 12)
    rows = [
        _item("electricity", rng.normal(18, 1.5), "MWh", "FRA", "paris-office", month),
        _item("electricity", rng.normal(11, 1.0), "MWh", "GBR", "london-office", month),
    ]
    if winter:
        rows.append(
            _item(
                "natural_gas_gross_cv", rng.normal(9000, 600), "kWh", "FRA", "paris-office", month
            )
        )
    return rows


def _cloud(month: Month) -> list[dict[str, Any]]:
    hours = 24 * calendar.monthrange(YEAR, month.start.month)[1]
    return [
        _item(
            "cloud_instance_usage",
            count * hours,
            "hour",
            country,
            f"{provider}-{country}",
            month,
            provider=provider,
            instance_type=kind,
            load_percent=load,
        )
        for provider, kind, count, country, load in FLEET
    ]


def _travel(month: Month, rng: np.random.Generator) -> list[dict[str, Any]]:
    return [
        _item("flight_short_haul_with_rf", rng.integers(3, 9) * 700, "km", "GBR", "sales", month),
        _item("flight_long_haul_with_rf", rng.integers(0, 3) * 6200, "km", "GBR", "sales", month),
        _item("train_high_speed_tgv", rng.integers(10, 30) * 450, "km", "FRA", "sales", month),
        _item("hotel_night", rng.integers(8, 25), "night", "DEU", "sales", month),
        _item("hotel_night", rng.integers(4, 12), "night", "USA", "sales", month),
    ]


def _purchases(month: Month, rng: np.random.Generator) -> list[dict[str, Any]]:
    return [
        _item("spend_software_it_services", rng.normal(42000, 3000), "EUR", "FRA", "hq", month),
        _item("spend_it_equipment", max(500.0, rng.normal(9000, 4000)), "EUR", "FRA", "hq", month),
        _item(
            "spend_consulting_legal_accounting", rng.normal(15000, 2000), "EUR", "FRA", "hq", month
        ),
    ]


def request_logs(folder: Path, rows_per_month: int = 200_000) -> Iterator[tuple[Month, Path, int]]:
    """One Parquet file a month; each row stands for `count` requests. Yields the requests."""
    rng = np.random.default_rng(SEED + 1)
    weights = 1.0 / np.arange(1, len(AUDIENCE) + 1) ** 1.1  # Zipf over the audience
    weights /= weights.sum()
    for month in months():
        path = folder / f"requests-{month.start:%Y-%m}.parquet"
        table = _month_of_requests(rng, weights, rows_per_month)
        pq.write_table(table, path)
        yield month, path, int(pa.compute.sum(table["count"]).as_py())


def _month_of_requests(rng: np.random.Generator, weights: np.ndarray, rows: int) -> pa.Table:
    clients = rng.choice(len(AUDIENCE), size=rows, p=weights)
    return pa.table(
        {
            "bytes": rng.lognormal(mean=12.0, sigma=1.0, size=rows).round(),  # ~160 kB median
            "client_country": pa.array(np.asarray(AUDIENCE)[clients]).dictionary_encode(),
            "server_country": pa.array(
                np.asarray(SERVERS)[rng.choice(3, size=rows, p=[0.6, 0.3, 0.1])]
            ).dictionary_encode(),
            "device": pa.array(
                np.asarray(DEVICES)[rng.choice(3, size=rows, p=[0.55, 0.35, 0.1])]
            ).dictionary_encode(),
            "count": rng.integers(20, 180, size=rows),
        }
    )


COMMUTING_QUESTIONS = (
    ("metro_km_week", "Kilometres by metro in a typical week", "commute_metro_paris"),
    ("bus_km_week", "Kilometres by bus in a typical week", "commute_bus_average_large_city"),
    (
        "car_km_week",
        "Kilometres by car (petrol or diesel) in a typical week",
        "commute_car_average",
    ),
    ("bike_km_week", "Kilometres by bike in a typical week", "commute_bike"),
)
WORKING_WEEKS = 47


def commuting_answers(people: int = 120) -> Iterator[dict[str, float]]:
    """One survey answer per employee: weekly kilometres by mode."""
    rng = np.random.default_rng(SEED + 2)
    for _ in range(people):
        car = rng.random() < 0.25
        yield {
            "metro_km_week": float(rng.integers(0, 60)),
            "bus_km_week": float(rng.integers(0, 20)),
            "car_km_week": float(rng.integers(40, 250)) if car else 0.0,
            "bike_km_week": float(rng.integers(0, 40)),
        }
