"""Errors clients see: a stable code in `extensions.code`, a message, the field when known.

Anything the gateway did not raise on purpose is masked (`INTERNAL_SERVER_ERROR`, no
details); its trace goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from kernel.errors import RemoteError

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """An error meant for the client."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def forbidden(role_needed: str) -> GatewayError:
    return GatewayError("FORBIDDEN", f"this needs the {role_needed} role")


def typed(error: GraphQLError) -> GraphQLError:
    """`error` with its stable code, or masked when it was not meant for the client."""
    original = error.original_error
    if original is None:
        parse = error.message.startswith("Syntax Error")
        code = "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"
        return _with(error, error.message, code, None)
    if isinstance(original, GatewayError):
        return _with(error, original.message, original.code, _camel(original.field))
    if isinstance(original, RemoteError):
        return _with(error, original.message, original.code.upper(), _camel(original.field))
    log.error("resolver failed", exc_info=original)
    return _with(error, "unexpected error; it is logged", "INTERNAL_SERVER_ERROR", None)


def _camel(field: str | None) -> str | None:
    """A service's field path (`values.valid_from`) as the schema names it (`validFrom`)."""
    if not field:
        return field
    return ".".join(_camel_word(part) for part in field.split("."))


def _camel_word(word: str) -> str:
    if "_" not in word or word.isupper() or "-" in word:
        return word
    head, *rest = word.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _with(error: GraphQLError, message: str, code: str, field: str | None) -> GraphQLError:
    extensions = {"code": code, **({"field": field} if field else {})}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class TypedErrors(SchemaExtension):
    """Turns every error of a result into a typed one (see `typed`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [typed(e) for e in errors]  # type: ignore[union-attr]
