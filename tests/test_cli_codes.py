"""`dashscope-logs codes`: JSON for scripts, an aligned table for people."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ingest.catalog import CATEGORY_IDS, load_catalogue, read_seed_rows
from ingest.cli import main

JSON_KEYS = {
    "code",
    "status",
    "message",
    "messages",
    "meaning_zh",
    "meaning_en",
    "category",
    "retryable",
    "advice_zh",
    "advice_en",
    "aliases",
}


def run(*args: str):
    return CliRunner().invoke(main, ["codes", *args])


def test_json_lists_every_entry_with_the_contract_keys():
    result = run("--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data) == len(load_catalogue().entries)
    for item in data:
        assert set(item) >= JSON_KEYS
    # ensure_ascii=False: Chinese is written as is
    assert "接口調用參數不合法。" in result.output


def test_json_has_all_25_rows_of_the_reference_table():
    data = json.loads(run("--json").output)
    rows = {(d["status"], d["code"], d["message"], d["meaning_zh"]) for d in data}
    for row in read_seed_rows():
        assert tuple(row) in rows


def test_json_category_filter():
    data = json.loads(run("--json", "--category", "billing").output)
    assert data
    assert {d["category"] for d in data} == {"billing"}
    assert "Arrearage" in {d["code"] for d in data}


def test_unknown_category_exits_2_listing_the_valid_ids():
    result = run("--category", "throttle")
    assert result.exit_code == 2
    assert "unknown category 'throttle'" in result.output
    for cid in CATEGORY_IDS:
        assert cid in result.output


def test_table_in_english():
    result = run()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["STATUS", "CODE", "CATEGORY", "RETRY", "MEANING"]
    rate = next(line for line in lines if " Throttling.RateQuota " in line)
    assert rate.startswith("429")
    assert "Request rate limit" in rate
    assert "backoff" in rate
    # aligned: the code column starts at the same place on every row
    col = lines[0].index("CODE")
    rows = lines[1:-2]  # header, rows, blank line, count
    assert all(line[col - 2 : col] == "  " and line[col] != " " for line in rows)
    assert lines[-1] == f"{len(load_catalogue().entries)} entries"


def test_table_grouped_by_category_throttling_first():
    lines = run().output.splitlines()[1:-2]
    first = lines[0]
    assert "Request rate limit" in first


def test_table_in_chinese():
    result = run("--lang", "zh", "--category", "token-rate")
    assert result.exit_code == 0, result.output
    assert "Token 用量限流" in result.output
    assert "一段時間調用量觸發限流,比如每分鐘生成Token數。" in result.output
    assert result.output.splitlines()[0].split()[:2] == ["状态", "错误码"]


@pytest.mark.parametrize("category", CATEGORY_IDS)
def test_every_category_filters(category):
    result = run("--category", category)
    assert result.exit_code == 0, result.output
