"""ISO 3166-1 alpha-3 country codes (kept in contracts: request-log row rules share them)."""

from __future__ import annotations

from contracts.regions import COUNTRIES

__all__ = ["COUNTRIES"]
