"""The iXBRL export validates offline against the EFRAG ESRS Set 1 taxonomy (Arelle).

Each Arelle run loads the whole ESRS DTS (~15-20 s, ~500 MB), and Arelle is not thread-safe:
one module-scoped run per mode, one run for the broken report, one at a time.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.reporting.csrd import write_report
from services.reporting.csrd.sample import sample_input

ESRS_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "esrs"
PACKAGES = [
    str(ESRS_DIR / "ESRS-Set1-XBRL-Taxonomy.zip"),
    str(ESRS_DIR / "xbrl-int-country-taxonomy.zip"),
]
BLOCKING = {"CRITICAL", "ERROR", "ASSERTION-NOT-SATISFIED", "INCONSISTENCY", "WARNING"}


@pytest.fixture(scope="module", autouse=True)
def taxonomy_packages() -> None:
    """The packages live beside the checkout (../shared/esrs); without them this must fail."""
    missing = [p for p in PACKAGES if not Path(p).is_file()]
    assert not missing, f"ESRS taxonomy packages missing (see ../shared/esrs/README.md): {missing}"


def arelle_messages(report_path: Path, run_formulas: bool) -> list[dict[str, Any]]:
    from arelle.api.Session import Session
    from arelle.RuntimeOptions import RuntimeOptions

    options = RuntimeOptions(
        entrypointFile=str(report_path),
        internetConnectivity="offline",
        packages=PACKAGES,
        validate=True,
        calcs="c11r",
        utrValidate=True,
        formulaAction="run" if run_formulas else "none",
    )
    with Session() as session:
        session.run(options, logFileName="logToStructuredMessage")
        messages: list[dict[str, Any]] = session.get_log_messages()
        return messages


def blocking(messages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (m["levelname"], m["messageCode"], m["msg"][:300])
        for m in messages
        if m["levelname"] in BLOCKING and not m["messageCode"].startswith("message:ea_")
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(sample_input(), tmp_path_factory.mktemp("csrd")).paths["xhtml"]


@pytest.fixture(scope="module")
def with_formulas(report: Path) -> list[dict[str, Any]]:
    return arelle_messages(report, run_formulas=True)


@pytest.fixture(scope="module")
def without_formulas(report: Path) -> list[dict[str, Any]]:
    return arelle_messages(report, run_formulas=False)


def test_report_loads_with_facts(with_formulas: list[dict[str, Any]]) -> None:
    # The EFRAG existence assertions fire for untagged datapoints only if the DTS loaded.
    assert any(m["messageCode"].startswith("message:ea_") for m in with_formulas)


def test_no_blocking_message_with_formulas(with_formulas: list[dict[str, Any]]) -> None:
    assert blocking(with_formulas) == []


def test_no_blocking_message_without_formulas(without_formulas: list[dict[str, Any]]) -> None:
    assert blocking(without_formulas) == []


def test_broken_report_is_caught(tmp_path: Path) -> None:
    """A GHG fact in MWh and a total that does not add up are both reported."""
    text = write_report(sample_input(), tmp_path).paths["xhtml"].read_text(encoding="utf-8")
    broken = _retag_unit(text, "E1-6_01.scope1", "u-MWh")
    broken = _change_value(broken, "E1-6_12.total-location", Decimal(1))
    path = tmp_path / "broken.xhtml"
    path.write_text(broken, encoding="utf-8")
    codes = {code for _, code, _ in blocking(arelle_messages(path, run_formulas=False))}
    assert "utre:error-NumericFactUtrInvalid" in codes
    assert "calc11e:inconsistentCalculationUsingRounding" in codes


def _retag_unit(text: str, fact_id: str, unit: str) -> str:
    tag = re.search(rf'<ix:nonFraction [^>]*id="{re.escape(fact_id)}"[^>]*>', text)
    assert tag is not None
    retagged = re.sub(r'unitRef="[^"]*"', f'unitRef="{unit}"', tag.group(0))
    return text.replace(tag.group(0), retagged)


def _change_value(text: str, fact_id: str, delta: Decimal) -> str:
    pattern = rf'(<ix:nonFraction [^>]*id="{re.escape(fact_id)}"[^>]*>)([^<]*)<'
    found = re.search(pattern, text)
    assert found is not None
    value = Decimal(found.group(2).replace(",", "")) + delta
    return text.replace(found.group(0), f"{found.group(1)}{value:,}<")
