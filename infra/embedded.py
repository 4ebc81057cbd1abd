"""Local PostgreSQL and NATS for development and tests, when none is configured.

`local_endpoints(settings)` starts an embedded server for whichever of `DATABASE_URL` and
`NATS_URL` is unset, under `EMPREINTE_DATA_DIR`, and stops them on the way out, Ctrl-C
and SIGTERM included. On Linux the servers also die with the process that started them,
even when it is killed with SIGKILL; leftovers of a crash are cleared by the next start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

from infra.nats import EmbeddedNats, nats_server_binary, render_config
from infra.postgres import EmbeddedPostgres
from infra.process import EmbeddedServerError, ServerRunner, free_port, sigterm_raises_system_exit

__all__ = [
    "EmbeddedNats",
    "EmbeddedPostgres",
    "EmbeddedServerError",
    "EndpointSettings",
    "ServerRunner",
    "free_port",
    "local_endpoints",
    "nats_server_binary",
    "render_config",
]


class EndpointSettings(Protocol):
    """What `local_endpoints` reads of `kernel.settings.Settings`."""

    @property
    def database_url(self) -> str | None: ...

    @property
    def nats_url(self) -> str | None: ...

    @property
    def data_dir(self) -> Path: ...


@contextmanager
def local_endpoints(settings: EndpointSettings) -> Iterator[tuple[str, str]]:
    """Yield `(database_url, nats_url)`: the configured ones, else embedded servers' ones."""
    with sigterm_raises_system_exit(), ExitStack() as servers:
        database_url = settings.database_url
        if database_url is None:
            database_url = servers.enter_context(EmbeddedPostgres(settings.data_dir)).url
        nats_url = settings.nats_url
        if nats_url is None:
            nats_url = servers.enter_context(EmbeddedNats(settings.data_dir)).url
        yield database_url, nats_url
