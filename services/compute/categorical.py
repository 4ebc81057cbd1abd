"""A request log's text columns as dictionary codes, read without copying what Arrow gives.

Pure: Arrow arrays in, numpy codes out. Every problem is an `InputError` naming the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from services.compute.methods import Codes, IntArray

_ALPHA3 = re.compile("[A-Z]{3}")
BoolArray = npt.NDArray[np.bool_]


class InputError(ValueError):
    """A request log the core cannot compute; the message names the column and the reason."""


@dataclass(frozen=True)
class Categorical:
    """A text column as dictionary codes and the dictionary's values, as given.

    ``codes`` is None when the column is absent (every row has the one value). A given
    dictionary may hold values no row uses: `labelled` checks and names only the used ones.
    """

    column: str
    codes: Codes | None
    values: tuple[str, ...]
    label: Callable[[str], str]  # a value's checked, normalised name; InputError if invalid

    def used(self) -> BoolArray:
        """Which dictionary values some row uses (one pass over the codes)."""
        used = np.ones(len(self.values), dtype=np.bool_)
        if self.codes is not None:
            used[:] = False
            used[self.codes] = True  # a scatter takes any integer width; bincount converts
        return used

    def labelled(self, used: BoolArray) -> tuple[IntArray, tuple[str, ...]]:
        """Code -> index into the names, and the names: used values, labels merged alike."""
        labels = {int(i): self.label(self.values[i]) for i in np.flatnonzero(used)}
        unique = list(dict.fromkeys(labels.values()))
        names = tuple(unique) if len(unique) == len(labels) else tuple(sorted(unique))
        position = {name: i for i, name in enumerate(names)}
        lut = np.zeros(len(self.values), dtype=np.intp)  # unused values: never looked up
        for code, label in labels.items():
            lut[code] = position[label]
        return lut, names


def single_chunk(values: Any) -> Any:
    """A one-chunk ChunkedArray as its chunk: Arrow buffers stay shared, not concatenated."""
    if isinstance(values, pa.ChunkedArray) and values.num_chunks == 1:
        return values.chunk(0)
    return values


def text_column(values: Any, name: str, label: Callable[[str], str]) -> Categorical:
    array = _arrow_text(values, name)
    if array.null_count:
        row = int(np.argmax(array.is_null().to_numpy(zero_copy_only=False)))
        raise InputError(f"{name}: {array.null_count} null values, the first at row {row}")
    encoded = array if pa.types.is_dictionary(array.type) else array.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = tuple(str(n) for n in encoded.dictionary.to_pylist())
    return Categorical(name, codes, names, label)


def _arrow_text(values: Any, name: str) -> Any:
    values = single_chunk(values)
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_dictionary(values.type):
            values = values.unify_dictionaries()
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        try:
            values = pa.array(values, type=pa.string())
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"{name}: expected text values ({exc})") from exc
    text = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text) or pa.types.is_null(text)):
        raise InputError(f"{name}: expected text values, got {values.type}")
    return values


def alpha3_in(column: str) -> Callable[[str], str]:
    def label(name: str) -> str:
        code = name.strip().upper()
        if not _ALPHA3.fullmatch(code):
            raise InputError(f"{column}: {name!r} is not an ISO 3166 alpha-3 country code")
        return code

    return label
