"""Who is calling: the API key a request or socket presents, checked within a failure budget.

Every wrong key a client address presents costs a lookup in the key store; past
`auth_failures_per_minute` of them that address is refused (429) for any key that would need
a lookup, until its budget refills; keys verified moments ago still pass. The address is the
TCP peer's, or the one a trusted proxy forwards when uvicorn runs with --proxy-headers (run
it so behind a proxy, or every client shares the proxy's budget).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway.keys import ApiKeys, Principal
from gateway.limits import RateLimiter, retry_after_header

Header = Callable[[str], object]


class TooManyFailures(Exception):
    """The client address presented too many wrong keys; retry after `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(
            f"too many wrong API keys from this address; retry after {retry_after_header(wait)} s"
        )
        self.wait = wait


@dataclass
class Authenticator:
    """Checks presented keys, counting each client address's wrong ones."""

    keys: ApiKeys
    failures: RateLimiter

    async def principal(self, presented: str, address: str) -> Principal | None:
        """The key's principal, None for a wrong key; TooManyFailures when over budget.

        KeyStoreUnavailable passes through: an outage is nobody's failure.
        """
        known = self.keys.remembered(presented)
        if known is not None:  # costs no lookup: served even to a noisy address (a shared proxy)
            return known
        wait = self.failures.wait(address)
        if wait:
            raise TooManyFailures(wait)
        found = await self.keys.authenticate(presented)
        if found is None:
            self.failures.take(address)
        return found


def client_address(connection: HTTPConnection | None) -> str:
    client = connection.client if connection is not None else None
    return client.host if client is not None else "unknown"


def presented_key(header: Header) -> str | None:
    """The API key presented in X-API-Key or Authorization: Bearer, if any."""
    key, auth = header("X-API-Key"), header("Authorization")
    if isinstance(key, str) and key:
        return key
    return _bearer(auth if isinstance(auth, str) else None)


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None
