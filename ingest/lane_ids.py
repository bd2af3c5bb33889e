"""Request ids of the fast lane's lines, kept as the chunk's bytes in Arrow arrays.

../shared/reference/performance.md: "the cheapest byte is one never parsed in Python". A chunk of
8 MB holds 30-50 k lines with a request id; making a Python string of each, a set of them for
the collector and a pandas string array at the end was a third of the lane's time on text logs.
Here an id is a number into a pool of Arrow strings cut straight from the chunk's bytes; the
questions the lane asks (equal ids, repeated ids, ids the collector knows) are Arrow kernels.
"""

from __future__ import annotations

from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Array = npt.NDArray[Any]


class RequestIds:
    """The request_id of each line of a chunk: ``code[k]`` numbers its string in ``pool()``
    (-1: no id). Strings are not unique in the pool: two lines may hold the same id."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int64)
        self._size = 0
        self._pool: pa.Array | None = None
        self._list: list[str | None] | None = None  # the pool as Python strings, then None
        self._fixed: list[Array] = []  # the parts as fixed-width bytes (numpy "S<width>")
        self._fixed_pool: Array | None = None

    def put(self, idx: Array, fixed: Array, placeholder: Array) -> None:
        """The ids of lines ``idx``, a fixed-width bytes array (one span of one width), but no
        id where ``placeholder``. Spans are ASCII: recipes.py takes an id span only when it is
        ASCII, and lines of one template differ there only in digits and hex letters."""
        keep = ~placeholder
        kept = np.ascontiguousarray(fixed[keep])
        m = len(kept)
        codes = np.full(len(idx), -1, dtype=np.int64)
        codes[keep] = self._size + np.arange(m, dtype=np.int64)
        self.code[idx] = codes
        self._fixed.append(kept)
        self._size += m
        self._pool = self._list = self._fixed_pool = None

    def pool(self) -> pa.Array:
        if self._pool is None:
            parts = [_strings_of(f) for f in self._fixed]
            self._pool = pa.concat_arrays(parts) if parts else pa.array([], pa.large_string())
        return self._pool

    def get(self, k: int) -> str | None:
        code = int(self.code[k])
        return None if code < 0 else str(self.pool()[code].as_py())

    def codes_of(self, rid: str) -> Array:
        """The numbers of the pool's strings equal to ``rid`` (usually none)."""
        if not self._size:
            return np.zeros(0, dtype=np.int64)
        fixed = self._one_width()
        if fixed is not None:
            # numpy compares fixed-width bytes with one memcmp each
            return np.flatnonzero(fixed == rid.encode("utf-8"))
        return np.flatnonzero(_mask(pc.equal(self.pool(), pa.scalar(rid, pa.large_string()))))

    def _one_width(self) -> Array | None:
        """The pool as one fixed-width bytes array when every id has one width (the usual
        case), else None."""
        if len({f.dtype.itemsize for f in self._fixed}) != 1:
            return None
        if self._fixed_pool is None:
            self._fixed_pool = np.concatenate(self._fixed)
        return self._fixed_pool

    def python(self, idx: Array) -> list[str | None]:
        """The ids of lines ``idx`` as Python strings (for a log whose slow path asks many
        questions: the pool is converted once, then every question is a list lookup)."""
        return list(map(self.table().__getitem__, self.code[idx].tolist()))

    def table(self) -> list[str | None]:
        """The pool as Python strings, and None at the end (for code -1)."""
        if self._list is None:
            self._list = [*self.pool().to_pylist(), None]
        return self._list

    def strings(self, idx: Array) -> pa.Array:
        """The ids of lines ``idx`` (null where none)."""
        codes = self.code[idx]
        if not self._size:
            return pa.nulls(len(codes), pa.large_string())
        fixed = self._one_width()
        if fixed is not None:
            # a numpy gather of fixed-width bytes, one memcpy per id: 3x faster than a take
            valid = codes >= 0
            return _strings_of(fixed[np.where(valid, codes, 0)], valid)
        taken: pa.Array = self.pool().take(pa.array(codes, mask=codes < 0))
        return taken

    def column(self, idx: Array) -> pd.arrays.ArrowStringArray:
        """The ids of lines ``idx`` as the events frame's request_id column."""
        return pd.arrays.ArrowStringArray(pa.chunked_array([self.strings(idx)]))

    def same(self, a: Array, b: Array) -> Array:
        """Lines ``a`` and ``b`` (pairwise) both have an id, and it is the same."""
        both = (self.code[a] >= 0) & (self.code[b] >= 0)
        out = np.zeros(len(a), dtype=bool)
        if both.any():
            eq = pc.equal(self.strings(a[both]), self.strings(b[both]))
            out[both] = _mask(eq)
        return out

    def numbers(self) -> tuple[Array, int]:
        """Each line's id numbered by its string (equal ids, equal numbers; -1: none), and how
        many distinct ids there are."""
        pool = self.pool()
        if not len(pool):
            return np.full(len(self.code), -1, dtype=np.int64), 0
        enc = pc.dictionary_encode(pool)
        of_pool = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        numbers = np.where(self.code >= 0, of_pool[np.maximum(self.code, 0)], -1)
        return numbers, len(enc.dictionary)


class ToldIds:
    """The request ids of the lines one chunk's fast lane took, by is_error: what the lane
    tells EventCollector.external (a later slow mention is merged at the end, and never absorbs
    a transport line).

    The slow path asks about a few ids per chunk of a plain log and thousands in a log full of
    tracebacks. A question scans the chunk's ids with an Arrow kernel (0.2-1 ms); sets of Python
    strings answer in constant time but cost about what 20 scans do to build. So a chunk with
    few slow lines (``expect_questions``) scans, up to SCANS questions, and one with many
    builds the sets at the first.
    """

    SCANS = 16

    def __init__(self, ids: RequestIds, is_error: Array) -> None:
        self.ids = ids
        self.is_error = is_error
        self._ranges: list[tuple[int, int]] = []
        self._lines: Array | None = None  # the told lines that have an id
        self._scans = 0  # questions answered by a scan; SCANS: no more
        self._sets: tuple[set[str | None], set[str | None]] | None = None
        self._py: tuple[list[str | None], list[bool], list[bool]] = ([], [], [])
        self._in_sets = 0  # ranges already in the sets

    def expect_questions(self, n: int) -> None:
        """About ``n`` questions will come (the slow lines of the chunk)."""
        if n > self.SCANS:
            self._scans = self.SCANS

    def tell(self, i: int, j: int) -> None:
        """Lines i..j-1 were taken by the lane."""
        self._ranges.append((i, j))
        self._lines = None

    def _told(self) -> Array:
        if self._lines is None:
            lines = np.concatenate([np.arange(i, j) for i, j in self._ranges])
            self._lines = lines[self.ids.code[lines] >= 0]
        return self._lines

    def has(self, rid: str, is_error: bool) -> bool:
        if not self._ranges:
            return False
        if self._scans < self.SCANS:
            self._scans += 1
            codes = self.ids.codes_of(rid)
            if not len(codes):
                return False  # the usual answer: no line of the chunk has the id
            lines = self._told()
            hit = np.isin(self.ids.code[lines], codes) & (self.is_error[lines] == is_error)
            return bool(hit.any())
        return rid in self._by_error()[is_error]

    def _by_error(self) -> tuple[set[str | None], set[str | None]]:
        if self._sets is not None and self._in_sets == len(self._ranges):
            return self._sets  # nothing told since the last question
        if self._sets is None:
            # every line's id and flags as Python lists, once: a chunk full of tracebacks tells
            # thousands of short runs, and numpy's cost per call exceeds the runs' own
            table = self.ids.table()  # code -1 gives None: in the sets, never asked for
            self._py = (
                list(map(table.__getitem__, self.ids.code.tolist())),
                (~self.is_error).tolist(),
                self.is_error.tolist(),
            )
            self._sets = (set(), set())
        ids, ok, error = self._py
        ok_ids, error_ids = self._sets
        for i, j in self._ranges[self._in_sets :]:
            ok_ids.update(compress(ids[i:j], ok[i:j]))
            error_ids.update(compress(ids[i:j], error[i:j]))
        self._in_sets = len(self._ranges)
        return self._sets

    def has_many(self, rids: pa.Array, errors: Array) -> Array:
        """``has`` for each id of ``rids`` (null: False) with its is_error."""
        out = np.zeros(len(rids), dtype=bool)
        if not self._ranges or not len(rids):
            return out
        lines = self._told()
        for flag in (False, True):
            chosen = lines[self.is_error[lines] == flag]
            asked = np.flatnonzero(errors == flag)
            if len(chosen) and len(asked):
                values = self.ids.strings(chosen)
                found = pc.is_in(rids.take(pa.array(asked)), value_set=values)
                out[asked] = _mask(found)
        return out


def _strings_of(fixed: Array, valid: Array | None = None) -> pa.Array:
    """Arrow strings over a fixed-width bytes array (numpy "S<width>", no copy), null where
    not ``valid``."""
    n = len(fixed)
    offsets = np.arange(n + 1, dtype=np.int64) * fixed.dtype.itemsize
    nulls, bitmap = 0, None
    if valid is not None and not valid.all():
        nulls = n - int(valid.sum())
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(fixed)]
    return pa.Array.from_buffers(pa.large_string(), n, buffers, null_count=nulls)


def is_in(rids: pa.Array, values: list[str]) -> Array:
    """Each id of ``rids`` is one of ``values`` (null: False)."""
    if not values or not len(rids):
        return np.zeros(len(rids), dtype=bool)
    return _mask(pc.is_in(rids, value_set=pa.array(values, pa.large_string())))


def _mask(arr: Any) -> Array:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
