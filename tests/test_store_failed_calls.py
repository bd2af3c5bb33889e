"""The failed-call files answer the request-ids page exactly as the events do.

The dataset is test_store_rollups' (three interleaved segments, request_ids repeated within and
across segments and days, events without a time, mentions 1-3), completed like an ingest. Every
question of the request-ids page and of the exports is asked of ``DatasetQuery`` reading the
failed-call files and of one reading the events (``rollups=False``), under the same filters,
with and without a request_id search, for several table sizes. The ranking reads a few rows per
file first and goes deeper when a later row could still rank higher: ``FIRST_ROWS`` and
``GROWTH`` are made tiny so that the tests go through many rounds of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fixtures_events import DAY_START
from test_store_rollups import (
    FILTERS,
    ask_every_page_question,
    forbid_reading_events,
    tricky_events,
    write_dataset,
)

from ingest import queries
from ingest.queries import Filters
from ingest.store import export, failed_calls, rollups, search, ticket_figures, top_ids
from ingest.store.manifest import Manifest
from ingest.store.query import DatasetQuery

LIMITS = (None, 1, 2, 7, 40, 5000)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return tricky_events()


@pytest.fixture(scope="module")
def both(
    frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DatasetQuery, DatasetQuery]]:
    dataset = tmp_path_factory.mktemp("failed") / "ds"
    write_dataset(frame, dataset)
    fast, plain = DatasetQuery(dataset), DatasetQuery(dataset, rollups=False)
    assert fast.failed
    assert fast.shared_rows > 0
    assert not plain.failed
    yield fast, plain
    fast.close()
    plain.close()


@pytest.fixture
def rounds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Tiny first reads and growth; how many runs were cut short after each round."""
    monkeypatch.setattr(top_ids, "FIRST_ROWS", 1)
    monkeypatch.setattr(top_ids, "GROWTH", 2)
    short: list[int] = []
    original = top_ids._short

    def spy(*args: Any) -> list[Any]:
        out = original(*args)
        short.append(len(out))
        return out

    monkeypatch.setattr(top_ids, "_short", spy)
    return short


def _needles(frame: pd.DataFrame) -> list[str]:
    some = str(frame["request_id"].dropna().iloc[17])
    return ["", some[3:7].upper(), "no-such-id"]


@pytest.mark.parametrize("k", range(len(FILTERS)))
def test_the_request_id_questions_get_the_events_answers(
    k: int,
    both: tuple[DatasetQuery, DatasetQuery],
    frame: pd.DataFrame,
    rounds: list[int],
) -> None:
    fast, plain = both
    f = FILTERS[k]
    for needle in _needles(frame):
        for limit in LIMITS:
            got = fast.top_request_ids(f, limit, needle=needle)
            want = plain.top_request_ids(f, limit, needle=needle)
            pd.testing.assert_frame_equal(got, want)
        assert fast.request_id_count(f, needle=needle) == plain.request_id_count(f, needle=needle)
    pd.testing.assert_frame_equal(
        fast.failures_without_request_id(f), plain.failures_without_request_id(f)
    )
    pd.testing.assert_frame_equal(
        fast.events(f, errors_only=True), plain.events(f, errors_only=True)
    )
    pd.testing.assert_frame_equal(fast.ranked_request_ids(f, 30), plain.ranked_request_ids(f, 30))


def test_the_ranking_goes_deeper_until_nothing_can_outrank_the_last_row(
    both: tuple[DatasetQuery, DatasetQuery], rounds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = both
    early = Filters(end=FILTERS[8].end)  # the oldest errors: the last rows of every file
    cases = (("none", Filters()), ("early", early), ("one model", FILTERS[11]))
    tried = {}
    for name, f in cases:
        rounds.clear()
        pd.testing.assert_frame_equal(fast.top_request_ids(f, 5), plain.top_request_ids(f, 5))
        tried[name] = len(rounds)
    assert tried["none"] == 1  # the first rows of each file were enough
    runs = top_ids._runs

    def shallow(*args: Any) -> list[Any]:
        out = runs(*args)
        for run in out:  # one row from each file first (all of it when it has one)
            run.rows = 1 if run.start < run.last else None
        return out

    monkeypatch.setattr(top_ids, "_runs", shallow)
    for name, f in cases:
        for limit in (5, 60):
            rounds.clear()
            got = fast.top_request_ids(f, limit)
            pd.testing.assert_frame_equal(got, plain.top_request_ids(f, limit))
            tried[name, limit] = len(rounds)
    assert tried["early", 5] > 1  # deeper runs before the answer was sure
    assert tried["one model", 60] > 1
    assert rounds[-1] == 0


@pytest.mark.parametrize("k", range(len(FILTERS)))
def test_exports_have_the_bytes_of_the_events(
    k: int, both: tuple[DatasetQuery, DatasetQuery], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = both
    f = FILTERS[k]
    tz = "Asia/Kolkata"
    assert export.request_ids_csv(fast, f, tz, bom=True) == export.request_ids_csv(
        plain, f, tz, bom=True
    )
    windows: list[str] = []
    original = ticket_figures._aggregate

    def spy(store: DatasetQuery, table: str, ids_per_code: int) -> object:
        windows.append(table)
        return original(store, table, ids_per_code)

    monkeypatch.setattr(ticket_figures, "_aggregate", spy)
    quick = ticket_figures.ticket_summary(fast, f, 5)
    assert quick is not None  # no ties in this data: rollups decide
    assert ticket_figures.ticket_summary(plain, f, 5) is None
    assert export.ticket_markdown(fast, f, tz) == export.ticket_markdown(plain, f, tz)
    for ids_per_code in (1, 30):
        assert export.ticket_markdown(fast, f, "UTC", ids_per_code=ids_per_code) == (
            export.ticket_markdown(plain, f, "UTC", ids_per_code=ids_per_code)
        )
    if k == 0:
        assert len(windows) > 2  # the first errors' window widened for the rarer codes


def test_a_ticket_whose_order_needs_files_and_lines_is_aggregated(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    """Two codes with the same count and the same first time: the rollups cannot order them
    (the file and line decide), nor can they see a request_id that redaction changes."""
    errs = frame.loc[frame["is_error"] & frame["timestamp"].notna()].head(6).copy()
    errs["code"] = ["CodeA", "CodeB", "CodeA", "CodeB", "CodeA", "CodeB"]
    errs["timestamp"] = [errs["timestamp"].iloc[0]] * 2 + list(errs["timestamp"].iloc[2:])
    errs["line"] = [9, 3, 10, 11, 12, 13]
    tied = pd.concat([frame.loc[~frame["is_error"]].head(50), errs], ignore_index=True)
    write_dataset(tied, tmp_path / "tied")
    secret = frame.copy()
    rid = (secret["request_id"].notna() & secret["is_error"]).to_numpy()
    secret.loc[secret.index[rid][0], "request_id"] = "ops@example.com"
    write_dataset(secret, tmp_path / "secret")
    for name in ("tied", "secret"):
        fast = DatasetQuery(tmp_path / name)
        plain = DatasetQuery(tmp_path / name, rollups=False)
        try:
            assert fast.failed
            assert ticket_figures.ticket_summary(fast, None, 5) is None
            assert export.ticket_markdown(fast, None, "UTC") == export.ticket_markdown(
                plain, None, "UTC"
            )
        finally:
            fast.close()
            plain.close()


def test_without_shared_ids_every_id_is_its_own_row(
    frame: pd.DataFrame, tmp_path: Path, rounds: list[int]
) -> None:
    unique = frame.copy()
    has = unique["request_id"].notna().to_numpy()
    unique.loc[has, "request_id"] = [f"rid-{i:05d}" for i in range(int(has.sum()))]
    write_dataset(unique, tmp_path / "ds")
    fast, plain = DatasetQuery(tmp_path / "ds"), DatasetQuery(tmp_path / "ds", rollups=False)
    try:
        assert fast.failed
        assert fast.shared_rows == 0
        for f in FILTERS[:6]:
            for limit in (None, 3, 100):
                pd.testing.assert_frame_equal(
                    fast.top_request_ids(f, limit, needle="1"),
                    plain.top_request_ids(f, limit, needle="1"),
                )
            assert fast.request_id_count(f) == plain.request_id_count(f)
    finally:
        fast.close()
        plain.close()


def test_the_files_hold_each_segments_errors_ranked(
    both: tuple[DatasetQuery, DatasetQuery],
) -> None:
    fast, _ = both
    manifest = Manifest.load(fast.dataset)
    assert manifest is not None
    for entry in manifest.files.values():
        for seg in entry.segments:
            kinds = [failed_calls.kind_of(rel) for rel in seg.rollups]
            assert sorted(kinds) == sorted([*rollups.LEVELS, *failed_calls.KINDS])
    rows = fast.fetch(
        """SELECT filename, pos, mentions, epoch_us("timestamp") FROM failed_with_id
        ORDER BY filename, pos"""
    )
    seen: dict[str, list[tuple[int, bool, int]]] = {}
    for name, pos, mentions, ts in rows:
        ranks = seen.setdefault(name, [])
        assert pos == len(ranks)
        ranks.append(top_ids._rank(mentions, ts))
    assert len(seen) == len(manifest.files)
    assert all(ranks == sorted(ranks) for ranks in seen.values())
    n_errors = fast.fetch("SELECT count(*) FROM errors")[0][0]
    assert n_errors == fast.fetch("SELECT count(*) FROM events WHERE is_error")[0][0]


def test_a_dataset_without_them_reads_the_events_until_the_next_ingest(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    dataset = tmp_path / "old"
    write_dataset(frame.head(900), dataset)
    manifest = Manifest.load(dataset)
    assert manifest is not None
    stamps = {}
    for entry in manifest.files.values():  # as written before the failed-call files existed
        for seg in entry.segments:
            for rel in seg.rollups:
                if failed_calls.kind_of(rel) in failed_calls.KINDS:
                    (dataset / rel).unlink()
            seg.rollups = [r for r in seg.rollups if failed_calls.kind_of(r) in rollups.LEVELS]
            stamps.update({r: (dataset / r).stat().st_mtime_ns for r in seg.rollups})
    manifest.save(dataset)
    old = DatasetQuery(dataset)
    assert old.rollups
    assert not old.failed
    expected = old.top_request_ids(limit=10)
    old.close()
    assert rollups.complete(dataset, manifest)  # what the next ingest runs at its end
    manifest.save(dataset)
    new = DatasetQuery(dataset)
    try:
        assert new.failed
        pd.testing.assert_frame_equal(new.top_request_ids(limit=10), expected)
    finally:
        new.close()
    # the minute and hour rollups were kept, not rewritten
    assert {r: (dataset / r).stat().st_mtime_ns for r in stamps} == stamps


def _searches() -> list[Filters]:
    odd = pd.Timedelta(seconds=17)
    day = DAY_START
    return [
        Filters(search="rate limit"),
        Filters(search="  Quota "),
        Filters(search="no such words"),
        Filters(search="rate", codes=("Throttling.RateQuota", "InternalError")),
        Filters(search="e", models=("qwen-max",), statuses=(429, 500)),
        Filters(search="limit", start=day + pd.Timedelta(hours=6, minutes=3) + odd),
        Filters(
            search="a",
            categories=("request-rate",),
            start=day + pd.Timedelta(hours=20, minutes=59) + odd,
            end=day + pd.Timedelta(hours=26, minutes=1) + odd,
        ),
        Filters(  # inside one minute
            search="a",
            start=day + pd.Timedelta(hours=6, minutes=10, seconds=5),
            end=day + pd.Timedelta(hours=6, minutes=10, seconds=50),
        ),
    ]


@pytest.mark.parametrize("k", range(len(_searches())))
def test_a_message_search_gets_the_events_answers(
    k: int, both: tuple[DatasetQuery, DatasetQuery], frame: pd.DataFrame
) -> None:
    fast, plain = both
    f = _searches()[k]
    assert search.searchable(fast, f)
    assert fast.kpis(f) == plain.kpis(f) == queries.kpis(queries.apply_filters(frame, f))
    assert fast.count(f) == plain.count(f)
    assert fast.count(f, errors_only=True) == plain.count(f, errors_only=True)
    assert fast.time_bounds(f) == plain.time_bounds(f)
    kk = fast.kpis(f)
    for bucket in sorted({"10s", "1min", "1h", queries.choose_bucket(kk.first, kk.last)}):
        for tz in ("UTC", "Asia/Kathmandu", "America/St_Johns"):
            for name in ("errors_over_time", "throttling_over_time"):
                a, b = getattr(fast, name)(f, bucket, tz), getattr(plain, name)(f, bucket, tz)
                pd.testing.assert_frame_equal(a.counts, b.counts, check_freq=False)
                pd.testing.assert_frame_equal(a.totals, b.totals, check_freq=False)
    pd.testing.assert_frame_equal(fast.top_codes(f), plain.top_codes(f))
    pd.testing.assert_frame_equal(fast.status_distribution(f), plain.status_distribution(f))
    pd.testing.assert_frame_equal(fast.per_model(f), plain.per_model(f))
    pd.testing.assert_series_equal(
        fast.code_counts(f).sort_index(), plain.code_counts(f).sort_index()
    )
    a, b = fast.filter_options(f), plain.filter_options(f)
    pd.testing.assert_frame_equal(a.codes, b.codes)
    assert (a.statuses, a.models, a.sources, a.categories) == (
        b.statuses,
        b.models,
        b.sources,
        b.categories,
    )
    assert fast.code_summary(f, top=50) == plain.code_summary(f, top=50)
    assert fast.value_counts("category", f) == plain.value_counts("category", f)
    assert ticket_figures.ticket_summary(fast, f, 5) is not None
    for tz in ("UTC", "Asia/Shanghai"):
        assert export.ticket_markdown(fast, f, tz) == export.ticket_markdown(plain, f, tz)


def test_a_search_on_whole_minutes_reads_no_event(
    both: tuple[DatasetQuery, DatasetQuery], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _ = both
    asked = forbid_reading_events(fast, monkeypatch)
    for f in (
        Filters(search="rate limit"),
        Filters(
            search="quota",
            models=("qwen-max",),
            start=DAY_START + pd.Timedelta(hours=1, minutes=1),
            end=DAY_START + pd.Timedelta(hours=30, minutes=59),
        ),
    ):
        ask_every_page_question(fast, f)
    assert asked


def _line(ts: str, rid: str, status: int = 429, code: str = "Throttling.RateQuota") -> str:
    return (
        f"{ts} ERROR llm: status_code={status}, request_id={rid}, code={code}, "
        "message=Requests rate limit exceeded, please try again later., model=qwen-plus\n"
    )


def test_an_id_seen_again_in_an_appended_tail_or_another_file_is_grouped(tmp_path: Path) -> None:
    """Ingested, then grown and joined by another file: an id that was alone is now repeated
    (across segments, files and days); the page's answers follow, as the events'."""
    from ingest.store.ingester import ingest_dataset

    ids = [f"{k:08x}-2a3b-4c4d-9e5f-6a7b8c9d0e1f" for k in range(6)]
    app = tmp_path / "logs" / "app.log"
    app.parent.mkdir()
    app.write_text(
        "".join(_line(f"2026-11-20 14:0{k}:07,123", rid) for k, rid in enumerate(ids[:4]))
    )
    dataset = tmp_path / "ds"

    def check(shared: bool) -> None:
        fast, plain = DatasetQuery(dataset), DatasetQuery(dataset, rollups=False)
        try:
            assert fast.failed
            assert bool(fast.shared_rows) == shared
            for limit in (None, 1, 3):
                pd.testing.assert_frame_equal(
                    fast.top_request_ids(limit=limit), plain.top_request_ids(limit=limit)
                )
            assert fast.request_id_count() == plain.request_id_count()
            assert fast.kpis() == plain.kpis()
            assert export.ticket_markdown(fast, None, "UTC") == export.ticket_markdown(
                plain, None, "UTC"
            )
        finally:
            fast.close()
            plain.close()

    ingest_dataset([str(app.parent)], dataset, workers=1)
    check(shared=False)
    with app.open("a") as fh:  # the tail: ids[1] again, a day later, with another code
        fh.write(_line("2026-11-21 09:00:00,001", ids[1], 500, "InternalError"))
        fh.write(_line("2026-11-21 09:00:01,001", ids[4]))
    (tmp_path / "logs" / "other.log").write_text(
        _line("2026-11-19 23:59:59,999", ids[2]) + _line("2026-11-20 15:00:00,000", ids[5])
    )
    second = ingest_dataset([str(app.parent)], dataset, workers=1)
    assert second.grown_files
    assert second.new_files
    check(shared=True)
    store = DatasetQuery(dataset)
    top = store.top_request_ids().set_index("request_id")
    store.close()
    assert top.loc[ids[1], "mentions"] == 2
    assert top.loc[ids[2], "first_seen"] == pd.Timestamp("2026-11-19 15:59:59.999", tz="UTC")


def test_the_shared_ids_file_from_the_failed_calls_is_the_one_from_the_events(
    both: tuple[DatasetQuery, DatasetQuery], tmp_path: Path
) -> None:
    fast, _ = both
    manifest = Manifest.load(fast.dataset)
    assert manifest is not None
    parts = manifest.parts()
    with_id = [r for r in manifest.rollup_parts() if failed_calls.kind_of(r) == "failed-with-id"]
    files = {}
    for name, source in (("events", None), ("failed", with_id)):
        copy = tmp_path / name
        for rel in parts + with_id:
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_bytes((fast.dataset / rel).read_bytes())
        files[name] = copy / rollups.write_shared_ids(copy, parts, with_id=source)
    rows = {
        name: fast.frame(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL")
        for name, path in files.items()
    }
    assert len(rows["events"]) == fast.shared_rows > 0
    pd.testing.assert_frame_equal(rows["events"], rows["failed"])
