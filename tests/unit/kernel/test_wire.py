import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel import wire


def test_a_document_round_trips_as_the_standard_library_reads_it() -> None:
    data = {"site": "Zürich", "quantity": 0.1 + 0.2, "lines": [{"kg": 1e-17}], "n": 2**63 - 1}
    assert json.loads(wire.encode(data)) == data
    assert wire.decode(json.dumps(data)) == data


def test_integers_beyond_64_bits_fall_back_to_the_standard_library_both_ways() -> None:
    data = {"attributes": {"serial": 2**80, "negative": -(2**70)}}
    encoded = wire.encode(data)
    assert wire.decode(encoded) == data
    assert wire.decode(encoded.decode()) == data


def test_what_is_not_json_is_refused_with_the_standard_librarys_reason() -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        wire.decode(b'{"quantity": }')


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)  # fmt: skip


@given(JSON)
def test_text_is_what_json_dumps_writes(data: object) -> None:
    assert wire.text(data) == json.dumps(data, ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_text_refuses_what_json_cannot_hold(value: float) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        wire.text({"quantity": value})
