"""What the two paths compute over: every row (full), or every distinct key (eco).

The eco path combines the three dictionary codes of a row (client country, server country,
device) into one small integer key, then sums bytes, execution time and requests per key in
one unbuffered pass each (``np.add.at``). Every emission is linear in those sums once the
key is fixed, so computing once per key gives the full path's result. Nothing here hashes
text or sorts rows unless the possible keys far outnumber the rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.compute.categorical import BoolArray, Categorical, InputError
from services.compute.columns import Groups, RequestLog, checked_rows, refuse_infinite
from services.compute.methods import Codes, FloatArray, IntArray

# Up to this many possible keys, or this many per row, each sum is one array over every key.
_DENSE_KEYS = 1 << 20
_DENSE_KEYS_PER_ROW = 2
_MAX_KEY_SPACE = 1 << 63  # keys are unsigned 64-bit at most
_CHUNK_ROWS = 1 << 15  # eco path: rows checked, keyed and summed while in cache (L2)


@dataclass(frozen=True)
class Names:
    """The names the groups' codes index: used values only, checked and normalised."""

    client: tuple[str, ...]
    server: tuple[str, ...]
    device: tuple[str, ...]
    server_column: str


def every_row(log: RequestLog, with_requests: bool) -> tuple[Groups, Names]:
    """Full path: each row is a group, its codes pointing into the names of the used values."""
    refuse_infinite(log)
    rows = len(log.bytes)
    client, server, device = (_row_codes(c, rows) for c in _columns(log))
    requests = None
    if with_requests:
        requests = log.count if log.count is not None else np.ones(len(log.bytes))
    groups = Groups(
        client[0], server[0], device[0], log.bytes, log.exec_ms, requests, log.rows_without_exec_ms
    )
    return groups, Names(client[1], server[1], device[1], log.server_column)


def in_blocks(groups: Groups, rows: int) -> Iterator[Groups]:
    """The groups ``rows`` at a time, as views (at least one block, maybe empty)."""
    for start in range(0, max(len(groups.bytes), 1), rows):
        block = slice(start, start + rows)
        yield Groups(
            groups.client[block],
            groups.server[block],
            groups.device[block],
            groups.bytes[block],
            None if groups.exec_ms is None else groups.exec_ms[block],
            None if groups.requests is None else groups.requests[block],
        )


def _row_codes(column: Categorical, rows: int) -> tuple[Codes, tuple[str, ...]]:
    lut, names = column.labelled(column.used())
    if column.codes is None:
        return np.broadcast_to(np.intp(0), (rows,)), names
    if np.array_equal(lut, np.arange(len(lut))):
        return column.codes, names  # codes already index the names: no pass over the rows
    return lut[column.codes], names


def distinct_keys(log: RequestLog, with_requests: bool) -> tuple[Groups, Names]:
    """Eco path: one group per key with any activity, its bytes, time and requests summed."""
    columns = _columns(log)
    sizes = [len(c.values) for c in columns]
    weights = Weights(log, with_requests)
    keys, sums = _sum_per_key(Keys(columns, sizes, len(log.bytes)), weights)
    refuse_infinite(log, given_sums_are_finite=all(np.isfinite(s).all() for s in sums.values()))
    client, rest = np.divmod(keys, sizes[1] * sizes[2])
    server, device = np.divmod(rest, sizes[2])
    raw = (client, server, device)
    coded = [c.labelled(_used(c, r)) for c, r in zip(columns, raw, strict=True)]
    client, server, device = (lut[r] for (lut, _), r in zip(coded, raw, strict=True))
    without = log.rows_without_exec_ms + weights.rows_without_exec_ms
    groups = Groups(
        client, server, device, sums["bytes"], sums.get("exec_ms"), sums.get("requests"), without
    )
    return groups, Names(coded[0][1], coded[1][1], coded[2][1], log.server_column)


def _columns(log: RequestLog) -> tuple[Categorical, Categorical, Categorical]:
    return log.client, log.server, log.device


def _used(column: Categorical, active: IntArray) -> BoolArray:
    """Values used by a key with activity; a value only seen on idle rows needs a full look."""
    used = np.zeros(len(column.values), dtype=np.bool_)
    used[active] = True
    return used if used.all() else column.used()


@dataclass(frozen=True)
class Keys:
    """A row's key: ((client · servers) + server) · devices + device (Horner: no scratch).

    In the codes' own integer type when it holds every possible key (Arrow's are int32): the
    arithmetic then runs on the codes as they are, without a cast on each pass; else in the
    narrowest unsigned type that does.
    """

    columns: Sequence[Categorical]
    sizes: list[int]
    rows: int

    @property
    def space(self) -> int:
        space = self.sizes[0] * self.sizes[1] * self.sizes[2]
        if space > _MAX_KEY_SPACE:  # only dictionaries of millions of spellings could get here
            widest = max(zip(self.sizes, (c.column for c in self.columns), strict=True))
            raise InputError(f"{widest[1]}: {widest[0]} distinct values, too many to group by")
        return space

    @property
    def dtype(self) -> np.dtype[np.integer[Any]]:
        space = self.space
        given = {c.codes.dtype for c in self.columns if c.codes is not None}
        if len(given) == 1:
            (codes,) = given
            if np.iinfo(codes).max >= space - 1:
                return codes
        return np.dtype(
            np.uint16 if space <= 1 << 16 else np.uint32 if space <= 1 << 32 else np.uint64
        )

    def of(self, rows: slice, out: Codes) -> Codes:
        """The keys of ``rows``, written into ``out`` (as long as the slice)."""
        first, second, third = (c.codes for c in self.columns)
        if first is None:
            out[:] = 0
        else:  # the first code times the second's size, in one pass
            np.multiply(first[rows], self.sizes[1], out=out, dtype=out.dtype, casting="unsafe")
        if second is not None:  # an absent column has the one code 0
            np.add(out, second[rows], out=out, dtype=out.dtype, casting="unsafe")
        if self.sizes[2] > 1:
            np.multiply(out, self.sizes[2], out=out, dtype=out.dtype, casting="unsafe")
        if third is not None:
            np.add(out, third[rows], out=out, dtype=out.dtype, casting="unsafe")
        return out


@dataclass
class Weights:
    """What is summed per key, read ``rows`` at a time: a log read unchecked has each chunk
    checked here (`checked_rows`), while it is in cache, rather than in a pass of its own."""

    log: RequestLog
    with_requests: bool
    rows_without_exec_ms: int = 0  # counted in the chunks checked here

    @property
    def names(self) -> list[str]:
        names = ["bytes"] if self.log.exec_ms is None else ["bytes", "exec_ms"]
        return [*names, "requests"] if self.with_requests else names

    def of(self, name: str, rows: slice) -> FloatArray | float:
        if name == "requests":
            return 1.0 if self.log.count is None else self.log.count[rows]
        values, without = checked_rows(self.log, name, rows)
        self.rows_without_exec_ms += without
        return values


def _sum_per_key(keys: Keys, weights: Weights) -> tuple[IntArray, dict[str, FloatArray]]:
    """The keys with any activity and each weight summed per such key."""
    space = keys.space
    if space <= max(_DENSE_KEYS_PER_ROW * keys.rows, _DENSE_KEYS):
        found, sums = None, _dense_sums(keys, weights)
    else:  # too many possible keys for an array each: number the distinct ones (a sort)
        every = keys.of(slice(None), np.empty(keys.rows, keys.dtype))
        found, index = np.unique(every, return_inverse=True)
        all_rows = slice(0, keys.rows)
        sums = {n: _added(index, len(found), weights.of(n, all_rows)) for n in weights.names}
    active = np.zeros(len(sums["bytes"]), dtype=np.bool_)
    for summed in sums.values():
        active |= summed != 0  # a key with no bytes, time or requests emits nothing
    where = np.flatnonzero(active)
    key = where if found is None else found[where].astype(np.intp)
    return key, {name: summed[where] for name, summed in sums.items()}


def _dense_sums(keys: Keys, weights: Weights) -> dict[str, FloatArray]:
    """Sums over every possible key, rows taken a chunk at a time so each chunk's keys stay
    in cache between being made and being used (and no key array over all rows exists).

    Each chunk's keys are made in the codes' type, then copied once to intp: ``np.add.at``
    would convert any other index type itself, once per weight and more slowly.
    """
    sums = {name: np.zeros(keys.space, dtype=np.float64) for name in weights.names}
    made = np.empty(min(keys.rows, _CHUNK_ROWS), keys.dtype)
    index = made if made.dtype == np.intp else np.empty(len(made), np.intp)
    for start in range(0, keys.rows, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        size = min(keys.rows - start, _CHUNK_ROWS)
        key = keys.of(rows, made[:size])
        if index is not made:
            key = index[:size]
            np.copyto(key, made[:size], casting="unsafe")  # every key is under 2**63
        for name, summed in sums.items():
            np.add.at(summed, key, weights.of(name, rows))
    return sums


def _added(index: Codes, size: int, weights: FloatArray | float) -> FloatArray:
    summed = np.zeros(size, dtype=np.float64)
    np.add.at(summed, index, weights)
    return summed
