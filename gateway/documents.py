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

parsed = lru_cache(maxsize=DOCUMENTS_CACHED)(parse)


class CachedParse(SchemaExtension):
    """Reuse the parse of a document seen before (with the same parse options)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            # One that does not parse is left to strawberry, which reports it as usual.
            with suppress(GraphQLError):
                context.graphql_document = parsed(context.query, **context.parse_options)
        yield


class CachedValidation(SchemaExtension):
    """Reuse the validation verdict on a document text seen before.

    Strawberry's `ValidationCache` keys on the rule classes too, and the depth and alias
    limiters make new ones per request, so it never hits. The rules here are the same for
    every request (the schema's and the limiters', which look at the document alone), so
    the document's text is key enough.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        known = _verdicts.get(context.query) if context.query else None
        if known is not None:
            context.pre_execution_errors = list(known)  # a copy: the request may add to it
        yield
        if known is None and context.query and context.pre_execution_errors is not None:
            if len(_verdicts) >= DOCUMENTS_CACHED:
                del _verdicts[next(iter(_verdicts))]  # the oldest
            _verdicts[context.query] = list(context.pre_execution_errors)


_verdicts: dict[str, list[GraphQLError]] = {}
