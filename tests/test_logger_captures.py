"""Real logging libraries' output around DashScope failures (tests/data/wild/, captured by the
scripts in tests/clients/loggers/ against the loopback fake server; run by hand, CI installs
none of the libraries). Each capture's truth file is the server's record of every request: every
failed request must be one error event with the server's status and code, the request id where
the log shows it, and a timestamp at the right instant; no success may become an error."""

from __future__ import annotations

import pytest

from tests.clients.loggers.score import CAPTURES, score


@pytest.mark.parametrize("name", CAPTURES)
def test_every_failure_of_a_logger_capture_is_recovered(name: str) -> None:
    s = score(name)
    assert s.failed > 0
    assert s.problems == []
    assert s.events == s.failed  # one event per failed request, no mention counted twice
    assert (s.found, s.right_status, s.right_code) == (s.failed, s.failed, s.failed)
    assert s.right_rid == s.rid_shown
    assert s.right_time == s.failed  # not null, and at the server's instant
    assert s.success_as_error == 0
    assert s.success_events == s.successes  # the success lines are calls too
