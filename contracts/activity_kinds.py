"""The activity kinds integrators record, with the dimension their quantity must have.

Shared vocabulary: inventory checks a recorded quantity against its kind's dimension (12 km
of electricity is refused), factors publish factors for kinds, compute matches the two.
The list follows the default factor catalogue (one kind per activity, whatever the number of
factor components, e.g. combustion and upstream, that compute applies to it), plus the
digital kinds of the per-request core, the Boavizta cloud method and Boavizta's terminals.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.units import dimension_of

POSTS = (
    "product",
    "cloud",
    "offices",
    "commuting",
    "business_travel",
    "purchases",
    "other",
)


@dataclass(frozen=True)
class ActivityKind:
    """A kind of activity: its name, the unit it is usually given in, and its post."""

    name: str
    default_unit: str
    post: str
    # Its factors hold wherever the activity happens (region WORLD): see factor_resolution.
    region_independent: bool = False

    @property
    def dimension(self) -> str:
        return dimension_of(self.default_unit)


def _kind(name: str, unit: str, post: str, *, region_independent: bool = False) -> ActivityKind:
    return ActivityKind(name, unit, post, region_independent)


_KINDS = (
    _kind("car_average_long_distance_per_passenger_km", "km", "business_travel"),
    _kind("car_average_per_vehicle_km", "km", "business_travel"),
    _kind("car_diesel_per_vehicle_km", "km", "business_travel"),
    _kind("car_petrol_per_vehicle_km", "km", "business_travel"),
    _kind("coach", "km", "business_travel"),
    _kind("commute_bike", "km", "commuting"),
    _kind("commute_bus_average_large_city", "km", "commuting"),
    _kind("commute_bus_diesel", "km", "commuting"),
    _kind("commute_bus_electric", "km", "commuting"),
    _kind("commute_car_average", "km", "commuting"),
    _kind("commute_car_diesel", "km", "commuting"),
    _kind("commute_car_electric", "km", "commuting"),
    _kind("commute_car_petrol", "km", "commuting"),
    _kind("commute_ebike", "km", "commuting"),
    _kind("commute_escooter", "km", "commuting"),
    _kind("commute_metro_paris", "km", "commuting"),
    _kind("commute_moped_scooter", "km", "commuting"),
    _kind("commute_motorbike_gt_250cc", "km", "commuting"),
    _kind("commute_motorbike_le_250cc", "km", "commuting"),
    _kind("commute_rer_transilien", "km", "commuting"),
    _kind("commute_tram_paris", "km", "commuting"),
    _kind("commute_walk", "km", "commuting"),
    _kind("device_desktop_high_performance", "item", "purchases"),
    _kind("device_desktop_office", "item", "purchases"),
    _kind("device_laptop", "item", "purchases"),
    _kind("device_monitor_21_5in", "item", "purchases"),
    _kind("device_monitor_23_8in", "item", "purchases"),
    _kind("device_printer_laser", "item", "purchases"),
    _kind("device_printer_multifunction", "item", "purchases"),
    _kind("device_smartphone_5in", "item", "purchases"),
    _kind("device_smartphone_gt_5_5in", "item", "purchases"),
    _kind("device_tablet", "item", "purchases"),
    _kind("diesel_fuel", "liter", "offices"),
    _kind("district_heating", "kWh", "offices"),
    _kind("district_heating_paris_cpcu", "kWh", "offices"),
    _kind("electricity", "kWh", "offices"),
    _kind("flight_1000_2000km_with_rf", "km", "business_travel"),
    _kind("flight_1000_2000km_without_rf", "km", "business_travel"),
    _kind("flight_2000_5000km_with_rf", "km", "business_travel"),
    _kind("flight_2000_5000km_without_rf", "km", "business_travel"),
    _kind("flight_500_1000km_with_rf", "km", "business_travel"),
    _kind("flight_500_1000km_without_rf", "km", "business_travel"),
    _kind("flight_gt5000km_with_rf", "km", "business_travel"),
    _kind("flight_gt5000km_without_rf", "km", "business_travel"),
    _kind("flight_international_non_uk", "km", "business_travel"),
    _kind("flight_international_non_uk_with_rf", "km", "business_travel"),
    _kind("flight_international_non_uk_without_rf", "km", "business_travel"),
    _kind("flight_long_haul", "km", "business_travel"),
    _kind("flight_long_haul_with_rf", "km", "business_travel"),
    _kind("flight_long_haul_without_rf", "km", "business_travel"),
    _kind("flight_lt500km_with_rf", "km", "business_travel"),
    _kind("flight_lt500km_without_rf", "km", "business_travel"),
    _kind("flight_short_haul", "km", "business_travel"),
    _kind("flight_short_haul_with_rf", "km", "business_travel"),
    _kind("flight_short_haul_without_rf", "km", "business_travel"),
    _kind("heating_oil", "liter", "offices"),
    _kind("heating_oil_net_cv", "kWh", "offices"),
    _kind("homeworking_hour", "hour", "commuting"),
    _kind("hotel_night", "night", "business_travel"),
    _kind("meal_average", "meal", "purchases"),
    _kind("meal_vegetarian", "meal", "purchases"),
    _kind("natural_gas_gross_cv", "kWh", "offices"),
    _kind("natural_gas_net_cv", "kWh", "offices"),
    _kind("petrol_fuel", "liter", "offices"),
    _kind("spend_advertising_market_research", "EUR", "purchases"),
    _kind("spend_air_transport", "EUR", "purchases"),
    _kind("spend_computer_repair", "EUR", "purchases"),
    _kind("spend_consulting_legal_accounting", "EUR", "purchases"),
    _kind("spend_employment_services", "EUR", "purchases"),
    _kind("spend_financial_services", "EUR", "purchases"),
    _kind("spend_food_beverages", "EUR", "purchases"),
    _kind("spend_furniture", "EUR", "purchases"),
    _kind("spend_hotels_restaurants", "EUR", "purchases"),
    _kind("spend_insurance", "EUR", "purchases"),
    _kind("spend_it_equipment", "EUR", "purchases"),
    _kind("spend_land_transport", "EUR", "purchases"),
    _kind("spend_office_consumables", "EUR", "purchases"),
    _kind("spend_office_small_supplies", "EUR", "purchases"),
    _kind("spend_other_professional_services", "EUR", "purchases"),
    _kind("spend_paper_cardboard", "EUR", "purchases"),
    _kind("spend_postal_courier", "EUR", "purchases"),
    _kind("spend_real_estate_services", "EUR", "purchases"),
    _kind("spend_software_it_services", "EUR", "purchases"),
    _kind("spend_telecom_services", "EUR", "purchases"),
    _kind("spend_training_education", "EUR", "purchases"),
    _kind("spend_travel_agencies", "EUR", "purchases"),
    _kind("taxi_per_passenger_km", "km", "business_travel"),
    _kind("taxi_per_vehicle_km", "km", "business_travel"),
    _kind("train_high_speed_tgv", "km", "business_travel"),
    _kind("train_intercity", "km", "business_travel"),
    _kind("train_international", "km", "business_travel"),
    _kind("train_national_average", "km", "business_travel"),
    _kind("train_regional_ter", "km", "business_travel"),
    _kind("cloud_instance_usage", "hour", "cloud"),
    # Grid intensity as the per-request core uses it (co2.js's Ember averages), kept apart
    # from `electricity` so it never competes with a country's preferred activity factor.
    _kind("electricity_grid_average", "kWh", "product"),
    _kind("data_transfer", "gigabyte", "product"),
)

# Boavizta API 2.5.0's terminal and peripheral archetypes, by their Boavizta name with "_"
# for "-" (services/factors/data/boavizta-2.5.0-terminals.json). Two kinds each: a bought
# device's whole embedded impact, in items, and the share of it per hour of the device's
# lifetime, in hours: the way a digital product counts the end-user devices it runs on.
BOAVIZTA_TERMINALS = (
    "box_default", "desktop_perso", "desktop_pro", "external_ssd_default", "hdd_default",
    "laptop_perso", "laptop_pro", "monitor_default", "smartphone_default", "tablet_default",
    "tv_perso", "tv_pro", "usb_stick_default", "vr_controller_default", "vr_headset_lcd",
    "vr_headset_oled",
)  # fmt: skip
_TERMINAL_KINDS = tuple(
    kind
    for name in BOAVIZTA_TERMINALS
    for kind in (
        _kind(f"device_embedded_{name}", "item", "purchases", region_independent=True),
        _kind(f"device_embedded_{name}_per_hour", "hour", "product", region_independent=True),
    )
)

ACTIVITY_KINDS: dict[str, ActivityKind] = {k.name: k for k in (*_KINDS, *_TERMINAL_KINDS)}


def activity_kind(name: str) -> ActivityKind:
    """The kind called `name`; KeyError with a helpful message when there is none."""
    try:
        return ACTIVITY_KINDS[name]
    except KeyError:
        raise KeyError(f"unknown activity kind {name!r}") from None


def is_region_independent(name: str) -> bool:
    """Whether factors of kind `name` hold wherever the activity happens."""
    kind = ACTIVITY_KINDS.get(name)
    return kind is not None and kind.region_independent
