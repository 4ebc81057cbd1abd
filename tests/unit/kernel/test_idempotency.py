"""A request's idempotency key: namespaced by what it makes, fingerprinted with the whole
request, its reuse refused on the field idempotency_key."""

from __future__ import annotations

from pydantic import BaseModel

from kernel.idempotency import keyed


class Ask(BaseModel):
    idempotency_key: str | None = None
    name: str


def test_no_key_given_means_no_key_and_no_refusal() -> None:
    assert keyed(Ask(name="a"), None, "open", "campaign") == (None, None)


def test_the_key_is_namespaced_and_fingerprints_the_whole_request() -> None:
    ask = Ask(idempotency_key="k", name="a")
    key, reused = keyed(ask, "k", "open", "campaign")
    assert key is not None and reused is not None
    assert key.key == "campaign:k"
    assert keyed(ask, "k", "open", "report")[0] != key  # another kind of thing, another key
    other = keyed(ask.model_copy(update={"name": "b"}), "k", "open", "campaign")[0]
    assert other is not None and other.key == key.key and other.fingerprint != key.fingerprint
    assert keyed(ask, "k", "open", "campaign")[0] == key  # the same request, the same key
    assert (reused.code, reused.field) == ("idempotency_key_reused", "idempotency_key")
    assert "'k'" in reused.message and "campaign" in reused.message
