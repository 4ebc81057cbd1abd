"""JSON on the wire (NATS messages, jsonb read back from PostgreSQL): orjson, several times
faster than the standard library where every event is encoded or decoded at least once.

orjson refuses integers beyond 64 bits, which the standard library and PostgreSQL's jsonb
accept (an integrator's attribute may hold one): such a document falls back to the standard
library rather than failing. Not for what is hashed: canonical JSON (envelope.py) must stay
byte for byte what it always was.
"""

from __future__ import annotations

import json
from _json import make_encoder
from typing import Any

import orjson


def encode(data: Any, *, sort_keys: bool = False) -> bytes:
    """`data` as compact UTF-8 JSON (keys sorted with `sort_keys`)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except orjson.JSONEncodeError:
        options: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}
        return json.dumps(data, sort_keys=sort_keys, **options).encode()


def decode(data: bytes | str) -> Any:
    """The value of the JSON document `data`."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # also raised for what json.loads refuses: it says why
        return json.loads(data)


# json.dumps(data, ensure_ascii=False, allow_nan=False) builds this C encoder anew at each
# call; built once, it writes the very same text. Unlike json.dumps it keeps no memo of the
# circular-reference check: data that contains itself ends in RecursionError instead.
_chunks = make_encoder(
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ": ", ", ",
    False, False, False,
)  # fmt: skip


def text(data: Any) -> str:
    """`data` as json.dumps(data, ensure_ascii=False, allow_nan=False) writes it (NaN and
    infinities refused): the text SQLAlchemy sends PostgreSQL for json and jsonb values."""
    return "".join(_chunks(data, 0))
