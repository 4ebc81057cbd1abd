"""No container engine runs here, so the compose file is checked against the code instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from empreinte_cli import app
from kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
OURS = {n: s for n, s in COMPOSE["services"].items() if s.get("image", "").startswith("empreinte")}


def parse(argv: list[str]) -> Any:
    """Resolve argv through the real CLI down to its leaf command, parsing every option."""
    # typer ships its own copy of click, so groups are told by what they can do.
    ctx = typer.main.get_command(app).make_context("empreinte", list(argv))
    while hasattr(ctx.command, "resolve_command"):
        name, sub, rest = ctx.command.resolve_command(ctx, _remaining(ctx))
        assert sub is not None and name is not None
        ctx = sub.make_context(name, rest, parent=ctx)
    return ctx


def _remaining(ctx: Any) -> list[str]:
    # click keeps the subcommand's words apart from the rest; the name changed across versions.
    protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
    return [*protected, *ctx.args]


def test_every_service_of_the_stack_is_in_the_compose_file() -> None:
    assert set(OURS) == {"factors", "inventory", "compute", "reporting", "gateway"}
    assert {"postgres", "nats"} <= set(COMPOSE["services"])


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_command_is_a_real_cli_entry_point(name: str) -> None:
    ctx = parse(OURS[name]["command"])
    assert ctx.command.callback is not None
    assert not hasattr(ctx.command, "resolve_command")


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_health_check_calls_something_that_exists(name: str) -> None:
    test: list[str] = OURS[name]["healthcheck"]["test"]
    assert test[0] == "CMD"
    if test[1] == "empreinte":
        ctx = parse(test[2:])
        assert ctx.params["service"] == name


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_environment_variable_is_read_by_the_settings(name: str) -> None:
    known = {field.alias for field in Settings.model_fields.values()}
    environment: dict[str, Any] = OURS[name]["environment"]
    assert set(environment) <= known, set(environment) - known
    Settings.model_validate(environment)  # and each value is one the settings accept


def test_a_wrong_command_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such command"):
        parse(["service", "launch", "factors"])


def test_nats_mounts_the_reference_config() -> None:
    volumes = COMPOSE["services"]["nats"]["volumes"]
    assert any(v.startswith("./infra/nats.conf:") for v in volumes)
    assert (ROOT / "infra" / "nats.conf").is_file()
