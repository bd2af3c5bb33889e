"""The README documents what the code has: generated blocks in sync, every command and format."""

from __future__ import annotations

from pathlib import Path

from ingest.cli import main as cli
from ingest.docs import main as docs_main
from ingest.docs import regenerate
from ingest.formats import registry

README = Path(__file__).resolve().parent.parent / "README.md"


def test_generated_blocks_are_up_to_date() -> None:
    text = README.read_text(encoding="utf-8")
    assert regenerate(text) == text, "run: python -m ingest.docs README.md"
    assert docs_main([str(README), "--check"]) == 0


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"dashscope-logs {name}" in text, f"README does not document `{name}`"


def test_every_format_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for fmt in registry():
        assert f"`{fmt.name}`" in text


def test_first_screen_has_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").split("---", 1)[0]
    assert "make run" in head
    assert "make test" in head
    assert "docs/screenshots/" in head
