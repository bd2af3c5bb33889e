"""The README's table of log formats, generated from the registry (a test keeps it in sync)."""

from __future__ import annotations

from ingest.formats import LogFormat, registry

BEGIN = "<!-- formats:begin -->"
END = "<!-- formats:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_formats_markdown(formats: tuple[LogFormat, ...] | None = None) -> str:
    """One row per format, in detection order, with the first line of its first sample."""
    rows = ["| format | reads | sample |", "|---|---|---|"]
    for f in formats or registry():
        sample = f.samples[0].text.splitlines()[0]
        if len(sample) > 110:
            sample = sample[:107] + "..."
        rows.append(f"| `{f.name}` | {_cell(f.description)} | `{_cell(sample)}` |")
    return "\n".join(rows) + "\n"
