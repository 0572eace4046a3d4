"""A config or front matter that would expand into millions of nodes is refused at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prodguardian.config import load_config
from prodguardian.config.yaml_limits import YamlLimitError, expanded_size, load_yaml
from prodguardian.errors import ConfigError
from prodguardian.runbooks.loader import load_runbook_file
from tests.support.sample_checks import sample_registry


def laughs(levels: int, width: int = 10) -> str:
    """The "billion laughs" shape: each level lists the previous one ``width`` times."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_with_what_to_do() -> None:
    with pytest.raises(YamlLimitError, match="expand to more than 100,000 nodes"):
        load_yaml(laughs(9))  # 10^10 leaves


@pytest.mark.parametrize(("levels", "width"), [(5, 10), (16, 3), (40, 2)])
def test_other_shapes_of_the_same_bomb_are_refused(levels: int, width: int) -> None:
    with pytest.raises(YamlLimitError):
        load_yaml(laughs(levels, width))


def test_ordinary_aliases_still_load() -> None:
    text = (
        "base: &b {timeout: 3s, window: 1h}\n"
        "checks:\n  - {name: a, <<: *b}\n  - {name: c, <<: *b}\n"
    )
    data = load_yaml(text)
    assert data["checks"][1] == {"name": "c", "timeout": "3s", "window": "1h"}
    assert load_yaml("") is None


def test_the_count_follows_aliases_but_visits_each_node_once() -> None:
    node = yaml.compose(laughs(3))
    assert node is not None
    # A mapping of 4 keys, each value a list of 10 of the previous level.
    assert expanded_size(node, limit=10**9) == 1 + 4 + 11 + 111 + 1111 + 11111


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlLimitError, match="recursive"):
        load_yaml("a: &a [1, *a]\n")


def test_a_huge_document_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(YamlLimitError, match="more than the 1,048,576 bytes"):
        load_yaml("k: " + "x" * (1 << 20) + "\n")


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(YamlLimitError, match="nests too deeply"):
        load_yaml("[" * 50_000 + "]" * 50_000)


def test_the_config_loader_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9) + "checks: []\n")
    with pytest.raises(ConfigError, match=r"bomb\.yaml: the YAML's anchors and aliases expand"):
        load_config(path, registry=sample_registry(), env={})


def test_a_runbook_front_matter_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bomb.md").write_text("---\n" + laughs(9) + "---\n# body\n")
    with pytest.raises(ConfigError, match=r"bomb\.md.*front matter: the YAML's anchors"):
        load_runbook_file(tmp_path / "bomb.md")


@pytest.mark.parametrize("command", [["check"], ["config", "validate"]])
def test_the_command_line_exits_3_at_once(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9) + "checks: []\n")
    done = subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", *command, "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert "billion laughs" in done.stderr
