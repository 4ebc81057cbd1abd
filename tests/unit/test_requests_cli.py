"""`empreinte requests estimate` on real files, checked against co2.js 0.19 calibration values."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from empreinte_cli import app

ROWS = {"bytes": [1e9], "client_country": ["FRA"], "server_country": ["FRA"], "device": ["laptop"]}
runner = CliRunner()


def write(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"log{suffix}"
    table = pa.table(ROWS)
    if suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix == ".csv":
        path.write_text("bytes,client_country,server_country,device\n1000000000,FRA,FRA,laptop\n")
    else:
        path.write_text(json.dumps({k: v[0] for k, v in ROWS.items()}) + "\n")
    return path


def estimate(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["requests", "estimate", *args, "--json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.output)
    return answer


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_every_format_gives_co2js_calibration_value(tmp_path: Path, suffix: str) -> None:
    log = str(write(tmp_path, suffix))
    # METHODS §1: 1e9 bytes, SWD v4, device IND, data centre FRA, network default: 140.6567 g.
    answer = estimate(
        log, "--grid-device", "IND", "--grid-datacenter", "FRA", "--grid-network", "494"
    )
    assert answer["total_g"]["value"] == pytest.approx(140.6567, rel=1e-9)  # type: ignore[index]
    assert set(answer["segments"]) == {"data_centre", "network", "user_device"}  # type: ignore[arg-type]
    assert answer["constants"]


def test_eco_and_full_agree_and_models_differ(tmp_path: Path) -> None:
    log = str(write(tmp_path, ".csv"))
    eco, full = estimate(log, "--eco"), estimate(log, "--full")
    assert eco["total_g"] == full["total_g"]
    v3 = estimate(
        log,
        "--model",
        "swd-v3",
        "--grid-device",
        "WORLD",
        "--grid-network",
        "WORLD",
        "--grid-datacenter",
        "WORLD",
    )
    assert v3["total_g"]["value"] == pytest.approx(383.0814, rel=1e-9)  # type: ignore[index]


def test_bad_options_and_files_are_named(tmp_path: Path) -> None:
    log = str(write(tmp_path, ".csv"))
    bad_grid = runner.invoke(app, ["requests", "estimate", log, "--grid-device", "lots"])
    assert bad_grid.exit_code != 0 and "--grid-device" in bad_grid.output
    other = tmp_path / "log.txt"
    other.write_text("x")
    bad_format = runner.invoke(app, ["requests", "estimate", str(other)])
    assert bad_format.exit_code != 0 and "unknown request-log format" in bad_format.output


def test_a_server_footprint_replaces_the_data_centre_segment(tmp_path: Path) -> None:
    log = str(write(tmp_path, ".parquet"))
    plain = estimate(log)
    server = ["--server-use-kg", "0.12,0.09,0.16", "--server-embedded-kg", "0.03"]
    whole = estimate(log, *server)
    data_centre = whole["segments"]["data_centre"]  # type: ignore[index]
    assert data_centre["operational"] == {"value": 120.0, "min": 90.0, "max": 160.0}
    assert data_centre["embodied"]["value"] == pytest.approx(30.0)
    for segment in ("network", "user_device"):
        assert whole["segments"][segment] == plain["segments"][segment]  # type: ignore[index]
    assert whole["constants"]["server_allocation"]["period_total"] == 1.0  # type: ignore[index]
    quarter = estimate(log, *server, "--server-period-total", "4")
    assert quarter["segments"]["data_centre"]["operational"]["value"] == pytest.approx(30.0)  # type: ignore[index]
    by_bytes = estimate(log, *server, "--server-allocation", "bytes", "--full")
    assert by_bytes["constants"]["server_allocation"]["period_total"] == 1e9  # type: ignore[index]
    assert by_bytes["segments"]["data_centre"]["operational"]["value"] == pytest.approx(120.0)  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server-use-kg", "lots"], "--server-use-kg"),
        (["--server-use-kg", "1,2"], "VALUE,MIN,MAX"),
        (["--server-use-kg", "1", "--model", "swd-v3"], "no server allocation"),
        (["--server-use-kg", "1", "--server-period-total", "0"], "period_total"),
    ],
)
def test_bad_server_options_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    log = str(write(tmp_path, ".csv"))
    result = runner.invoke(app, ["requests", "estimate", log, *args])
    assert result.exit_code != 0 and message in result.output, result.output
