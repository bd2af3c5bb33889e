"""ingest.formats: format files are data whose samples are tests; malformed ones fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.formats import (
    FORMATS_DIR,
    NOT_FORMATS,
    FormatError,
    LogFormat,
    get_format,
    parse_format,
    read_formats,
    registry,
)
from ingest.formats.check import check_and_order

GOOD = """\
name = "{name}"
description = "A test format."
kind = "regex"
triggers = ["ACME failed"]
pattern = \'\'\'ACME failed: status=(?P<status>\\d{{3}}) code=(?P<code>\\S+)\'\'\'

[[samples]]
text = \'\'\'2026-11-20 10:00:00,000 ERROR ACME failed: status=429 code=Throttling.RateQuota\'\'\'
expect = {{ status_code = 429, code = "Throttling.RateQuota", is_error = true }}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_dir(directory: Path) -> list[LogFormat]:
    return check_and_order(read_formats(directory))


# -- the shipped registry --------------------------------------------------------------------------


def test_the_registry_loads_and_every_sample_holds() -> None:
    formats = registry()  # raises FormatError when a sample does not hold
    files = [p for p in FORMATS_DIR.glob("*.toml") if p.name not in NOT_FORMATS]
    assert len(formats) == len(files)  # fields.toml and envelopes.toml are data, not formats
    assert all(f.samples for f in formats)
    names = [f.name for f in formats]
    assert len(set(names)) == len(names)


def test_the_registry_is_ordered_most_specific_first() -> None:
    formats = registry()
    genericity = [f.genericity for f in formats]
    assert genericity == sorted(genericity)
    position = {f.name: i for i, f in enumerate(formats)}
    specific = [f.name for f in formats if f.genericity == 0]
    assert specific
    for generic in ("json-log", "kv-line"):
        assert get_format(generic).genericity > 0
        assert all(position[generic] > position[name] for name in specific)


def test_get_format_and_unknown_names() -> None:
    assert get_format("httpx-request").role == "transport"
    with pytest.raises(FormatError, match=r"unknown format 'nope'; known formats: .*httpx-request"):
        get_format("nope")


def test_a_good_tmp_format_loads(tmp_path: Path) -> None:
    write(tmp_path, "acme", GOOD.format(name="acme"))
    (tmp_path / "fields.toml").write_text("# ignored\n", encoding="utf-8")
    (fmt,) = load_dir(tmp_path)
    assert fmt.name == "acme"
    assert fmt.pattern is not None
    assert fmt.role == "detail"


# -- malformed files: FormatError naming the file and the field or sample -----------------------


def _broken(tmp_path: Path, text: str) -> str:
    write(tmp_path, "acme", text)
    with pytest.raises(FormatError) as info:
        load_dir(tmp_path)
    message = str(info.value)
    assert message.startswith("acme.toml")
    return message


@pytest.mark.parametrize("field", ["description", "kind", "triggers"])
def test_a_missing_field(tmp_path: Path, field: str) -> None:
    text = "\n".join(
        ln for ln in GOOD.format(name="acme").splitlines() if not ln.startswith(f"{field} =")
    )
    assert f"'{field}'" in _broken(tmp_path, text)


def test_a_missing_pattern(tmp_path: Path) -> None:
    text = "\n".join(
        ln for ln in GOOD.format(name="acme").splitlines() if not ln.startswith("pattern =")
    )
    assert "'pattern'" in _broken(tmp_path, text)


def test_a_name_that_is_not_the_file_name(tmp_path: Path) -> None:
    write(tmp_path, "acme", GOOD.format(name="other"))
    with pytest.raises(FormatError, match=r"acme\.toml: 'name' is 'other' but the file is 'acme'"):
        read_formats(tmp_path)


def test_a_bad_regex(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace("(?P<code>\\S+)", "(?P<code>\\S+")
    message = _broken(tmp_path, text)
    assert "'pattern' is not a valid regular expression" in message


def test_an_unknown_named_group(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace("(?P<code>", "(?P<errcode>")
    message = _broken(tmp_path, text)
    assert "unknown named groups ['errcode']" in message


def test_an_unknown_kind_role_and_flag(tmp_path: Path) -> None:
    good = GOOD.format(name="acme")
    assert "'kind' must be one of" in _broken(tmp_path, good.replace('"regex"', '"grok"'))
    assert "'role' must be one of" in _broken(tmp_path, 'role = "bystander"\n' + good)
    assert "unknown flag 'VERBOSE'" in _broken(tmp_path, 'flags = ["VERBOSE"]\n' + good)


def test_object_formats_need_requires(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace('kind = "regex"', 'kind = "object"')
    assert "'requires' must list key sets" in _broken(tmp_path, text)


def test_no_samples(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").split("[[samples]]")[0]
    assert "at least one [[samples]]" in _broken(tmp_path, text)


def test_a_sample_without_expectation(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").split("expect =")[0]
    assert "sample 1 needs 'expect" in _broken(tmp_path, text)


def test_invalid_toml(tmp_path: Path) -> None:
    assert "is not valid TOML" in _broken(tmp_path, GOOD.format(name="acme") + "\n= oops\n")


def test_a_sample_that_does_not_hold_names_the_sample_and_field(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace("status_code = 429", "status_code = 500")
    message = _broken(tmp_path, text)
    assert message.startswith(
        "acme.toml sample 1, event 1: field 'status_code' is 429, expected 500"
    )
    assert "ACME failed: status=429" in message  # the sample text is shown


def test_a_sample_that_gives_no_event(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace("ACME failed: status=429", "ACME failed: status=abc")
    message = _broken(tmp_path, text)
    assert re.match(r"acme\.toml sample 1: expected 1 event\(s\), got 0", message)


def test_a_negative_sample_that_matches(tmp_path: Path) -> None:
    text = GOOD.format(name="acme").replace(
        'expect = { status_code = 429, code = "Throttling.RateQuota", is_error = true }',
        "events = []",
    )
    assert "expected 0 event(s), got 1" in _broken(tmp_path, text)


def test_parse_format_directly(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    with pytest.raises(FormatError, match=r"acme\.toml: field 'name' is missing"):
        parse_format(path, {})
    with pytest.raises(FormatError, match="'triggers' must be a non-empty list"):
        parse_format(path, {"name": "acme", "kind": "regex", "triggers": []})


# -- derived order ---------------------------------------------------------------------------------

GENERIC = """\
name = "catchall"
description = "Anything with status= and code=."
kind = "regex"
triggers = ["status="]
pattern = \'\'\'status=(?P<status>\\d{3}) code=(?P<code>\\S+)\'\'\'

[[samples]]
text = \'\'\'2026-11-20 10:00:00,000 WARN something status=500 code=InternalError\'\'\'
expect = { status_code = 500, code = "InternalError" }
"""


def test_a_format_that_claims_anothers_samples_goes_after_it(tmp_path: Path) -> None:
    write(tmp_path, "acme", GOOD.format(name="acme"))
    write(tmp_path, "catchall", GENERIC)
    ordered = load_dir(tmp_path)
    # alphabetical order would put "acme" first anyway; check the genericity itself
    assert [(f.name, f.genericity) for f in ordered] == [("acme", 0), ("catchall", 1)]
    write(tmp_path, "aaa-generic", GENERIC.replace('"catchall"', '"aaa-generic"'))
    (tmp_path / "catchall.toml").unlink()
    assert [f.name for f in load_dir(tmp_path)] == ["acme", "aaa-generic"]
