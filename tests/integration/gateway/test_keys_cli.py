from __future__ import annotations

import pytest
from typer.testing import CliRunner

from empreinte_cli import app
from gateway.keys import ApiKeys, Principal
from kernel.db import create_engine
from tests.conftest import run_async


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def test_keys_create_prints_a_working_key_and_revoke_kills_it(
    runner: CliRunner, database_url: str
) -> None:
    # The CLI runs its own event loop, so this test is synchronous and checks in a thread.
    created = runner.invoke(app, ["keys", "create", "--tenant", "cli-org", "--role", "auditor"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip()
    principal = run_async(lambda: authenticate(database_url, secret))
    assert principal is not None
    assert (principal.tenant_id, principal.roles) == ("cli-org", frozenset({"auditor"}))

    revoked = runner.invoke(app, ["keys", "revoke", "--tenant", "cli-org", principal.key_id])
    assert revoked.exit_code == 0
    assert run_async(lambda: authenticate(database_url, secret)) is None
    again = runner.invoke(app, ["keys", "revoke", "--tenant", "cli-org", principal.key_id])
    assert again.exit_code == 1


async def authenticate(database_url: str, secret: str) -> Principal | None:
    engine = create_engine(database_url, pool_size=1)
    try:
        return await ApiKeys(engine).authenticate(secret)
    finally:
        await engine.dispose()


def test_an_unknown_role_is_refused_by_name(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "--tenant", "x", "--role", "wizard"])
    assert result.exit_code != 0
    assert "wizard" in result.output
