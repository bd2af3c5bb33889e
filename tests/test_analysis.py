"""The spike explainer and the retry analysis (ingest.analysis)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from ingest import load_events
from ingest.analysis import analyse_retries, explain_spike, explain_spikes, retry_summary
from ingest.schema import coerce_events

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
T0 = pd.Timestamp("2026-03-10 06:00:00", tz="UTC")


@cache
def sample(name: str) -> pd.DataFrame:
    events, _ = load_events(str(SAMPLES / name), workers=1)
    return events


def frame(rows: list[tuple[int, str | None, str | None, int]]) -> pd.DataFrame:
    """(minute, code, model, status) rows, all errors of the request-rate category."""
    return coerce_events(
        pd.DataFrame(
            [
                {
                    "timestamp": T0 + pd.Timedelta(minutes=m, seconds=i % 50),
                    "code": code,
                    "model": model,
                    "status_code": status,
                    "category": "request-rate",
                    "is_error": True,
                    "source": "app.log",
                    "line": i + 1,
                    "mentions": 1,
                    "format": "test",
                }
                for i, (m, code, model, status) in enumerate(rows)
            ]
        )
    )


def test_explainer_sentence_and_ranking() -> None:
    base = [(m, "Throttling.RateQuota", "qwen-plus", 429) for m in range(0, 40, 4)]
    spike = [(42, "Throttling.AllocationQuota", "qwen-max", 429)] * 7
    spike += [(43, "Throttling.RateQuota", "qwen-plus", 429)] * 2
    ex = explain_spike(
        frame(base + spike),
        T0 + pd.Timedelta(minutes=42),
        T0 + pd.Timedelta(minutes=49),
        tz="Asia/Shanghai",
    )
    assert ex.sentence == (
        "78% of the 429s between 14:42 and 14:49 are AllocationQuota on qwen-max "
        "(not seen before the spike)."
    )
    top = ex.factors[0]
    assert (top.column, top.value, top.spike_count) in {
        ("code", "Throttling.AllocationQuota", 7),
        ("model", "qwen-max", 7),
    }
    assert top.spike_share == pytest.approx(7 / 9)
    assert top.baseline_share == 0
    assert "API key hash" in ex.skipped  # no such columns in the events: said, not guessed


def test_explainer_lift_against_the_baseline() -> None:
    base = [(m, "Throttling.RateQuota", "qwen-plus", 429) for m in range(30)]
    base += [(m, "Throttling.RateQuota", "qwen-max", 429) for m in range(0, 30, 3)]
    spike = [(31, "Throttling.RateQuota", "qwen-max", 429)] * 9
    spike += [(31, "Throttling.RateQuota", "qwen-plus", 429)] * 3
    ex = explain_spike(
        frame(base + spike),
        T0 + pd.Timedelta(minutes=31),
        T0 + pd.Timedelta(minutes=32),
        baseline_start=T0,
    )
    qwen_max = next(f for f in ex.factors if f.value == "qwen-max")
    assert qwen_max.lift == pytest.approx((9 / 12) / (10 / 40))
    assert ex.sentence.startswith(
        "75% of the 429s between 06:31 and 06:32 are RateQuota on qwen-max"
    )


def test_explainer_on_an_empty_window() -> None:
    ex = explain_spike(
        frame([(0, "X", None, 429)]), T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=2)
    )
    assert ex.sentence == "No throttled calls between 07:00 and 08:00."


def test_sample_spikes_are_explained() -> None:
    explained = explain_spikes(sample("python_sdk.log"), "1min", "Asia/Shanghai")
    assert explained
    assert all(" of the " in e.sentence and "between" in e.sentence for e in explained)


def test_retries_in_openai_compat_log() -> None:
    """httpx 429 + 'Retrying request' pairs, then a success or a final traceback."""
    report = analyse_retries(sample("openai_compat.log"))
    assert report.calls_with_retries > 50
    assert report.succeeded_after_retries + report.failed_after_retries == report.calls_with_retries
    assert report.succeeded_after_retries > 0
    assert report.failed_after_retries > 0
    first = report.calls[0]  # lines 634-637: one 429, retried, then 200
    assert (first.first_line, first.attempts, first.outcome) == (634, 2, "succeeded")
    failed = next(c for c in report.calls if c.first_line == 2264)
    assert failed.attempts == 3  # two retried 429s, then the final RateQuota traceback
    assert failed.outcome == "failed"
    assert failed.codes[-1] == "Throttling.RateQuota"
    assert set(report.attempts_histogram()) <= {2, 3}  # openai retries twice
    assert report.retried_attempts == sum(c.attempts - 1 for c in report.calls)
    assert report.storms  # the 14:05-14:21 storm is seen by the spike detector


def test_retries_in_python_sdk_log_tenacity() -> None:
    report = analyse_retries(sample("python_sdk.log"))
    assert report.retried_attempts == 52  # every tenacity warning is a retried attempt
    assert report.calls_with_retries > 0
    assert max(report.attempts_histogram()) > 3  # LangChain retries more than openai
    # AllocationQuota is not retryable in the catalogue: retrying it is wasted
    assert report.wasted_retries == report.wasted_by_code()["Throttling.AllocationQuota"]
    assert report.wasted_retries > 0
    data = retry_summary(report, "Asia/Shanghai")
    assert data["retried_attempts"] == 52
    assert data["wasted_retries"] == report.wasted_retries


def test_no_retries_in_an_empty_frame() -> None:
    report = analyse_retries(coerce_events(pd.DataFrame()))
    assert report.calls_with_retries == 0
    assert retry_summary(report)["storms"] == []
