import json

import pytest

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
