"""Grid intensity by country, and the country each cloud region runs in."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.compute.methods import MODEL_DEFAULT, SEGMENTS, Codes, FloatArray, Method


class UnknownCountryError(ValueError):
    """A country has no grid intensity and the caller did not allow a fallback."""


class UnknownRegionError(ValueError):
    """A cloud region is not in the region table."""


@dataclass(frozen=True)
class GridIntensities:
    """Grid intensity by country (ISO 3166 alpha-3 code -> gCO2e/kWh) and the source to cite.

    With ``allow_fallback``, a country missing from ``by_country`` takes the method's global
    grid intensity (what co2.js does for a country it does not know) and the result lists it;
    without, a missing country is an ``UnknownCountryError``.
    """

    by_country: Mapping[str, float]
    source: str
    allow_fallback: bool = False


# Ember annual averages as co2.js 0.19 ships them (METHODS §1); for tests and the bench only,
# production figures come from the factors service.
EMBER_CO2JS_0_19 = GridIntensities(
    by_country={
        "FRA": 44.18,
        "DEU": 342.06,
        "USA": 383.55,
        "IND": 708.96,
        "CHN": 557.5,
        "WORLD": 472.94,
    },
    source="Ember via co2.js 0.19, CC BY-SA 4.0",
)


@dataclass
class CountryLookup:
    """Looks countries up, remembering the intensities used and the countries that fell back."""

    grid: GridIntensities
    fallback: float
    used: dict[str, float] = field(default_factory=dict)
    fell_back: set[str] = field(default_factory=set)

    def intensity(self, country: str, role: str) -> float:
        code = country.strip().upper()
        value = self.grid.by_country.get(code)
        if value is None:
            if not self.grid.allow_fallback:
                raise UnknownCountryError(
                    f"{role}: no grid intensity for country {country!r} in "
                    f"{self.grid.source!r} (and fallback to the global intensity not allowed)"
                )
            self.fell_back.add(code)
            return self.fallback
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"grid intensity for {code!r} must be a finite number >= 0: {value}")
        self.used[code] = float(value)
        return float(value)

    def fallen_back(self) -> tuple[str, ...]:
        return tuple(sorted(self.fell_back))

    def intensities(self, countries: Sequence[str], role: str) -> npt.NDArray[np.float64]:
        return np.array([self.intensity(c, role) for c in countries], dtype=np.float64)


@dataclass(frozen=True)
class Countries:
    """The distinct countries of a column, and for each group the index of its country."""

    column: str
    names: Sequence[str]
    codes: Codes


def uses_grid(method: Method, segment: str) -> bool:
    """Whether a segment's emissions depend on its grid intensity under this method."""
    if method.model == "onebyte":
        return False  # fixed intensities (co2.js ignores gridIntensity for OneByte)
    if segment == "data_centre" and method.server is not None:
        return False  # the allocated server footprint already carries its grid
    return segment != "data_centre" or method.green_hosting_factor < 1


def segment_intensities(
    method: Method, lookup: CountryLookup, clients: Countries, servers: Countries
) -> dict[str, FloatArray]:
    """gCO2e/kWh per group for each segment, following the method's ``SegmentGrid``."""
    intensities: dict[str, FloatArray] = {}
    size = len(clients.codes)
    for segment in SEGMENTS:
        choice = method.grid.choice(segment)
        if not uses_grid(method, segment) or choice == MODEL_DEFAULT:
            intensities[segment] = np.broadcast_to(lookup.fallback, (size,))
        elif isinstance(choice, str):
            value = lookup.intensity(choice, f"{segment} grid intensity")
            intensities[segment] = np.broadcast_to(value, (size,))
        elif choice is not None:
            intensities[segment] = np.broadcast_to(float(choice), (size,))
        else:
            located = servers if segment == "data_centre" else clients
            per_country = lookup.intensities(located.names, located.column)
            intensities[segment] = per_country[located.codes]
    return intensities


def describe_segments(method: Method, global_intensity: float) -> dict[str, object]:
    """Where each segment's grid intensity came from, for the result's constants."""
    described: dict[str, object] = {}
    for segment in SEGMENTS:
        choice = method.grid.choice(segment)
        if segment == "data_centre" and method.server is not None:
            described[segment] = "server allocation"
        elif not uses_grid(method, segment):
            described[segment] = "unused"
        elif choice is None:
            described[segment] = "server_country" if segment == "data_centre" else "client_country"
        elif choice == MODEL_DEFAULT:
            described[segment] = global_intensity
        else:
            described[segment] = choice.strip().upper() if isinstance(choice, str) else choice
    return described


# Region -> ISO alpha-3 country of the data centres, from each provider's public region list:
# AWS https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html,
# Google Cloud https://cloud.google.com/about/locations,
# Azure https://learn.microsoft.com/en-us/azure/reliability/regions-list,
# OVHcloud https://www.ovhcloud.com/en/public-cloud/regions-availability/,
# Scaleway https://www.scaleway.com/en/docs/account/reference-content/products-availability/.
_AWS = {
    "USA": "us-east-1 us-east-2 us-west-1 us-west-2 us-gov-east-1 us-gov-west-1",
    "CAN": "ca-central-1 ca-west-1",
    "MEX": "mx-central-1",
    "BRA": "sa-east-1",
    "IRL": "eu-west-1",
    "GBR": "eu-west-2",
    "FRA": "eu-west-3",
    "DEU": "eu-central-1",
    "CHE": "eu-central-2",
    "ITA": "eu-south-1",
    "ESP": "eu-south-2",
    "SWE": "eu-north-1",
    "ISR": "il-central-1",
    "BHR": "me-south-1",
    "ARE": "me-central-1",
    "ZAF": "af-south-1",
    "HKG": "ap-east-1",
    "IND": "ap-south-1 ap-south-2",
    "SGP": "ap-southeast-1",
    "AUS": "ap-southeast-2 ap-southeast-4",
    "IDN": "ap-southeast-3",
    "MYS": "ap-southeast-5",
    "THA": "ap-southeast-7",
    "JPN": "ap-northeast-1 ap-northeast-3",
    "KOR": "ap-northeast-2",
    "CHN": "cn-north-1 cn-northwest-1",
}
_GCP = {
    "USA": "us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4",
    "CAN": "northamerica-northeast1 northamerica-northeast2",
    "MEX": "northamerica-south1",
    "BRA": "southamerica-east1",
    "CHL": "southamerica-west1",
    "BEL": "europe-west1",
    "GBR": "europe-west2",
    "DEU": "europe-west3 europe-west10",
    "NLD": "europe-west4",
    "CHE": "europe-west6",
    "ITA": "europe-west8 europe-west12",
    "FRA": "europe-west9",
    "FIN": "europe-north1",
    "SWE": "europe-north2",
    "POL": "europe-central2",
    "ESP": "europe-southwest1",
    "ISR": "me-west1",
    "QAT": "me-central1",
    "SAU": "me-central2",
    "ZAF": "africa-south1",
    "TWN": "asia-east1",
    "HKG": "asia-east2",
    "JPN": "asia-northeast1 asia-northeast2",
    "KOR": "asia-northeast3",
    "IND": "asia-south1 asia-south2",
    "SGP": "asia-southeast1",
    "IDN": "asia-southeast2",
    "AUS": "australia-southeast1 australia-southeast2",
}
_AZURE = {
    "USA": "eastus eastus2 centralus northcentralus southcentralus westcentralus westus "
    "westus2 westus3",
    "CAN": "canadacentral canadaeast",
    "MEX": "mexicocentral",
    "BRA": "brazilsouth",
    "IRL": "northeurope",
    "NLD": "westeurope",
    "GBR": "uksouth ukwest",
    "FRA": "francecentral francesouth",
    "DEU": "germanywestcentral germanynorth",
    "CHE": "switzerlandnorth switzerlandwest",
    "NOR": "norwayeast norwaywest",
    "SWE": "swedencentral",
    "POL": "polandcentral",
    "ITA": "italynorth",
    "ESP": "spaincentral",
    "ISR": "israelcentral",
    "QAT": "qatarcentral",
    "ARE": "uaenorth uaecentral",
    "ZAF": "southafricanorth southafricawest",
    "HKG": "eastasia",
    "SGP": "southeastasia",
    "JPN": "japaneast japanwest",
    "KOR": "koreacentral koreasouth",
    "IND": "centralindia southindia westindia",
    "AUS": "australiaeast australiasoutheast australiacentral",
}
_OVHCLOUD = {
    "FRA": "gra gra5 gra7 gra9 gra11 sbg sbg5 rbx eu-west-par",
    "DEU": "de de1",
    "GBR": "uk uk1",
    "POL": "waw waw1",
    "ITA": "eu-south-mil",
    "CAN": "bhs bhs5 ca-east-tor",
    "USA": "us-east-va us-east-va-1 us-west-or us-west-or-1",
    "SGP": "sgp sgp1",
    "AUS": "syd syd1",
    "IND": "ap-south-mum",
}
_SCALEWAY = {
    "FRA": "fr-par fr-par-1 fr-par-2 fr-par-3",
    "NLD": "nl-ams nl-ams-1 nl-ams-2 nl-ams-3",
    "POL": "pl-waw pl-waw-1 pl-waw-2 pl-waw-3",
}
PROVIDERS: Mapping[str, Mapping[str, str]] = {
    "aws": _AWS,
    "gcp": _GCP,
    "azure": _AZURE,
    "ovhcloud": _OVHCLOUD,
    "scaleway": _SCALEWAY,
}


def _region_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for provider, countries in PROVIDERS.items():
        for country, regions in countries.items():
            for region in regions.split():
                if region in table and table[region] != country:
                    raise AssertionError(f"{provider} region {region!r} collides")
                table[region] = country
    return table


REGION_COUNTRY: Mapping[str, str] = _region_table()


def region_country(region: str) -> str:
    """The ISO alpha-3 country of a cloud region (case and spaces ignored: "West Europe")."""
    key = region.strip().lower().replace(" ", "")
    country = REGION_COUNTRY.get(key)
    if country is None:
        raise UnknownRegionError(
            f"cloud_region: unknown region {region!r}; known are the AWS, Google Cloud, Azure, "
            "OVHcloud and Scaleway regions of services.compute.grid (else give server_country)"
        )
    return country
