"""JSON on the wire (NATS messages, jsonb read back from PostgreSQL): orjson, several times
faster than the standard library where every event is encoded or decoded at least once.

orjson refuses integers beyond 64 bits, which the standard library and PostgreSQL's jsonb
accept (an integrator's attribute may hold one): such a document falls back to the standard
library rather than failing. Not for what is hashed: canonical JSON (envelope.py) must stay
byte for byte what it always was.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def encode(data: Any) -> bytes:
    """`data` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def decode(data: bytes | str) -> Any:
    """The value of the JSON document `data`."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # also raised for what json.loads refuses: it says why
        return json.loads(data)
