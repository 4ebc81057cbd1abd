"""The canonical forms the hash chain is taken over."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.envelope import (
    NewEvent,
    _canonical_header,
    _content_header,
    _timestamp,
    canonical_json,
)

_text = st.text(min_size=1, max_size=40)  # any code point: quotes, controls, accents, emoji
_ids = st.none() | st.uuids().map(lambda u: UUID(int=u.int))
_instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(
    stream=_text,
    kind=_text,
    tenant=_text,
    actor=_text,
    version=st.integers(1, 10_000),
    occurred=_instants,
    offset_hours=st.integers(-12, 14),
    causation=_ids,
    correlation=_ids,
)
def test_the_hand_written_header_is_the_canonical_json_of_the_header_fields(
    stream: str,
    kind: str,
    tenant: str,
    actor: str,
    version: int,
    occurred: datetime,
    offset_hours: int,
    causation: UUID | None,
    correlation: UUID | None,
) -> None:
    local = occurred.astimezone(timezone(timedelta(hours=offset_hours)))
    event = NewEvent(stream, kind, {}, tenant, version, local, actor, causation, correlation)
    assert _canonical_header(event) == canonical_json(_content_header(event))


@given(occurred=_instants, whole_second=st.booleans(), offset_hours=st.integers(-12, 14))
def test_a_timestamp_is_written_in_utc_to_the_microsecond_however_it_came(
    occurred: datetime, whole_second: bool, offset_hours: int
) -> None:
    instant = occurred.replace(microsecond=0) if whole_second else occurred
    for same in (instant, instant.astimezone(timezone(timedelta(hours=offset_hours)))):
        written = _timestamp(same)
        assert written == instant.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        assert datetime.fromisoformat(written) == instant


def test_canonical_json_sorts_keys_keeps_unicode_and_refuses_nan() -> None:
    assert (
        canonical_json({"b": 1, "a": "é", "c": [1.5, None]})
        == '{"a":"é","b":1,"c":[1.5,null]}'.encode()
    )
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"v": float("nan")})


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(data=_json_values)
def test_canonical_json_is_json_dumps_with_the_canonical_options(data: Any) -> None:
    expected = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    assert canonical_json(data) == expected.encode()
