"""The resolution rule lives in the contract (contracts/factor_resolution.py), because
compute applies it to its own read model; the factors service uses the very same code."""

from contracts.factor_resolution import (
    EU_MEMBERS,
    covers,
    pick_by_validity,
    region_chain,
    resolve,
)

__all__ = ["EU_MEMBERS", "covers", "pick_by_validity", "region_chain", "resolve"]
