import argparse

import pytest

from bench.e2e import parse_stages
from bench.e2e_load import Stage


def test_stages_are_read_as_rate_batch_and_seconds() -> None:
    assert parse_stages("800:25:40,1200:50:2.5") == [Stage(800, 25, 40.0), Stage(1200, 50, 2.5)]


@pytest.mark.parametrize("text", ["800:25", "800:x:40", "0:25:40", "800:25:-1"])
def test_a_malformed_or_empty_stage_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="stages"):
        parse_stages(text)
