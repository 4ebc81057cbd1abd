"""Typed errors of the kernel. Each names what was wrong, so callers can say it to a user."""

from __future__ import annotations


class KernelError(Exception):
    """Base of every error the kernel raises on purpose."""

    code = "kernel_error"


class ConcurrencyConflict(KernelError):
    """Another writer appended to the stream first."""

    code = "concurrency_conflict"

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream_id!r} is at version {actual_version}, "
            f"but the append expected version {expected_version}"
        )


class IdempotencyKeyReused(KernelError):
    """The same idempotency key came back with a different request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used for a different request; "
            "use a new key for a new request"
        )


class InvalidEvent(KernelError):
    """An event that cannot be stored as it is (bad payload, mixed tenants...)."""

    code = "invalid_event"


class RequestRefused(KernelError):
    """A request a service will not carry out, with a stable code and the field at fault."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        self.code = code
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class RemoteError(KernelError):
    """The error reply of another service, as its client sees it."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        self.code = code
        self.message = message
        self.field = field
        super().__init__(f"[{code}] {field + ': ' if field else ''}{message}")
