"""The development organisation's admin key, made on the first `make dev` and kept after."""

from __future__ import annotations

from pathlib import Path

from gateway.keys import ApiKeys
from kernel.db import create_engine
from kernel.settings import Settings

DEV_ORGANISATION = "dev"


async def ensure_dev_key(settings: Settings) -> tuple[str, bool]:
    """(the key, whether it was created now): reused while it still authenticates."""
    assert settings.database_url
    path = settings.data_dir / "dev-api-key"
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        keys = ApiKeys(engine)
        existing = _read(path)
        if existing and await keys.authenticate(existing):
            return existing, False
        issued = await keys.create(DEV_ORGANISATION, ["admin"], "make dev", actor="empreinte dev")
    finally:
        await engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(issued.secret + "\n")
    path.chmod(0o600)
    return issued.secret, True


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.is_file() else None
