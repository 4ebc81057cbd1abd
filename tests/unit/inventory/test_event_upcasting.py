"""Older inventory events read as the current versions (the log is never rewritten)."""

from __future__ import annotations

from uuid import uuid4

from contracts import campaigns as cp
from contracts import inventory as c


def test_a_v1_campaign_opening_reads_without_template_or_headcount() -> None:
    v1 = {
        "campaign_id": str(uuid4()), "name": "commute", "period_start": "2025-01-01",
        "period_end": "2026-01-01",
        "questions": [{"question_id": "km", "prompt": "km", "kind": "commute_bike", "unit": "km",
                       "scale": 47.0}],
    }  # fmt: skip
    version, payload = c.UPCASTERS.upcast("CampaignOpened", 1, v1)
    opened = cp.CampaignOpened.model_validate(payload)
    assert (version, opened.template, opened.headcount) == (2, None, None)
    assert opened.questions[0].scale == 47.0


def test_a_v1_form_reads_as_quantity_answers() -> None:
    v1 = {
        "submission_id": str(uuid4()), "campaign_id": str(uuid4()), "respondent": "ann",
        "site": "hq", "region": "FRA", "answers": [{"question_id": "km", "quantity": 12.0}],
        "activity_ids": [str(uuid4())],
    }  # fmt: skip
    version, payload = c.UPCASTERS.upcast("FormSubmitted", 1, v1)
    submitted = cp.FormSubmitted.model_validate(payload)
    assert version == cp.FormSubmitted.schema_version == 2
    assert (submitted.answers[0].quantity, submitted.answers[0].choice) == (12.0, None)


def test_every_current_version_is_where_the_upcasters_lead() -> None:
    for event in c.EVENTS.by_type.values():
        version, _ = c.UPCASTERS.upcast(event.event_type, 1, {})
        assert version == event.schema_version, event.event_type


def test_v1_and_v2_request_logs_read_without_a_server_footprint() -> None:
    v1 = {
        "log_id": str(uuid4()), "bucket": "b", "object_name": "o", "sha256": "0" * 64,
        "size": 10, "format": "csv", "period_start": "2024-01-01", "period_end": "2024-02-01",
        "site": "www",
    }  # fmt: skip
    for version, payload in ((1, v1), (2, {**v1, "schema_check": None})):
        upcast, current = c.UPCASTERS.upcast("RequestLogReceived", version, payload)
        received = c.RequestLogReceived.model_validate(current)
        assert upcast == c.RequestLogReceived.schema_version == 3
        assert (received.schema_check, received.server) == (None, None)
