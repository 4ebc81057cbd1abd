"""ActivityInput is built straight from its input value (gateway/schema/ledger.py), as
Strawberry's own conversion would build it."""

from __future__ import annotations

from datetime import date
from typing import Any

import graphql
import pytest
from strawberry.types import get_object_definition
from strawberry.types.arguments import convert_argument

from gateway.schema.ledger import ActivityInput
from gateway.schema.root import schema

VALUES: list[dict[str, Any]] = [
    {"kind": "electricity", "quantity": 2.5, "unit": "kWh", "periodStart": date(2024, 1, 1),
     "periodEnd": date(2024, 2, 1), "site": "hq", "region": "FRA", "source": "meter",
     "attributes": {"instance": "m5.large", "n": [1, None]}},
    {"quantity": 3.0},  # the rest left out: the batch's defaults fill them
    {"kind": None, "attributes": None},  # explicit nulls
]  # fmt: skip


def _converted(value: dict[str, Any]) -> Any:
    return convert_argument(value, ActivityInput, schema.schema_converter.scalar_registry,
                            schema.config)  # fmt: skip


@pytest.mark.parametrize("value", VALUES)
def test_built_from_its_input_as_strawberry_builds_it(value: dict[str, Any]) -> None:
    definition = get_object_definition(ActivityInput, strict=True)
    shortcut, definition.from_input = definition.from_input, None
    try:
        expected = _converted(value)
    finally:
        definition.from_input = shortcut
    assert shortcut is not None
    built = _converted(value)
    assert type(built) is ActivityInput and vars(built) == vars(expected)


def test_every_field_is_a_scalar_the_shortcut_may_take_as_it_is() -> None:
    # A nested input would reach the resolver as a dict: revisit _activity_from_input first.
    found = schema._schema.type_map["ActivityInput"]
    assert isinstance(found, graphql.GraphQLInputObjectType)
    for name, field in found.fields.items():
        assert isinstance(graphql.get_named_type(field.type), graphql.GraphQLScalarType), name
