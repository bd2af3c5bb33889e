"""The events frame: one row per API call outcome. Scripts and the dashboard depend on it.

Columns and dtypes are fixed and present even when the frame is empty (issue #3, "Contract").
Low-cardinality text is categorical so that an event costs well under 100 bytes in memory
(../shared/reference/performance.md: 62 MB per million rows with categoricals).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: column -> pandas dtype. Order is the order of every output (jsonl keys, csv header, parquet).
EVENT_DTYPES: dict[str, Any] = {
    "timestamp": pd.DatetimeTZDtype("ns", "UTC"),
    "status_code": "Int16",  # reconciled HTTP status (see ingest.normalize.reconcile_status)
    "logged_status": "Int32",  # what the log said, artefacts (44, -1, 200 mid-stream) included
    "code": "category",  # native DashScope code (compat aliases mapped)
    "raw_code": "category",  # the code exactly as logged
    "message": "category",
    "request_id": "string",
    "model": "category",
    "category": "category",  # catalogue category, e.g. "request-rate limit"
    "retryable": "boolean",
    "is_error": "bool",
    "source": "category",  # file name (archive members as archive.zip!member)
    "line": "int64",  # 1-based line number where the record starts
    "mentions": "int32",  # how many times the log mentions this same outcome
    "format": "category",  # name of the format definition that produced the event
}

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_DTYPES)


def empty_events() -> pd.DataFrame:
    """An events frame with no rows and the full schema."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in EVENT_DTYPES.items()})


def coerce_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the contract's columns, in order, with their dtypes."""
    out = {}
    n = len(frame)
    for col, dtype in EVENT_DTYPES.items():
        s = frame[col] if col in frame.columns else pd.Series([None] * n, index=frame.index)
        if col == "timestamp":
            s = pd.to_datetime(s, utc=True, errors="coerce").astype(dtype)
        elif col in ("is_error",):
            s = s.fillna(False).astype(bool)
        elif col in ("line", "mentions"):
            s = pd.to_numeric(s, errors="coerce").fillna(0 if col == "line" else 1).astype(dtype)
        elif dtype == "category":
            s = s.astype("string").astype("category")
        else:
            s = s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out, index=range(n)) if n else empty_events()


def concat_events(frames: list[pd.DataFrame], *, consume: bool = False) -> pd.DataFrame:
    """Concatenate event frames keeping categoricals categorical (categories are unioned).

    ``pd.concat`` turns categoricals with different categories into objects, which for millions
    of rows costs several times the memory of the result. ``consume``: the caller's frames are
    emptied column by column as the result is built, so the peak is the result plus one column
    instead of twice the data.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_events()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out: dict[str, Any] = {}
    for col, dtype in EVENT_DTYPES.items():
        if dtype == "category":
            cats = [_as_categorical(f[col]) for f in frames]
            whole = [(k, 0, len(c)) for k, c in enumerate(cats)]
            out[col] = pd.Series(_join_categorical(cats, whole), copy=False)
        else:
            joined = pd.concat([f[col] for f in frames], ignore_index=True).astype(dtype)
            out[col] = _one_chunk(joined) if dtype == "string" else joined
        if consume:
            for f in frames:
                del f[col]
    # copy=False: a DataFrame made from a dict copies every column by default (the peak of
    # joining the ranges of a 1 GB text log was twice its events because of it)
    return pd.DataFrame(out, copy=False)


def _as_categorical(values: pd.Series) -> Any:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.array
    return pd.Categorical(values.astype("string"))


def _one_chunk(strings: pd.Series) -> pd.Series:
    """Arrow-backed strings in fewer buffers when they come in very many pieces.

    Once a take (the sort by line or time) on an array of dozens of chunks cost 20-30x more than
    on one. With pyarrow 26 it no longer does (1 M request ids, rows moved in blocks: 0.006 s
    on one chunk, 0.010 s on 132), while joining them cost 0.14 s per 256 MB range of a text
    log, so only thousands of pieces (tiny frames) are joined."""
    array = strings.array
    chunked = getattr(array, "_pa_array", None)
    if chunked is None or chunked.num_chunks <= _MAX_CHUNKS:
        return strings
    import pyarrow as pa

    one = type(array)(pa.chunked_array([chunked.combine_chunks()]), dtype=array.dtype)
    return pd.Series(one, index=strings.index, name=strings.name)


#: more Arrow chunks than this in a string column are joined (_one_chunk)
_MAX_CHUNKS = 1024


def sort_in_place(frame: pd.DataFrame, order: npt.NDArray[np.intp]) -> pd.DataFrame:
    """The rows of ``frame`` in ``order``, moved one column at a time: each column of ``frame``
    is dropped as soon as its sorted copy exists, so the peak is one extra column, not a
    second frame (``frame`` is left empty). The index becomes 0..n-1."""
    columns: dict[str, Any] = {}
    for col in list(frame.columns):
        columns[col] = frame[col].array.take(order)
        del frame[col]
    return pd.DataFrame(columns, copy=False)  # the columns are new: no second copy


#: above this many rows to slot in, in_line_order sorts instead (each slot is a slice to join)
_MAX_SLOTS = 2_000


def in_line_order(first: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``first`` and ``parts`` by line, as a stable sort of all of them (``first``
    before ``parts``) would order them. The frames are consumed (``parts`` is emptied).

    ingest.pipeline joins the slow path's events (``first``: a few rows at chunk edges in a
    plain log) with the fast lane's frames (each in line order, one after another). Slotting
    the few rows in between slices of the lane's frames is one copy of the data; joining and
    then sorting was three (the lane's frames, the join, the take of the sort).
    """
    given, parts = parts, [f for f in parts if len(f)]
    lines = first["line"].to_numpy()
    fast_lines = np.concatenate([f["line"].to_numpy() for f in parts]) if parts else lines[:0]
    ordered = (np.diff(lines) >= 0).all() and (np.diff(fast_lines) >= 0).all()
    if not ordered or len(first) > _MAX_SLOTS:
        joined = concat_events([first, *parts], consume=True)
        return sort_in_place(joined, np.argsort(joined["line"].to_numpy(), kind="stable"))
    # slow row j goes before the first fast row of a later line (ties: the slow row first)
    slots = np.searchsorted(fast_lines, lines, side="left")
    bounds = np.cumsum([0, *(len(f) for f in parts)])
    pieces: list[Piece] = []
    done = 0  # fast rows placed so far
    for at, (a, b) in _runs(slots):
        pieces.extend(_fast_pieces(bounds, done, at))
        pieces.append((0, a, b))
        done = at
    pieces.extend(_fast_pieces(bounds, done, int(bounds[-1])))
    if not pieces:
        return empty_events()
    frames = [first, *parts]
    given.clear()  # the caller's list of the lane's frames: _join_pieces releases them
    del parts
    return _join_pieces(frames, pieces)


#: rows start..stop-1 of frame number k
Piece = tuple[int, int, int]


def _runs(slots: npt.NDArray[np.intp]) -> list[tuple[int, tuple[int, int]]]:
    """Runs of equal values of sorted ``slots``: (value, (first row, end row))."""
    if not len(slots):
        return []
    starts = np.flatnonzero(np.diff(slots)) + 1
    edges = [0, *starts.tolist(), len(slots)]
    return [(int(slots[a]), (a, b)) for a, b in pairwise(edges)]


def _fast_pieces(bounds: npt.NDArray[np.int64], lo: int, hi: int) -> list[Piece]:
    """Rows lo..hi-1 of the lane's frames taken as one (frame k + 1 holds rows from
    bounds[k]), as pieces of the frames."""
    out = []
    for k in range(len(bounds) - 1):
        a, b = max(lo, int(bounds[k])), min(hi, int(bounds[k + 1]))
        if a < b:
            out.append((k + 1, a - int(bounds[k]), b - int(bounds[k])))
    return out


def _join_pieces(frames: list[pd.DataFrame], pieces: list[Piece]) -> pd.DataFrame:
    """The pieces of ``frames`` one after the other, column by column (the list is emptied:
    the frames are consumed). concat_events of the pieces as frames did the same, but unioning
    categories piece by piece costs about 1 ms a piece and column (0.1-0.2 s per 300 MB of
    log)."""
    # the frames are let go at once (``frames`` is emptied; the caller holds none of them any
    # more) and each column is released once it is joined: deleting column by column from
    # each frame did the same at 0.26 s per GB of log
    columns = {col: [f[col].array for f in frames] for col in EVENT_DTYPES}
    frames.clear()
    out: dict[str, Any] = {}
    for col, dtype in EVENT_DTYPES.items():
        arrays = columns.pop(col)
        if dtype == "category":
            out[col] = _join_categorical(arrays, pieces)
        else:
            chosen = [arrays[k][a:b] for k, a, b in pieces]
            if all(x.dtype == chosen[0].dtype for x in chosen):
                joined_array = type(chosen[0])._concat_same_type(chosen)
                joined = pd.Series(joined_array, copy=False).astype(dtype)
            else:
                joined = pd.concat([pd.Series(x) for x in chosen], ignore_index=True)
                joined = joined.astype(dtype)
            out[col] = _one_chunk(joined) if dtype == "string" else joined
        del arrays
    return pd.DataFrame(out, copy=False)


def _join_categorical(cats: list[Any], pieces: list[Piece]) -> pd.Categorical:
    """The pieces of categoricals ``cats`` one after the other, their categories unioned and
    sorted: parts that are tidy (tidy_categories) make a tidy whole, with no count of the codes
    (0.16 s for the 4 M rows of a 1 GB log, in the parent after a parallel parse). A part whose
    categories are the union keeps its codes (the ranges of one file, usually); the others are
    recoded in the codes' own small type (int8 ...)."""
    used = list(dict.fromkeys(k for k, _a, _b in pieces))
    union = cats[used[0]].categories
    for k in used[1:]:
        union = union.union(cats[k].categories)
    if not union.is_monotonic_increasing:  # mixed types that do not sort: as they came
        union = pd.Index(pd.unique(np.concatenate([cats[k].categories.to_numpy() for k in used])))
    width = np.min_scalar_type(-len(union) - 1)
    tables = {
        k: np.append(union.get_indexer(cats[k].categories), -1).astype(width)  # -1 stays
        for k in used
        if not cats[k].categories.equals(union)
    }
    codes: list[Any] = [
        tables[k][cats[k].codes[a:b]] if k in tables else cats[k].codes[a:b] for k, a, b in pieces
    ]
    dtype = pd.CategoricalDtype(union)
    return pd.Categorical.from_codes(np.concatenate(codes), dtype=dtype, validate=False)


def tidy_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the categories in use, in sorted order: the frame does not depend on how it was
    assembled (which chunk or process saw a value first, which rows merged away)."""
    for col, dtype in EVENT_DTYPES.items():
        if dtype != "category":
            continue
        tidy = _tidy_categorical(frame[col].array)
        if tidy is not None:
            frame[col] = tidy
    return frame


def _tidy_categorical(values: pd.Categorical) -> pd.Categorical | None:
    """``values`` with only the categories in use, sorted; None when it is that already.

    A count of the codes says which categories are used: pandas' remove_unused_categories
    hashes every row (0.4 s for 7 columns of 4 M rows, in the parent after a parallel parse).
    """
    cats = values.categories
    codes = values.codes
    seen = np.zeros(len(cats) + 1, dtype=bool)
    seen[codes] = True  # a missing value (-1) marks the extra last slot
    used = seen[:-1]
    if used.all() and (len(cats) <= 1 or cats.is_monotonic_increasing):
        return None
    kept = np.flatnonzero(used)
    order = np.argsort(cats[kept].to_numpy(dtype=object), kind="stable")
    # remap[-1]: a missing value stays so; in the codes' own small type (int8 ...)
    remap = np.full(len(cats) + 1, -1, dtype=codes.dtype)
    remap[kept[order]] = np.arange(len(kept))
    return pd.Categorical.from_codes(remap[codes], categories=cats[kept[order]], validate=False)


def _fingerprints(ids: pd.Series) -> npt.NDArray[np.uint64]:
    """A 64-bit fingerprint of each request_id (its length and first and last 8 bytes), read
    from the Arrow buffers in batches: no hash table of millions of strings. Equal ids have
    equal fingerprints; equal fingerprints are only candidates (checked exactly after)."""
    import pyarrow as pa

    arr = pa.array(ids.array) if isinstance(ids.dtype, pd.StringDtype) else pa.array(ids)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = []
    lanes = np.arange(8)
    weights = np.uint64(1) << (np.arange(8, dtype=np.uint64) * np.uint64(8))
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[
            chunk.offset : chunk.offset + n + 1
        ]
        data_buf = chunk.buffers()[2]
        data = (
            np.frombuffer(data_buf, dtype=np.uint8)
            if data_buf is not None
            else np.zeros(1, np.uint8)
        )
        if not len(data):
            data = np.zeros(1, np.uint8)
        # every offset of the data as the little-endian word of the 8 bytes from there: the
        # first and last 8 bytes of an id of 8 or more are one read each
        words = np.ndarray((max(len(data) - 7, 0),), dtype="<u8", buffer=data, strides=(1,))
        prints = np.zeros(n, dtype=np.uint64)
        for lo in range(0, n, 1 << 17):
            hi = min(n, lo + (1 << 17))
            starts, ends = offsets[lo:hi], offsets[lo + 1 : hi + 1]
            length = ends - starts
            h1 = np.zeros(hi - lo, dtype=np.uint64)
            h2 = np.zeros(hi - lo, dtype=np.uint64)
            long = np.flatnonzero(length >= 8)
            h1[long] = words[starts[long]]
            h2[long] = words[ends[long] - 8]
            short = np.flatnonzero(length < 8)  # byte by byte, zeros past the end
            if len(short):
                s0, e0 = starts[short][:, None], ends[short][:, None]
                head = np.where(lanes < e0 - s0, data[np.clip(s0 + lanes, 0, len(data) - 1)], 0)
                tail_pos = e0 - 8 + lanes
                tail = np.where(tail_pos >= s0, data[np.clip(tail_pos, 0, len(data) - 1)], 0)
                h1[short] = head.astype(np.uint64) @ weights
                h2[short] = tail.astype(np.uint64) @ weights
            with np.errstate(over="ignore"):
                prints[lo:hi] = (
                    h1 * np.uint64(0x9E3779B97F4A7C15)
                    ^ h2 * np.uint64(0xC2B2AE3D27D4EB4F)
                    ^ length.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
                )
        out.append(prints)
    result: npt.NDArray[np.uint64] = np.concatenate(out) if out else np.zeros(0, np.uint64)
    return result


Prints = npt.NDArray[np.uint64]


def _distinct(ordered: Prints) -> Prints:
    """The distinct values of a sorted array."""
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    result: Prints = ordered[keep]
    return result


def outcome_fingerprints(frame: pd.DataFrame) -> Prints:
    """The fingerprint of each row's (request_id, is_error) outcome (0 for a row without a
    request_id)."""
    ids = frame["request_id"]
    present = ids.notna().to_numpy()
    if not present.any():
        return np.zeros(len(frame), np.uint64)
    prints = _fingerprints(ids) ^ frame["is_error"].to_numpy().astype(np.uint64)
    prints[~present] = 0
    return prints


def outcome_prints(frame: pd.DataFrame) -> Prints:
    """The distinct fingerprints of the (request_id, is_error) outcomes of ``frame``, sorted."""
    present = frame["request_id"].notna().to_numpy()
    if not present.any():
        return np.zeros(0, np.uint64)
    return _distinct(np.sort(outcome_fingerprints(frame)[present]))


def share_outcomes(parts: list[Prints]) -> bool:
    """Two of the parts (outcome_prints of frames, each sorted and distinct) may have an
    outcome in common.

    A table of seen slots (the top bits of a fingerprint) says which fingerprints of a part
    may be in an earlier one; only those are searched for there (four parts of a million:
    0.03 s; searching all of them took 0.11, sorting them together 0.16)."""
    parts = [p for p in parts if len(p)]
    if len(parts) < 2:
        return False
    bits = min(24, max(10, int(sum(len(p) for p in parts)).bit_length() + 2))
    shift = np.uint64(64 - bits)
    seen = np.zeros(1 << bits, dtype=bool)
    for k, part in enumerate(parts):
        slots = (part >> shift).astype(np.intp)
        if k:
            maybe = part[seen[slots]]
            for earlier in parts[:k] if len(maybe) else []:
                at = np.minimum(np.searchsorted(earlier, maybe), len(earlier) - 1)
                if (earlier[at] == maybe).any():
                    return True
        seen[slots] = True
    return False


def _repeat_groups(
    frame: pd.DataFrame, prints_out: list[Prints] | None = None
) -> npt.NDArray[np.int64] | None:
    """For each row, the number of its (request_id, is_error) outcome when that outcome has
    several rows, else -1; None when no outcome repeats. ``prints_out`` receives
    ``outcome_prints(frame)``, found on the way."""
    ids = frame["request_id"]
    present = ids.notna().to_numpy()
    if not present.any():
        if prints_out is not None:
            prints_out.append(np.zeros(0, np.uint64))
        return None
    prints = outcome_fingerprints(frame)
    ordered = np.sort(prints[present])
    if prints_out is not None:
        prints_out.append(_distinct(ordered))
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])  # fingerprints seen twice
    maybe = present & np.isin(prints, twice)
    if not maybe.any():
        return None
    pos = np.flatnonzero(maybe)
    candidates = pd.DataFrame(
        {
            "request_id": ids.iloc[pos].to_numpy(dtype=object),
            "is_error": frame["is_error"].iloc[pos],
        }
    )
    group = candidates.groupby(["request_id", "is_error"], sort=False).ngroup().to_numpy()
    sizes = np.bincount(group)
    repeated = sizes[group] > 1
    if not repeated.any():
        return None
    result = np.full(len(frame), -1, dtype=np.int64)
    result[pos[repeated]] = group[repeated]
    return result


def merge_by_request_id(
    frame: pd.DataFrame, *, prints_out: list[Prints] | None = None
) -> pd.DataFrame:
    """One row per (request_id, is_error): the earliest mention, mentions summed, gaps filled.

    The same outcome can be mentioned in two parts of a file parsed apart (byte ranges in
    several processes, rows already flushed to columns while parsing a long file, or the two
    lanes of ingest.fastlane). Rows keep their order; only the repeated outcomes are touched, so
    a big frame is copied once at most. ``prints_out`` receives ``outcome_prints`` of the
    result (merging removes no outcome), for ``share_outcomes``.
    """
    if not len(frame):
        if prints_out is not None:
            prints_out.append(np.zeros(0, np.uint64))
        return frame
    groups = _repeat_groups(frame, prints_out)
    if groups is None:
        return frame
    pos = np.flatnonzero(groups >= 0)
    parts = frame.iloc[pos].assign(_group=groups[pos], _pos=pos)
    parts = parts.sort_values("line", kind="stable")
    by = parts.groupby("_group", observed=True, sort=False)
    merged = by.first()  # the first non-null value of each column, in line order
    merged["mentions"] = by["mentions"].sum()
    merged["_pos"] = by["_pos"].first()  # where the earliest mention stands
    keep = merged["_pos"].to_numpy()
    return replace_merged(frame, keep, merged, np.setdiff1d(pos, keep))


def replace_merged(
    frame: pd.DataFrame, keep: npt.NDArray[Any], merged: pd.DataFrame, drop: npt.NDArray[Any]
) -> pd.DataFrame:
    """``frame`` without its rows at positions ``drop``, and its rows at positions ``keep``
    holding the values of ``merged`` (a row each, in that order): the end of a merge of
    repeated outcomes (merge_by_request_id here; ingest.bounded across parts on disk)."""
    out = frame.drop(index=frame.index[drop]).reset_index(drop=True)
    remaining = np.setdiff1d(np.arange(len(frame)), drop)
    rows = out.index[np.searchsorted(remaining, keep)]
    for col in EVENT_COLUMNS:
        if col in ("request_id", "is_error"):
            continue  # the same within an outcome (and rewriting the id column copies it all)
        values = merged[col]
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            values = values.astype("string").astype(out[col].dtype)
        else:
            values = values.astype(out[col].dtype)
        out.loc[rows, col] = values.to_numpy()
    return out
