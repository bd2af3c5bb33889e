"""Coverage-guided fuzzing of the ingest core with atheris (`make fuzz`, FUZZ_SECONDS=60).

    python tests/fuzz/fuzz_ingest.py -max_total_time=60 tests/fuzz/corpus

Each input is parsed as an uploaded file (bytes: every encoding, gzip and zip path is reachable)
and, decoded, as one record through the matcher and the normalizer. A crash is any exception
other than SourceError (an unreadable input, reported by design), a line-accounting mismatch,
or redacted text that still holds an API key.
"""

from __future__ import annotations

import sys

import atheris

# third-party modules first, uninstrumented: only ingest's own code guides the fuzzer (and
# instrumenting pandas would cost a minute at start-up)
import numpy  # noqa: F401
import orjson  # noqa: F401
import pandas  # noqa: F401
import pyarrow
import pyarrow.compute  # noqa: F401

with atheris.instrument_imports(include=["ingest"]):
    from ingest.catalog import load_catalogue
    from ingest.formats import registry
    from ingest.matcher import RecordMatcher
    from ingest.normalize import normalize
    from ingest.pipeline import load_events
    from ingest.redact import API_KEY, redact_line
    from ingest.sources import SourceError

MATCHER = RecordMatcher(registry())
CATALOGUE = load_catalogue()


def test_one_input(data: bytes) -> None:
    try:
        _events, report = load_events(("fuzz.log", data), workers=1)
    except SourceError:
        return
    for f in report.files:
        if not f.balanced:
            raise AssertionError(
                f"lines do not balance: {f.lines_read} != "
                f"{f.lines_in_events} + {f.ignored} + {f.unparsed}"
            )
    text = data.decode("utf-8", errors="replace")
    for raw in MATCHER.match(text):
        normalize(raw, CATALOGUE)
    shown = redact_line(text)
    for m in API_KEY.finditer(shown):
        raise AssertionError(f"a key survived redaction: {m.group()!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
