"""The sample-log generator: deterministic bytes, and ground truth consistent with the logs."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_logs"
TRUTH = REPO / "tests" / "data" / "sample_truth"
TRUTH_KEYS = {
    "timestamp",
    "status_code",
    "logged_status",
    "code",
    "request_id",
    "model",
    "is_error",
    "line",
    "mentions",
}
TEXT_TS = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)[,.](\d{3})(\+08:00)?")
RID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_logs", REPO / "bench/generate_logs.py")
    assert spec
    assert spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["generate_logs"] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()
NAMES = [cls.name for cls in gen.SAMPLE_LOGS]


def read_log(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8").split("\n")[:-1]


def read_truth(name: str) -> list[dict[str, object]]:
    text = (TRUTH / f"{name}.truth.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def line_instant(text: str) -> datetime:
    if text.startswith("{"):
        obj = json.loads(text)
        raw = obj.get("ts") or obj["@timestamp"]
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    m = TEXT_TS.match(text)
    assert m, text
    return datetime.fromisoformat(f"{m[1]}T{m[2]}.{m[3]}+08:00")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("samples")
    truth = tmp_path_factory.mktemp("truth")
    gen.write_samples(out, truth_dir=truth)
    return out, truth


@pytest.mark.parametrize("name", NAMES)
def test_committed_samples_are_what_the_generator_writes(
    name: str, regenerated: tuple[Path, Path]
) -> None:
    out, truth = regenerated
    assert (out / name).read_bytes() == (SAMPLES / name).read_bytes(), "run `make samples`"
    fresh = (truth / f"{name}.truth.jsonl").read_bytes()
    assert fresh == (TRUTH / f"{name}.truth.jsonl").read_bytes(), "run `make samples`"


def test_samples_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.iterdir())
    assert total < 10 * 1024 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_truth_points_at_the_records_it_describes(name: str) -> None:
    lines = read_log(SAMPLES / name)
    rows = read_truth(name)
    assert rows
    seen_lines = set()
    for row in rows:
        assert set(row) == TRUTH_KEYS
        n = row["line"]
        assert isinstance(n, int)
        assert 1 <= n <= len(lines)
        assert n not in seen_lines, f"two outcomes start at line {n}"
        seen_lines.add(n)
        text = lines[n - 1]
        # the line is a record header, and its timestamp is the outcome's
        assert line_instant(text) == datetime.fromisoformat(str(row["timestamp"])), (n, text)
        assert str(row["timestamp"]).endswith("+08:00")
        mentions = row["mentions"]
        assert isinstance(mentions, int)
        assert 1 <= mentions <= 3
        rid = row["request_id"]
        if rid is not None:
            assert RID.match(str(rid))
            window = "\n".join(lines[n - 1 : n + 40])
            assert str(rid) in window, (n, rid)
        model = row["model"]
        if model is not None:
            assert str(model) in "\n".join(lines[n - 1 : n + 40]), (n, model)
        if row["is_error"]:
            assert row["status_code"] != 200
        else:
            assert row["code"] is None
            assert row["status_code"] == 200
            # a success shows 200 only where its record carries a status (rule 4)
            assert row["logged_status"] in (200, None)
        code = row["code"]
        if code is not None:  # compat codes are mapped
            assert code not in gen.COMPAT_TO_NATIVE
        status = row["status_code"]
        if status is not None and code in gen.CATALOG_STATUS:
            assert status == gen.CATALOG_STATUS[code]
    assert [r["line"] for r in rows] == sorted(seen_lines)


@pytest.mark.parametrize("name", NAMES)
def test_logs_are_in_time_order(name: str) -> None:
    stamps = [line_instant(t) for t in read_log(SAMPLES / name) if TEXT_TS.match(t) or t[:1] == "{"]
    assert stamps == sorted(stamps)


def test_request_ids_are_unique_per_outcome() -> None:
    counts: Counter[object] = Counter()
    for name in NAMES:
        counts.update(r["request_id"] for r in read_truth(name) if r["request_id"])
    assert counts
    assert counts.most_common(1)[0][1] == 1


def test_samples_show_the_incidents_and_a_denominator() -> None:
    rows = [r for name in NAMES for r in read_truth(name)]
    ok = sum(not r["is_error"] for r in rows)
    assert ok > 0.8 * len(rows) > 1000
    burst = [r for r in rows if "T14:05" <= str(r["timestamp"])[10:16] < "T14:25"]
    outage = [r for r in rows if "T20:40" <= str(r["timestamp"])[10:16] < "T21:05"]
    assert sum(r["status_code"] == 429 for r in burst) > 100
    assert sum((r["status_code"] or 0) >= 500 for r in outage) > 50
    codes = Counter(r["code"] for r in rows if r["is_error"])
    for code in (
        "Throttling.RateQuota",
        "Throttling.AllocationQuota",
        "Throttling.BurstRate",
        "InternalError",
        "SystemError",
        "ModelUnavailable",
        "InvalidParameter",
        "DataInspectionFailed",
        "InvalidApiKey",
        "Arrearage",
        "AccessDenied.Unpurchased",
    ):
        assert codes[code] > 0, code
    # the pitfalls the parser is tested on are present
    assert any(r["logged_status"] == 400 and r["status_code"] == 429 for r in rows)
    assert any(r["is_error"] and r["request_id"] is None for r in rows)
    assert any(r["mentions"] == 2 for r in rows)
    models = {r["model"] for r in rows}
    assert {"qwen-max", "qwen-plus", "qwen-turbo", "qwen3-coder-plus", "deepseek-v3.1"} <= models


def test_size_parsing() -> None:
    assert gen.parse_size("500KB") == 500 * 1024
    assert gen.parse_size("20MB") == 20 * 1024 * 1024
    assert gen.parse_size("1GB") == 1 << 30
