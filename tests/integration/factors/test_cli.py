from __future__ import annotations

import pytest
from typer.testing import CliRunner

from empreinte_cli.factors_commands import factors_app

pytestmark = pytest.mark.integration


def test_load_defaults_prints_each_release_and_is_idempotent(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI runs its own event loop, so this test is synchronous.
    monkeypatch.setenv("DATABASE_URL", database_url)
    first = CliRunner().invoke(factors_app, ["load-defaults"])
    assert first.exit_code == 0, first.output
    assert "ademe-base-empreinte: 93 factors" in first.output
    again = CliRunner().invoke(factors_app, ["load-defaults"])
    assert (again.exit_code, again.output) == (0, first.output)


def test_load_defaults_needs_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(factors_app, ["load-defaults"])
    assert result.exit_code != 0 and "DATABASE_URL" in result.output
