"""NATS names every service derives the same way from its namespace and service name."""

from __future__ import annotations


def events_subject(namespace: str, service: str, event_type: str = ">") -> str:
    """`empreinte.<service>.events.<Type>`; `>` (the default) matches every type."""
    return f"{namespace}.{service}.events.{event_type}"


def events_stream(namespace: str, service: str) -> str:
    """`EMPREINTE_<SERVICE>`: the JetStream stream holding one service's events."""
    return f"{namespace}_{service}".upper()


def dead_letter_subject(namespace: str, consumer: str) -> str:
    """Where a consumer puts the messages its handler keeps failing on."""
    return f"{namespace}.deadletter.{consumer}"


def dead_letter_stream(namespace: str) -> str:
    return f"{namespace}_DEADLETTER".upper()


def endpoint_subject(namespace: str, service: str, verb: str) -> str:
    """`empreinte.<service>.<verb>`: a request-reply endpoint."""
    return f"{namespace}.{service}.{verb}"
