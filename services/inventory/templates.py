"""The questionnaire templates a campaign can follow, as data.

Each answer rule names activity kinds of contracts/activity_kinds.py in a unit of their
dimension (a unit test checks every template). A campaign's CampaignOpened event keeps the
template as it was, so changing one here never changes what past forms meant.
"""

from __future__ import annotations

from contracts.campaigns import (
    AnswerRule,
    CampaignTemplate,
    Choice,
    TemplateQuestion,
)

WORKING_WEEKS = 47.0  # a French full-time year: 52 weeks less 5 of paid leave

_COMMUTE_MODES = (
    ("car_petrol", "Car, petrol", "commute_car_petrol"),
    ("car_diesel", "Car, diesel", "commute_car_diesel"),
    ("car_electric", "Car, electric", "commute_car_electric"),
    ("motorbike", "Motorbike over 250 cc", "commute_motorbike_gt_250cc"),
    ("moped", "Moped or scooter", "commute_moped_scooter"),
    ("bus", "Bus (large city)", "commute_bus_average_large_city"),
    ("metro", "Metro", "commute_metro_paris"),
    ("tram", "Tram", "commute_tram_paris"),
    ("suburban_train", "Suburban train (RER, Transilien)", "commute_rer_transilien"),
    ("bike", "Bike", "commute_bike"),
    ("ebike", "Electric bike", "commute_ebike"),
    ("escooter", "Electric kick scooter", "commute_escooter"),
    ("walk", "Walking", "commute_walk"),
)

COMMUTING = CampaignTemplate(
    template_id="employee_commuting",
    title="Employee commuting survey",
    description="Each employee's usual way to work; yearly km = one-way km x 2 x days a "
    "week x weeks worked. Extrapolated to the headcount on closing.",
    survey=True,
    questions=[
        TemplateQuestion(
            question_id="mode",
            prompt="How do you usually travel to work (the longest part of the trip)?",
            choices=[Choice(value=v, label=label, kind=kind) for v, label, kind in _COMMUTE_MODES],
        ),
        TemplateQuestion(
            question_id="one_way_km",
            prompt="One-way distance home to work",
            unit="km",
            maximum=500.0,
        ),
        TemplateQuestion(
            question_id="days_per_week",
            prompt="Days a week you travel to work",
            unit="day",
            maximum=7.0,
        ),
        TemplateQuestion(
            question_id="weeks_worked",
            prompt=f"Weeks worked in the period (about {WORKING_WEEKS:g} in a full year)",
            unit="week",
            maximum=53.0,
        ),
    ],
    rules=[
        AnswerRule(
            rule_id="commute",
            kind_from="mode",
            multiply=["one_way_km", "days_per_week", "weeks_worked"],
            factor=2.0,
            unit="km",
        )
    ],
)

_TRAVEL_MODES = (
    ("flight_short_haul", "Plane, short haul (Europe)", "flight_short_haul"),
    ("flight_long_haul", "Plane, long haul", "flight_long_haul"),
    ("train_high_speed", "High-speed train", "train_high_speed_tgv"),
    ("train_intercity", "Intercity train", "train_intercity"),
    ("train_international", "International train", "train_international"),
    ("coach", "Coach", "coach"),
    ("car", "Car (per vehicle)", "car_average_per_vehicle_km"),
    ("taxi", "Taxi (per vehicle)", "taxi_per_vehicle_km"),
)

BUSINESS_TRAVEL = CampaignTemplate(
    template_id="business_travel",
    title="Business travel declaration",
    description="One declaration per traveller and mode: km = round-trip km x trips; hotel "
    "nights counted apart. Declarations are not a sample: nothing is extrapolated.",
    survey=False,
    questions=[
        TemplateQuestion(
            question_id="mode",
            prompt="How did you travel?",
            choices=[Choice(value=v, label=label, kind=kind) for v, label, kind in _TRAVEL_MODES],
        ),
        TemplateQuestion(
            question_id="round_trip_km",
            prompt="Round-trip distance of one trip",
            unit="km",
            maximum=50_000.0,
        ),
        TemplateQuestion(
            question_id="trips", prompt="Number of such trips", unit="trip", maximum=1_000.0
        ),
        TemplateQuestion(
            question_id="hotel_nights",
            prompt="Hotel nights on these trips",
            unit="night",
            maximum=366.0,
            required=False,
        ),
    ],
    rules=[
        AnswerRule(
            rule_id="travel", kind_from="mode", multiply=["round_trip_km", "trips"], unit="km"
        ),
        AnswerRule(rule_id="hotel", kind="hotel_night", multiply=["hotel_nights"], unit="night"),
    ],
)

SITE_ENERGY = CampaignTemplate(
    template_id="site_energy",
    title="Site energy form",
    description="A site's energy over the campaign's period, from its bills. One form per "
    "site; nothing is extrapolated.",
    survey=False,
    questions=[
        TemplateQuestion(question_id="electricity_kwh", prompt="Electricity used", unit="kWh"),
        TemplateQuestion(
            question_id="natural_gas_kwh",
            prompt="Natural gas, as billed (gross calorific value)",
            unit="kWh",
            required=False,
        ),
        TemplateQuestion(
            question_id="heating_oil_l",
            prompt="Heating oil delivered",
            unit="liter",
            required=False,
        ),
        TemplateQuestion(
            question_id="district_heating_kwh",
            prompt="District heating",
            unit="kWh",
            required=False,
        ),
    ],
    rules=[
        AnswerRule(
            rule_id="electricity", kind="electricity", multiply=["electricity_kwh"], unit="kWh"
        ),
        AnswerRule(
            rule_id="natural_gas",
            kind="natural_gas_gross_cv",
            multiply=["natural_gas_kwh"],
            unit="kWh",
        ),
        AnswerRule(
            rule_id="heating_oil", kind="heating_oil", multiply=["heating_oil_l"], unit="liter"
        ),
        AnswerRule(
            rule_id="district_heating",
            kind="district_heating",
            multiply=["district_heating_kwh"],
            unit="kWh",
        ),
    ],
)

TEMPLATES = {t.template_id: t for t in (COMMUTING, BUSINESS_TRAVEL, SITE_ENERGY)}
