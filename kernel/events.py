"""Domain events: frozen, past-tense, versioned payload models, declared in `contracts/`.

A contract declares each event as a `DomainEvent` subclass with its `event_type` and
`schema_version`; services turn them into `NewEvent`s to append and read them back from
`RecordedEvent`s (after upcasting, so a handler only ever sees the current version).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import ClassVar, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent

E = TypeVar("E", bound="DomainEvent")


class DomainEvent(BaseModel):
    """Base of every event payload: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_new_event(
        self,
        stream_id: str,
        ctx: CallContext,
        *,
        occurred_at: datetime | None = None,
        causation_id: UUID | None = None,
    ) -> NewEvent:
        """This payload as an event to append on `stream_id`, on behalf of `ctx`."""
        event = NewEvent(
            stream_id=stream_id,
            type=self.event_type,
            payload=self.model_dump(mode="json"),
            tenant_id=ctx.tenant_id,
            schema_version=self.schema_version,
            actor=ctx.actor,
            causation_id=causation_id,
            correlation_id=ctx.correlation_id,
        )
        return event if occurred_at is None else replace(event, occurred_at=occurred_at)

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> Self:
        """The payload of `event`, which must be of this type and current version."""
        cls.check(event.type, event.schema_version)
        return cls.model_validate(event.payload)

    @classmethod
    def check(cls, kind: str, version: int) -> None:
        """Refuse an event that is not of this type at its current version."""
        if kind != cls.event_type or version != cls.schema_version:
            found = f"{kind} v{version}"
            raise ValueError(f"{found} is not {cls.event_type} v{cls.schema_version}")


class EventCatalogue:
    """The event types of one service, by name: what a consumer of its stream can decode."""

    def __init__(self, *types: type[DomainEvent]) -> None:
        self.by_type = {t.event_type: t for t in types}

    def decode(self, event: RecordedEvent) -> DomainEvent:
        """The typed payload of `event`; KeyError names an unknown type."""
        return self.type_of(event.type).from_recorded(event)

    def check(self, kind: str, version: int) -> None:
        """What `decode` refuses, without decoding: an unknown type (KeyError) or a
        version other than its current one (ValueError)."""
        self.type_of(kind).check(kind, version)

    def type_of(self, kind: str) -> type[DomainEvent]:
        try:
            return self.by_type[kind]
        except KeyError:
            raise KeyError(f"unknown event type {kind!r}") from None

    def subjects(self) -> Iterable[str]:
        return self.by_type.keys()
