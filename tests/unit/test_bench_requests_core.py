"""bench/requests_core.py in its quick mode, so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import requests_core


def test_quick_run_measures_every_figure_and_the_baselines_agree_with_the_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bench.common.RESULTS", tmp_path)  # leave the real results alone
    results = requests_core.main(
        ["--quick", "--rows", "20000", "--sample", "500", "--co2js-sample", "500"]
    )
    assert (tmp_path / "requests_core_quick.json").exists()
    assert results["rows"] == 20_000
    assert results["distinct"]["device"] == 4
    for figures in results["methods"].values():
        assert figures["relative_difference_eco_vs_full"] < 1e-9
        assert figures["eco"]["rows_per_s"] > 0 and figures["full"]["rows_per_s"] > 0
        assert figures["eco"]["rows_per_cpu_s"] > 0 and figures["full"]["rows_per_cpu_s"] > 0
    assert results["python_per_row"]["relative_difference_vs_core"] < 1e-9
    assert results["python_per_row"]["rows_per_cpu_s"] > 0
    assert results["ratios"]["eco_vs_python_loop_cpu"] > 0
    co2js = results["co2js_per_call"]
    if shutil.which("node") is None:
        assert "node" in co2js["unavailable"]
    else:
        assert co2js["relative_difference_vs_core"] < 1e-9, co2js
        assert "eco_vs_co2js" in results["ratios"]
        assert results["ratios"]["eco_vs_co2js_cpu"] > 0 and co2js["cpu_seconds"] > 0
    assert set(results["goals_met"]) == set(requests_core.GOALS)
