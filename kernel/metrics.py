"""Prometheus metrics the kernel keeps for every service (one process = one registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

APPENDED = Counter("empreinte_events_appended_total", "Events appended", ["service"])
RELAY_PUBLISHED = Counter("empreinte_relay_published_total", "Events published", ["service"])
RELAY_LAG = Gauge(
    "empreinte_relay_lag_events", "Events appended but not yet published", ["service"]
)
CONSUMER_LAG = Gauge(
    "empreinte_consumer_lag_messages", "Messages pending for a consumer", ["consumer"]
)
CONSUMED = Counter("empreinte_consumer_processed_total", "Messages handled", ["consumer"])
REDELIVERED = Counter(
    "empreinte_consumer_redeliveries_total", "Messages seen more than once", ["consumer"]
)
DEAD_LETTERED = Counter(
    "empreinte_consumer_dead_lettered_total", "Messages sent to dead letter", ["consumer"]
)
HANDLER_LATENCY = Histogram(
    "empreinte_handler_seconds", "Time spent in a handler", ["service", "handler"]
)
ERRORS = Counter("empreinte_errors_total", "Errors by code", ["service", "code"])
