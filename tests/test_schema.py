"""schema.merge_by_request_id: one row per (request_id, is_error), found without hashing millions
of strings (fingerprints of the Arrow buffers, then an exact check of the candidates)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.schema import (
    EVENT_COLUMNS,
    coerce_events,
    concat_events,
    in_line_order,
    merge_by_request_id,
    outcome_prints,
    share_outcomes,
)


def _frame(rows: list[tuple[str | None, bool, int]]) -> pd.DataFrame:
    data = {
        "request_id": [r for r, _e, _l in rows],
        "is_error": [e for _r, e, _l in rows],
        "line": [line for _r, _e, line in rows],
        "mentions": [1] * len(rows),
        "code": [f"C{line % 3}" if line % 2 else None for _r, _e, line in rows],
        "model": ["qwen-max" if line % 5 else None for _r, _e, line in rows],
        "timestamp": [
            pd.Timestamp("2026-11-20", tz="UTC") + pd.Timedelta(seconds=line)
            for _r, _e, line in rows
        ],
    }
    return coerce_events(pd.DataFrame(data))


def _reference(frame: pd.DataFrame) -> pd.DataFrame:
    """The plain groupby definition: earliest line kept, mentions summed, gaps filled."""
    keyed = frame[frame["request_id"].notna()]
    loose = frame[frame["request_id"].isna()]
    parts = keyed.sort_values("line", kind="stable")
    by = parts.groupby(["request_id", "is_error"], observed=True, sort=False)
    merged = by.first().reset_index()
    merged["mentions"] = by["mentions"].sum().to_numpy()
    out = concat_events([loose, coerce_events(merged[list(EVENT_COLUMNS)])])
    return out.sort_values(["line", "is_error"]).reset_index(drop=True)


IDS = st.sampled_from(
    [
        None,
        "",
        "a",
        "short",
        "8d5c1f0e-0000-4000-8000-000000000001",
        "8d5c1f0e-1111-4000-8000-000000000001",  # same head, tail and length: a candidate only
        "8d5c1f0e-0000-4000-8000-000000000002",
        "请求-中文-id-0001",
        "x" * 200,
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(IDS, st.booleans()), max_size=40), st.integers(1, 4))
def test_merge_matches_the_groupby_definition(
    ids: list[tuple[str | None, bool]], parts: int
) -> None:
    rows = [(r, e, k + 1) for k, (r, e) in enumerate(ids)]
    frame = _frame(rows)
    # several chunks, as after concatenating the frames of byte ranges
    size = max(1, len(rows) // parts)
    chunked = concat_events([frame.iloc[i : i + size] for i in range(0, len(frame), size)])
    got = merge_by_request_id(chunked).sort_values(["line", "is_error"]).reset_index(drop=True)
    want = _reference(frame)
    pd.testing.assert_frame_equal(got, want, check_categorical=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(IDS, st.booleans()), max_size=40), st.integers(1, 4))
def test_ranges_share_an_outcome_when_one_is_in_two(
    ids: list[tuple[str | None, bool]], parts: int
) -> None:
    """ingest.parallel skips the final merge when share_outcomes says no range shares an
    outcome: it must say yes whenever one does (a false yes only costs a merge)."""
    frame = merge_by_request_id(_frame([(r, e, k + 1) for k, (r, e) in enumerate(ids)]))
    size = max(1, len(frame) // parts)
    ranges = [frame.iloc[i : i + size] for i in range(0, len(frame), size)]
    outcomes = [
        {(r, e) for r, e in zip(f["request_id"], f["is_error"], strict=True) if not pd.isna(r)}
        for f in ranges
    ]
    shared = any(a & b for k, a in enumerate(outcomes) for b in outcomes[k + 1 :])
    prints = [outcome_prints(f) for f in ranges]
    assert all((p[1:] > p[:-1]).all() for p in prints)  # sorted and distinct
    # a yes without a shared outcome is a fingerprint collision (IDS has one on purpose)
    assert share_outcomes(prints) or not shared
    got: list[Any] = []
    merge_by_request_id(frame, prints_out=got)
    assert (got[0] == outcome_prints(frame)).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 30), max_size=12),
    st.lists(st.lists(st.integers(1, 30), max_size=15), max_size=4),
    st.booleans(),
)
def test_in_line_order_is_a_stable_sort_by_line(
    slow: list[int], lanes: list[list[int]], shuffle_slow: bool
) -> None:
    """ingest.pipeline slots the slow path's rows between slices of the lane's frames: the
    same rows in the same order as joining everything and sorting by line (stable)."""
    fast_lines = sorted(x for lane in lanes for x in lane)
    slow_lines = slow if shuffle_slow else sorted(slow)  # unsorted: the sorting fallback
    cut = [0]
    for lane in lanes:
        cut.append(cut[-1] + len(lane))

    def frames() -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        first = _frame([(f"s{k}", k % 2 == 0, line) for k, line in enumerate(slow_lines)])
        every = _frame([(f"f{k}", k % 3 == 0, line) for k, line in enumerate(fast_lines)])
        parts = [every.iloc[a:b].reset_index(drop=True) for a, b in pairwise(cut)]
        return first, parts

    first, parts = frames()
    got = in_line_order(first, parts)
    first, parts = frames()
    joined = concat_events([first, *parts])
    want = joined.iloc[np.argsort(joined["line"].to_numpy(), kind="stable")]
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_categorical=False
    )
