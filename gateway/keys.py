"""API keys: the only data the gateway owns. Stored hashed; each bound to one organisation.

A key reads `emp_<key id>_<secret>`. The id finds the row; the secret is compared by its
SHA-256 in constant time. The secret is high-entropy random, so a fast hash is the right
tool (password hashes exist for low-entropy secrets). Creation and revocation are also
appended to the gateway's own event log, so an auditor can see who could call, and when.

A verified key is remembered for `VERIFIED_FOR` seconds, sparing a PostgreSQL round trip per
request. A revocation through this process forgets it at once; one made elsewhere (another
gateway replica, the CLI) takes effect here within `VERIFIED_FOR` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.endpoints import CallContext
from kernel.envelope import NewEvent
from kernel.errors import RequestRefused
from kernel.store import EventStore

SCHEMA = "gateway"
VERIFIED_FOR = 5.0  # seconds: the bound on a revocation made elsewhere
MAX_REMEMBERED = 10_000  # keys, so that memory stays bounded however many keys call
ROLES = ("viewer", "integrator", "auditor", "compliance", "admin")

_md = sa.MetaData(schema=SCHEMA)
api_keys = sa.Table(
    "api_keys",
    _md,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("secret_sha256", sa.LargeBinary, nullable=False),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("roles", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an organisation and the roles its key grants."""

    tenant_id: str
    roles: frozenset[str]
    key_id: str

    def context(self, role: str, correlation: uuid.UUID | None = None) -> CallContext:
        """The call context to send a service, acting in `role` (one this key holds)."""
        ctx = CallContext(tenant_id=self.tenant_id, role=role, actor=f"key:{self.key_id}")
        return replace(ctx, correlation_id=correlation) if correlation else ctx


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str  # the whole key, shown once
    tenant_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class _Verified:
    digest: bytes
    principal: Principal
    until: float


class ApiKeys:
    """Create, revoke and check API keys."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        verified_for: float = VERIFIED_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.log = EventStore(engine, SCHEMA)
        self.verified_for, self.clock = verified_for, clock
        self._verified: dict[str, _Verified] = {}  # by key id

    async def create(self, tenant_id: str, roles: list[str], name: str, actor: str) -> IssuedKey:
        _check_roles(roles)
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        granted = sorted(set(roles))
        now = datetime.now(UTC)
        row = {"key_id": key_id, "secret_sha256": _digest(secret), "tenant_id": tenant_id,
               "roles": granted, "name": name, "created_at": now}  # fmt: skip
        event = NewEvent(
            f"apikey-{key_id}",
            "ApiKeyCreated",
            {"key_id": key_id, "roles": granted, "name": name},
            tenant_id=tenant_id,
            actor=actor,
        )
        async with self.engine.begin() as conn:
            await conn.execute(api_keys.insert().values(**row))
            await self.log.append([event], expected_versions={event.stream_id: 0}, conn=conn)
        return IssuedKey(key_id, f"emp_{key_id}_{secret}", tenant_id, tuple(granted))

    async def revoke(self, tenant_id: str, key_id: str, actor: str) -> bool:
        """Revoke one of `tenant_id`'s keys; False when it has no such live key."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                api_keys.update()
                .where(
                    api_keys.c.key_id == key_id,
                    api_keys.c.tenant_id == tenant_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
            if done.rowcount == 0:
                return False
            event = NewEvent(
                f"apikey-{key_id}",
                "ApiKeyRevoked",
                {"key_id": key_id},
                tenant_id=tenant_id,
                actor=actor,
            )
            await self.log.append([event], conn=conn)
        self._verified.pop(key_id, None)
        return True

    async def authenticate(self, presented: str) -> Principal | None:
        """The principal of a presented key, or None (malformed, unknown, wrong, revoked)."""
        parsed = _parsed(presented)
        if parsed is None:
            return None
        known = self.remembered(presented)
        if known is not None:
            return known
        principal = await self._lookup(*parsed)
        self._remember(*parsed, principal)
        return principal

    def remembered(self, presented: str) -> Principal | None:
        """The principal of a key verified moments ago, without asking the database; else None."""
        parsed = _parsed(presented)
        known = self._verified.get(parsed[0]) if parsed else None
        if parsed and known and known.until > self.clock():
            return known.principal if hmac.compare_digest(known.digest, parsed[1]) else None
        return None

    async def _lookup(self, key_id: str, digest: bytes) -> Principal | None:
        row = await self._key_row(key_id)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(bytes(row.secret_sha256), digest):
            return None
        return Principal(row.tenant_id, frozenset(row.roles), row.key_id)

    async def _key_row(self, key_id: str, *, retry: bool = True) -> sa.Row[Any] | None:
        query = sa.select(api_keys).where(api_keys.c.key_id == key_id)
        try:
            async with self.engine.connect() as conn:
                return (await conn.execute(query)).first()
        except DBAPIError as error:
            # A pooled connection PostgreSQL dropped (it restarted) fails once, and the pool
            # then drops every connection as old: a second try gets a fresh one.
            if retry and error.connection_invalidated:
                return await self._key_row(key_id, retry=False)
            raise KeyStoreUnavailable() from error
        except OSError as error:  # PostgreSQL refuses connections: it is down
            raise KeyStoreUnavailable() from error

    def _remember(self, key_id: str, digest: bytes, principal: Principal | None) -> None:
        """Keep a verified key (only those: wrong ones would let anyone fill the memory)."""
        if principal is None:
            self._verified.pop(key_id, None)
            return
        if len(self._verified) >= MAX_REMEMBERED:
            self._verified.clear()  # rare; everyone is simply checked again
        self._verified[key_id] = _Verified(digest, principal, self.clock() + self.verified_for)


class KeyStoreUnavailable(Exception):
    """The API keys cannot be checked now (the database is unreachable): retry."""

    def __init__(self) -> None:
        super().__init__("API keys cannot be checked right now (database unreachable); retry")


def _parsed(presented: str) -> tuple[str, bytes] | None:
    """(key id, digest of the secret) of a key shaped emp_<id>_<secret>; None otherwise."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "emp":
        return None
    return parts[1], _digest(parts[2])


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _check_roles(roles: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        allowed = ", ".join(ROLES)
        problem = f"unknown role(s) {', '.join(unknown)}" if unknown else "at least one role"
        raise RequestRefused("invalid_roles", f"{problem}; roles are: {allowed}", "roles")


def create_tables(bind: sa.Connection) -> None:
    """DDL of the key table (used by the gateway's migration)."""
    _md.create_all(bind, tables=[api_keys], checkfirst=True)
