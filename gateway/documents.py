"""Parsed GraphQL documents, cached: a dashboard sends the same few documents again and again.

Strawberry's own `ParserCache` raises a syntax error from inside its hook, where it escapes
the typed-error path; this one leaves a document that does not parse to strawberry's own
parser, which reports it as usual (errors are never cached).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension

DOCUMENTS_CACHED = 256  # bounded, so that unique documents cannot grow memory

_parsed = lru_cache(maxsize=DOCUMENTS_CACHED)(parse)


class CachedParse(SchemaExtension):
    """Reuse the parse of a document seen before (with the same parse options)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            # One that does not parse is left to strawberry, which reports it as usual.
            with suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, **context.parse_options)
        yield
