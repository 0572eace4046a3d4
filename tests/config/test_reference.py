"""The configuration reference: generated from the models, complete, and never stale."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field

from prodguardian.cli import cli
from prodguardian.config.attribute_docs import field_docstrings
from prodguardian.config.duration import Duration
from prodguardian.config.models import Config
from prodguardian.config.reference import model_sections, reference_markdown, render_section

DOCS_FILE = Path(__file__).parents[2] / "docs" / "configuration.md"


class _Inner(BaseModel):
    """An inner thing."""

    model_config = ConfigDict(extra="forbid")

    depth: int = Field(default=3, ge=1, le=9)
    """How deep."""


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: Duration = 90.0
    """How often."""
    mode: Literal["fast", "slow"] = "fast"
    inner: _Inner | None = None
    """The inner one."""
    many: tuple[_Inner, ...] = ()
    named: dict[str, str] = Field(default_factory=dict)
    needed: str


class _Child(_Outer):
    mode: Literal["fast", "slow"] = "slow"
    """Overridden, with a docstring of its own."""


def test_docs_configuration_md_is_what_the_models_say() -> None:
    generated = reference_markdown()
    assert DOCS_FILE.read_text(encoding="utf-8") == generated, (
        "docs/configuration.md is stale: run `make docs` and commit the result"
    )


def test_every_built_in_key_has_a_description() -> None:
    text = reference_markdown()
    undocumented = [
        line for line in text.splitlines() if line.startswith("| `") and line.endswith("|  |")
    ]
    assert undocumented == [], "give these fields a docstring:\n" + "\n".join(undocumented)


def test_field_docstrings_come_from_the_source_and_a_subclass_wins() -> None:
    assert field_docstrings(_Outer) == {
        "every": "How often.",
        "inner": "The inner one.",
    }
    assert field_docstrings(_Child)["mode"] == "Overridden, with a docstring of its own."
    assert field_docstrings(_Child)["every"] == "How often."


def test_a_model_reads_as_yaml_types_defaults_and_nested_sections() -> None:
    sections = model_sections(_Outer, path="thing")
    assert [s.heading for s in sections] == ["`thing`", "`thing.inner`", "`thing.many[]`"]
    rows = {r.key: r for r in sections[0].rows}
    assert (rows["every"].type, rows["every"].default) == ("duration", "`90s`")
    assert rows["mode"].type == "one of `fast`, `slow`"
    assert rows["inner"].type == "[object](#thing-inner)"
    assert rows["many"].type == "[list of objects](#thing-many)"
    assert (rows["named"].type, rows["named"].default) == ("map of name to string", "`{}`")
    assert rows["needed"].default == "required"
    inner = {r.key: r for r in sections[1].rows}
    assert inner["depth"].type == "integer, ≥ 1, ≤ 9"
    assert sections[1].doc == "An inner thing."


def test_a_section_renders_as_a_markdown_table_with_pipes_escaped() -> None:
    (section, *_) = model_sections(Config, path="", heading="Top")
    text = render_section(section, level=3)
    assert text.startswith('<a id="top-level"></a>\n### Top\n')
    assert "| `checks` | [list of objects, not empty](#checks) | required |" in text
    slack = render_section(model_sections(Config, path="")[3], level=3)
    assert "one of `in_channel`, `ephemeral`" in slack


def test_the_command_writes_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "configuration.md"
    result = CliRunner().invoke(cli, ["config", "reference", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == reference_markdown()
    printed = CliRunner().invoke(cli, ["config", "reference"])
    assert printed.output == reference_markdown()
