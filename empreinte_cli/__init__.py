"""The `empreinte` command line: the single CLI entry point and composition root."""

from empreinte_cli.main import app

__all__ = ["app"]
