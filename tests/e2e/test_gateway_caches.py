"""What the gateway remembers between requests: verified API keys (briefly; revocation still
takes effect within the bound), parsed documents and their validation verdicts."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.keys import VERIFIED_FOR, ApiKeys
from tests.e2e.conftest import Stack, organisation

ME = "{ me { organisation } }"
REVOKE = "mutation($keyId: String!) { revokeApiKey(keyId: $keyId) }"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_revocation_made_elsewhere_takes_effect_within_the_bound(stack: Stack) -> None:
    clock = Clock()
    replica = ApiKeys(stack.keys.engine, clock=clock)  # this gateway process's view
    elsewhere = stack.keys  # another replica, or the CLI
    issued = await elsewhere.create(organisation(), ["viewer"], "cache", actor="test")
    assert await replica.authenticate(issued.secret) is not None
    assert await elsewhere.revoke(issued.tenant_id, issued.key_id, actor="test")
    clock.now += VERIFIED_FOR / 2
    assert await replica.authenticate(issued.secret) is not None  # remembered, within bound
    clock.now += VERIFIED_FOR / 2 + 0.01
    assert await replica.authenticate(issued.secret) is None  # past the bound: refused


async def test_a_remembered_key_still_needs_its_secret(stack: Stack) -> None:
    keys = ApiKeys(stack.keys.engine, clock=Clock())
    issued = await keys.create(organisation(), ["viewer"], "cache", actor="test")
    assert await keys.authenticate(issued.secret) is not None
    assert await keys.authenticate(f"emp_{issued.key_id}_not-the-secret") is None


async def test_a_revocation_through_the_gateway_takes_effect_at_once(stack: Stack) -> None:
    tenant = organisation()
    admin, viewer = await stack.key(tenant, "admin"), await stack.key(tenant, "viewer")
    assert (await stack.data(ME, viewer))["me"]["organisation"] == tenant  # now remembered
    key_id = viewer.split("_")[1]
    assert (await stack.data(REVOKE, admin, keyId=key_id))["revokeApiKey"]
    refused = await stack.http.post("/graphql", json={"query": ME}, headers={"X-API-Key": viewer})
    assert refused.status_code == 401


async def test_a_remembered_verdict_is_the_same_verdict(stack: Stack) -> None:
    key = await stack.key(organisation(), "viewer")
    aliases = "{ " + " ".join(f"a{i}: me {{ keyId }}" for i in range(40)) + " }"
    for query in (aliases, "{ me { ", "{ me { shoeSize } }") * 2:
        [error] = (await stack.graphql(query, key))["errors"]
        assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
    for _ in range(2):
        assert (await stack.data(ME, key))["me"]["organisation"]
