"""Logs written by REAL client SDKs, parsed by ``ingest.load_events``, checked against the truth.

Each app under ``tests/clients/apps/`` calls the loopback fake DashScope
(``tests/clients/fake_dashscope.py``) through the real ``dashscope`` / ``openai`` SDK, in its own
process, and logs the way applications do. The server's record of every answered request is the
truth:

- every failed request whose request_id appears anywhere in the log is recovered as exactly one
  error event with that request_id, the native ``code`` and the TRUE ``status_code`` (also where
  the SDK logged 400 for an error that arrived mid-stream on an HTTP 200 response);
- no successful request becomes an error event, and no event carries an id the server never
  issued;
- where the log shows every HTTP attempt, the number of error events equals the number of failed
  requests (retried attempts visible only as httpx status lines count; the final attempt, written
  as a status line and again as a traceback, counts once), and the events without request_id are
  exactly the failures whose id the log does not contain, with their statuses;
- error events carry the time of the call (and the model where the error record names it).

Every check runs twice: on a live run of the apps, and on the committed captured logs
(``tests/clients/captured/<app>.log`` + ``.truth.json``; ``REGENERATE_CAPTURED=1`` rewrites them).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from clients.conftest import app_runs, fake_dashscope  # noqa: F401 (fixtures)
from clients.harness import CAPTURED, AppRun
from clients.scenarios import APPS, AppSpec

import ingest

#: how far an event's timestamp may be from the moment the server answered (log clocks are
#: the same machine's; logging happens after the answer is read)
TIME_TOLERANCE = pd.Timedelta(seconds=2)


@dataclass
class Case:
    app: str
    source: str  # "live" | "captured"
    spec: AppSpec
    log: Path
    text: str
    answered: list[dict[str, Any]]

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [a for a in self.answered if a["is_error"]]

    @property
    def successes(self) -> list[dict[str, Any]]:
        return [a for a in self.answered if not a["is_error"]]

    @property
    def visible_failures(self) -> list[dict[str, Any]]:
        """Failures whose request_id appears somewhere in the log text."""
        return [a for a in self.failures if a["request_id"] in self.text]

    @property
    def invisible_failures(self) -> list[dict[str, Any]]:
        return [a for a in self.failures if a["request_id"] not in self.text]


CASES = [(source, app) for source in ("live", "captured") for app in APPS]


@pytest.fixture(scope="module", params=CASES, ids=[f"{s}-{a}" for s, a in CASES])
def case(request: pytest.FixtureRequest, app_runs: dict[str, AppRun]) -> Case:  # noqa: F811
    source, app = request.param
    spec = APPS[app]
    if source == "live":
        run = app_runs[app]
        assert run.returncode == 0, f"{app} crashed:\n{run.stdout}\n{run.stderr}"
        return Case(
            app,
            source,
            spec,
            run.log,
            run.log.read_text(encoding="utf-8"),
            [a.to_json() for a in run.answered],
        )
    log = CAPTURED / f"{app}.log"
    truth = json.loads((CAPTURED / f"{app}.truth.json").read_text(encoding="utf-8"))
    return Case(app, source, spec, log, log.read_text(encoding="utf-8"), truth["answered"])


@pytest.fixture(scope="module")
def events(case: Case) -> pd.DataFrame:
    frame, _report = ingest.load_events(case.log)
    return frame


def _errors(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["is_error"].astype(bool)]


def _describe(rows: pd.DataFrame) -> str:
    cols = ["line", "request_id", "status_code", "logged_status", "code", "raw_code", "format"]
    return rows[[c for c in cols if c in rows.columns]].to_string(index=False)


# --- the apps and the SDKs behave as scripted (these do not involve the parser) ---------------


@pytest.mark.parametrize("app", list(APPS))
def test_app_consumed_its_script(app: str, app_runs: dict[str, AppRun]) -> None:  # noqa: F811
    run = app_runs[app]
    spec = run.spec
    assert run.returncode == 0, f"{app} crashed:\n{run.stdout}\n{run.stderr}"
    assert run.pending == 0, f"{app} made fewer requests than planned"
    got = [(a.status, a.code) for a in run.answered]
    assert got == [(o.status, o.code) for o in spec.plan], "one answer per planned outcome"
    assert [a.model for a in run.answered if a.seq == 0] == [spec.calls[0]["model"]]
    if spec.output == "file":
        assert "Traceback" not in run.stderr


def test_log_shows_the_request_ids_the_sdk_exposes(case: Case) -> None:
    """Pins what each SDK leaves in the log, so that an SDK change shows up here first."""
    expected = (
        case.failures
        if case.spec.visible_errors is None
        else [a for a in case.answered if a["seq"] in case.spec.visible_errors]
    )
    assert [a["request_id"] for a in case.visible_failures] == [a["request_id"] for a in expected]


def test_dashscope_stream_errors_keep_request_id_but_not_status(case: Case) -> None:
    """dashscope 2.0.2, event:error frame on an HTTP 200 stream: the request_id is kept; the
    status is 400 (``Generation.call``) or 200 (``dashscope.Client``), never the true one."""
    if case.app not in ("ds_stream", "jsonl_app", "ds_v2_client"):
        pytest.skip("dashscope streaming apps only")
    mid = [a for a in case.failures if a["mid_stream"]]
    assert mid
    for a in mid:
        if case.app == "ds_v2_client":
            m = re.search(r"\| status_code=(\d+) \| request_id=" + a["request_id"], case.text)
            assert m, a
            assert int(m.group(1)) == 200, a
            continue
        if case.app == "ds_stream":
            m = re.search(r'"status_code": (\d+), "request_id": "' + a["request_id"], case.text)
            assert m, a
            logged = int(m.group(1))
        else:
            rows = [json.loads(x) for x in case.text.splitlines()]
            (row,) = [r for r in rows if r["request_id"] == a["request_id"]]
            logged = row["status_code"]
        assert logged == 400, (a, logged)
        assert a["http_status"] == 200


# --- the parser against the truth ---------------------------------------------------------------


def test_every_logged_error_request_id_is_recovered(case: Case, events: pd.DataFrame) -> None:
    errors = _errors(events)
    problems = []
    for a in case.visible_failures:
        rows = errors[errors["request_id"] == a["request_id"]]
        want = (a["status"], a["code"])
        if len(rows) != 1:
            problems.append(f"{a['request_id']} {want}: {len(rows)} error events")
            continue
        row = rows.iloc[0]
        code = None if pd.isna(row["code"]) else row["code"]
        got = (None if pd.isna(row["status_code"]) else int(row["status_code"]), code)
        if a["seq"] in case.spec.code_not_logged and code is None:
            want = (a["status"], None)  # the log has the id and status, not the code
        if got != want:
            problems.append(f"{a['request_id']}: want (status, code) {want}, got {got}")
    assert not problems, (
        f"{case.source} {case.app}: {len(problems)} of {len(case.visible_failures)} logged "
        f"failures wrong:\n" + "\n".join(problems) + f"\nerror events:\n{_describe(errors)}"
    )


def test_no_successful_request_becomes_an_error(case: Case, events: pd.DataFrame) -> None:
    ok_ids = {a["request_id"] for a in case.successes}
    errors = _errors(events)
    wrong = errors[errors["request_id"].isin(ok_ids)]
    assert wrong.empty, f"successful calls reported as errors:\n{_describe(wrong)}"


def test_no_request_id_is_invented(case: Case, events: pd.DataFrame) -> None:
    issued = {a["request_id"] for a in case.answered}
    ids = set(events["request_id"].dropna())
    assert ids <= issued, f"ids the server never issued: {sorted(ids - issued)}"


def test_error_count_equals_failed_requests(case: Case, events: pd.DataFrame) -> None:
    """Retried attempts count; one failure written twice (status line + traceback) counts once."""
    errors = _errors(events)
    if case.spec.shows_every_attempt:
        expected = len(case.failures)
        what = "failed requests the server answered"
    else:
        # the log hides some failures entirely (e.g. the SDK debug log for plain calls)
        expected = len(case.visible_failures)
        what = "failures visible in the log"
    assert len(errors) == expected, (
        f"{case.source} {case.app}: {len(errors)} error events, {expected} {what}:\n"
        f"{_describe(errors)}"
    )


def test_errors_without_request_id_are_those_the_log_has_no_id_for(
    case: Case, events: pd.DataFrame
) -> None:
    errors = _errors(events)
    anonymous = errors[errors["request_id"].isna()]
    if not case.spec.shows_every_attempt:
        assert anonymous.empty, f"error events from nowhere:\n{_describe(anonymous)}"
        return
    want = Counter(a["status"] for a in case.invisible_failures)
    got = Counter(None if pd.isna(s) else int(s) for s in anonymous["status_code"].astype("object"))
    assert got == want, (
        f"{case.source} {case.app}: statuses of error events without request_id {dict(got)}, "
        f"failures whose id is not in the log {dict(want)}:\n{_describe(anonymous)}"
    )


def test_error_events_carry_the_time_of_the_call(case: Case, events: pd.DataFrame) -> None:
    errors = _errors(events)
    problems = []
    for a in case.visible_failures:
        rows = errors[errors["request_id"] == a["request_id"]]
        if rows.empty:
            problems.append(f"{a['request_id']}: missing")
            continue
        when = pd.Timestamp(a["time"], unit="s", tz="UTC")
        ts = rows["timestamp"].iloc[0]
        if pd.isna(ts) or not (when - TIME_TOLERANCE <= ts <= when + TIME_TOLERANCE):
            problems.append(f"{a['request_id']}: answered {when}, event timestamp {ts}")
    assert not problems, "\n".join(problems)


def test_error_events_carry_the_model_where_the_record_names_it(
    case: Case, events: pd.DataFrame
) -> None:
    if not case.spec.model_in_error_record:
        pytest.skip("this app's error records do not name the model")
    errors = _errors(events)
    problems = []
    for a in case.visible_failures:
        rows = errors[errors["request_id"] == a["request_id"]]
        got = None if rows.empty else rows["model"].iloc[0]
        if got != a["model"]:
            problems.append(f"{a['request_id']}: model {got!r}, want {a['model']!r}")
    assert not problems, "\n".join(problems)
