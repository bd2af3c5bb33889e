"""Rollups answer exactly what the events answer.

The dataset here is written part by part like an ingest would (three interleaved segments, so
rollup rows of the same minute and values sit in several files and request_ids repeat across
them), without rollups, then completed by ``ingest.store.rollups.complete`` (the backfill path
of an older dataset). Events without a time, corrected statuses, missing codes, models and
statuses, two days and a bit are in it. Every question the pages ask is asked of
``DatasetQuery`` with rollups and without (``rollups=False``: the events) under many filters:
none, scope, outcome, windows on and off the minute and the hour, inside one minute, across a
day, empty; buckets from seconds to hours in zones whose offsets are not whole hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures_events import DAY_START, make_events

from ingest import queries
from ingest.queries import Filters
from ingest.schema import coerce_events
from ingest.store import rollups
from ingest.store.manifest import FileEntry, Manifest, Segment
from ingest.store.query import DatasetQuery
from ingest.store.writer import write_parts

ZONES = ("UTC", "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns")
PIECES = 3


def tricky_events(seed: int = 11) -> pd.DataFrame:
    """make_events over two days and a bit, with the awkward values real logs have."""
    rng = np.random.default_rng(seed)
    a = make_events(3000, seed=seed, hostile=True)
    b = make_events(2000, seed=seed + 1)
    b["timestamp"] = b["timestamp"] + pd.Timedelta(days=1, minutes=7, seconds=30)
    b["line"] = b["line"] + 10_000
    frame = pd.concat([a.astype(object), b.astype(object)], ignore_index=True)
    n = len(frame)
    errors = np.flatnonzero(frame["is_error"].to_numpy(dtype=bool))
    pick = rng.choice(errors, size=60, replace=False)
    frame.loc[pick[:8], "timestamp"] = pd.NaT  # no time
    frame.loc[rng.choice(n, 5, replace=False), "timestamp"] = pd.NaT
    frame.loc[pick[8:16], "logged_status"] = 200  # an error that arrived mid-stream
    frame.loc[pick[16:20], "status_code"] = None
    frame.loc[pick[20:24], ["code", "category"]] = None
    frame.loc[pick[24:28], "model"] = None
    # request_ids repeated: same minute, other minutes, other days, other segments
    for k in range(28, 60, 4):
        frame.loc[pick[k + 1 : k + 4], "request_id"] = frame.loc[pick[k], "request_id"]
    frame.loc[0, "timestamp"] = DAY_START + pd.Timedelta(hours=3)  # exactly on an hour
    return coerce_events(frame)


def write_dataset(frame: pd.DataFrame, dataset: Path, pieces: int = PIECES) -> None:
    """``frame`` as ``pieces`` committed segments (rows dealt round-robin) without rollups, then
    completed: rollups backfilled and the shared-ids file written."""
    manifest = Manifest(tz="Asia/Shanghai")
    for k in range(pieces):
        chunk = frame.iloc[k::pieces]
        parts = write_parts(chunk, dataset, f"piece{k}")
        entry = FileEntry(f"/synthetic/{k}.log", 0, 0, 0, "", "range", "utf-8", True)
        entry.segments = [Segment(0, 0, 0, f"piece{k}", done=True, parts=parts, events=len(chunk))]
        manifest.files[f"piece{k}"] = entry
    manifest.save(dataset)
    assert rollups.complete(dataset, manifest)
    manifest.save(dataset)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return tricky_events()


@pytest.fixture(scope="module")
def dataset(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rollups") / "ds"
    write_dataset(frame, out)
    return out


@pytest.fixture(scope="module")
def both(dataset: Path) -> Iterator[tuple[DatasetQuery, DatasetQuery]]:
    rolled, plain = DatasetQuery(dataset), DatasetQuery(dataset, rollups=False)
    assert rolled.rollups
    assert rolled.shared_ids
    assert not plain.rollups
    yield rolled, plain
    rolled.close()
    plain.close()


def _filters() -> list[Filters]:
    day = DAY_START
    odd = pd.Timedelta(seconds=17)
    return [
        Filters(),
        Filters(models=("qwen-max", "qwen-turbo")),
        Filters(sources=("app-a.log",)),
        Filters(codes=("Throttling.RateQuota", "InternalError")),
        Filters(categories=("request-rate", "server-error")),
        Filters(statuses=(429, 500)),
        Filters(start=day + pd.Timedelta(hours=5)),  # on the hour
        Filters(end=day + pd.Timedelta(hours=30, minutes=12) + odd),
        Filters(start=day + pd.Timedelta(hours=6, minutes=3), end=day + pd.Timedelta(hours=9)),
        Filters(
            start=day + pd.Timedelta(hours=6, minutes=3) + odd, end=day + pd.Timedelta(hours=7)
        ),
        Filters(  # inside one minute
            start=day + pd.Timedelta(hours=6, minutes=10, seconds=5),
            end=day + pd.Timedelta(hours=6, minutes=10, seconds=50),
        ),
        Filters(  # across the day, off the minute at both ends
            start=day + pd.Timedelta(hours=20, minutes=59) + odd,
            end=day + pd.Timedelta(hours=26, minutes=1) + odd,
            models=("qwen-max",),
        ),
        Filters(start=day + pd.Timedelta(hours=6), end=day + pd.Timedelta(hours=6, minutes=30)),
        Filters(
            codes=("Throttling.RateQuota",),
            statuses=(429,),
            start=day + pd.Timedelta(hours=2, seconds=1),
            end=day + pd.Timedelta(hours=40),
        ),
        Filters(start=day + pd.Timedelta(days=9), end=day + pd.Timedelta(days=10)),  # empty
        Filters(codes=("NoSuchCode",)),
        Filters(search="rate limit"),  # the events, on both sides
    ]


FILTERS = _filters()


def _equal_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_freq=False)


@pytest.mark.parametrize("k", range(len(FILTERS)))
def test_rollups_answer_what_the_events_answer(
    k: int, both: tuple[DatasetQuery, DatasetQuery], frame: pd.DataFrame
) -> None:
    rolled, plain = both
    f = FILTERS[k]
    assert rolled.answers_from_rollups(f) == (not f.search)
    sel = queries.apply_filters(frame, f)
    assert rolled.kpis(f) == plain.kpis(f) == queries.kpis(sel)
    assert rolled.count(f) == plain.count(f) == len(sel)
    assert rolled.count(f, errors_only=True) == plain.count(f, errors_only=True)
    assert rolled.time_bounds(f) == plain.time_bounds(f)
    k_ = rolled.kpis(f)
    buckets = {"10s", "1min", "5min", "1h", "3h", queries.choose_bucket(k_.first, k_.last)}
    for bucket in sorted(buckets):
        for tz in ZONES:
            for name in ("errors_over_time", "throttling_over_time"):
                a = getattr(rolled, name)(f, bucket, tz)
                b = getattr(plain, name)(f, bucket, tz)
                _equal_frames(a.counts, b.counts)
                _equal_frames(a.totals, b.totals)
    meanings = {"Throttling.RateQuota": "too many requests"}
    _equal_frames(rolled.top_codes(f, meanings), plain.top_codes(f, meanings))
    _equal_frames(rolled.top_codes(f, None, None), plain.top_codes(f, None, None))
    _equal_frames(rolled.status_distribution(f), plain.status_distribution(f))
    _equal_frames(rolled.per_model(f), plain.per_model(f))
    # code_counts has no order (a lookup for the catalogue page)
    pd.testing.assert_series_equal(
        rolled.code_counts(f).sort_index(), plain.code_counts(f).sort_index()
    )
    a_opt, b_opt = rolled.filter_options(f), plain.filter_options(f)
    _equal_frames(a_opt.codes, b_opt.codes)
    assert (a_opt.statuses, a_opt.models, a_opt.sources) == (
        b_opt.statuses,
        b_opt.models,
        b_opt.sources,
    )
    assert list(a_opt.categories.items()) == list(b_opt.categories.items())
    assert rolled.code_summary(f, top=50) == plain.code_summary(f, top=50)
    for column in ("category", "status_code"):
        assert rolled.value_counts(column, f) == plain.value_counts(column, f)


def test_the_dataset_has_what_the_rollups_must_handle(
    both: tuple[DatasetQuery, DatasetQuery], frame: pd.DataFrame
) -> None:
    rolled, _ = both
    shared = rolled.fetch("SELECT count(*), count(DISTINCT request_id) FROM shared_ids")[0]
    assert shared[0] > shared[1] > 0  # ids repeated, some across segments
    assert rolled.fetch("SELECT count(*) FROM r_minute WHERE minute IS NULL")[0][0] > 0
    assert rolled.fetch("SELECT sum(corrected) FROM r_minute")[0][0] > 0
    for level in rollups.LEVELS:
        assert rolled.fetch(f"SELECT sum(n) FROM r_{level}")[0][0] == len(frame)
    errs = frame[frame["is_error"]]
    assert rolled.kpis().failing_request_ids == errs["request_id"].nunique()
    assert rolled.codes_logged() == set(errs["code"].dropna().astype(str))


def test_aligned_questions_read_no_event(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a window on whole minutes the pages' aggregations never touch the events."""
    store = DatasetQuery(dataset)
    asked = forbid_reading_events(store, monkeypatch)
    try:
        for f in (
            Filters(),
            Filters(models=("qwen-max",), codes=("Throttling.RateQuota",)),
            Filters(
                start=DAY_START + pd.Timedelta(hours=6, minutes=3),
                end=DAY_START + pd.Timedelta(hours=9),
            ),
            Filters(
                start=DAY_START + pd.Timedelta(hours=1, minutes=1),
                end=DAY_START + pd.Timedelta(hours=30, minutes=59),
            ),
        ):
            ask_every_page_question(store, f)
        assert asked
    finally:
        store.close()


def test_a_dataset_without_rollups_reads_the_events_until_the_next_ingest(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    dataset = tmp_path / "old"
    write_dataset(frame.head(800), dataset)
    manifest = Manifest.load(dataset)
    assert manifest is not None
    expected = DatasetQuery(dataset).kpis()
    for entry in manifest.files.values():  # as written before rollups existed
        for seg in entry.segments:
            seg.rollups = []
    manifest.save(dataset)
    store = DatasetQuery(dataset)
    assert not store.rollups
    assert store.kpis() == expected
    assert rollups.complete(dataset, manifest)
    manifest.save(dataset)
    store = DatasetQuery(dataset)
    assert store.rollups
    assert store.kpis() == expected
    assert len(list((dataset / "rollups").glob("ids-*.parquet"))) == 1


def ask_every_page_question(store: DatasetQuery, f: Filters) -> None:
    """The questions the Overview and Throttling pages ask of a dataset for filters ``f``."""
    k = store.kpis(f)
    store.errors_over_time(f, queries.choose_bucket(k.first, k.last), "Asia/Shanghai")
    store.throttling_over_time(f, "1min", "Asia/Kolkata")
    store.top_codes(f)
    store.status_distribution(f)
    store.per_model(f)
    store.filter_options(f)
    store.code_counts(f)


def forbid_reading_events(store: DatasetQuery, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every query of ``store`` that reads the events fail; returns the SQL asked."""
    asked: list[str] = []
    for name in ("_rows", "_frame"):
        original = getattr(store, name)

        def spy(sql: str, params: object = (), _original: object = original) -> object:
            asked.append(sql)
            assert "FROM events" not in sql, sql
            return _original(sql, params)  # type: ignore[operator]

        monkeypatch.setattr(store, name, spy)
    return asked
