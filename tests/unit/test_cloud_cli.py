"""`empreinte cloud estimate` against METHODS §3's calibration value."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from empreinte_cli import app

runner = CliRunner()


def test_the_calibration_instance_hour() -> None:
    result = runner.invoke(
        app,
        [
            "cloud",
            "estimate",
            "--provider",
            "aws",
            "--instance-type",
            "m5.xlarge",
            "--load",
            "50",
            "--country",
            "FRA",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["power_w"]["value"] == pytest.approx(22.592, rel=1e-4)
    assert answer["use_kg"]["value"] == pytest.approx(0.0022140, rel=1e-4)
    assert answer["embedded_kg"]["value"] == pytest.approx(9.134e-4, rel=1e-3)
    assert answer["use_kg"]["min"] <= answer["use_kg"]["value"] <= answer["use_kg"]["max"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--instance-type", "m5.xxlarge", "--load", "50"], "did you mean"),
        (["--instance-type", "m5.xlarge", "--load", "150"], "load"),
        (["--instance-type", "m5.xlarge", "--load", "50", "--country", "ATL"], "ATL"),
    ],
)
def test_bad_input_is_named(args: list[str], said: str) -> None:
    result = runner.invoke(app, ["cloud", "estimate", "--provider", "aws", *args])
    assert result.exit_code != 0
    flat = " ".join(result.output.replace("│", " ").split())  # rich wraps the message in a box
    assert said in flat
