from __future__ import annotations

from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.errors import ConfigError
from prodguardian.status import Status
from tests.support.sample_checks import StaticCheck, sample_registry

GOOD = """
service: {name: shop}
runner: {concurrency: 7, default_timeout: 3s}
checks:
  - name: a
    kind: static
    status: DEGRADED
    timeout: 250ms
  - name: b
    kind: static
    summary: ${SUMMARY:-plain}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pg.yaml"
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return load_config(write(tmp_path, text), registry=sample_registry(), env=env or {})


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return str(caught.value)


def test_a_good_config_builds_its_checks(tmp_path: Path) -> None:
    loaded = load(tmp_path, GOOD, {"SUMMARY": "from env"})
    assert loaded.config.service.name == "shop"
    assert loaded.config.runner.concurrency == 7
    a, b = loaded.checks
    assert isinstance(a, StaticCheck)
    assert (a.name, a.kind, a.timeout_s, a.params.status) == ("a", "static", 0.25, Status.DEGRADED)
    assert b.timeout_s == 3.0
    assert b.params.summary == "from env"


def test_select_keeps_config_order_and_refuses_unknown_names(tmp_path: Path) -> None:
    loaded = load(tmp_path, GOOD)
    assert [c.name for c in loaded.select(["b", "a"])] == ["a", "b"]
    assert loaded.select([]) == loaded.checks
    with pytest.raises(ConfigError, match=r"no check named 'nope'; configured checks: a, b"):
        loaded.select(["nope"])


def test_a_typo_in_a_top_level_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("runner:", "runer:"))
    assert "pg.yaml: runer: unknown key 'runer' (did you mean 'runner'?)" in message


def test_a_typo_in_a_check_key_is_named_at_its_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("    timeout: 250ms", "    timout: 250ms"))
    assert "checks[0].timout: unknown key 'timout' (did you mean 'timeout'?)" in message


def test_a_typo_in_a_nested_key_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("concurrency: 7", "concurrenc: 7"))
    assert "runner.concurrenc: unknown key 'concurrenc' (did you mean 'concurrency'?)" in message


def test_a_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("concurrency: 7", "concurrency: lots"))
    assert "runner.concurrency:" in message
    assert "'lots'" in message


def test_a_bad_duration_names_the_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("timeout: 250ms", "timeout: soon"))
    assert "checks[0].timeout: expected a duration" in message


def test_a_bad_param_of_a_kind_is_named_at_its_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("status: DEGRADED", "status: FINE"))
    assert "checks[0].status:" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("status: DEGRADED", "status: FINE").replace(
        "summary: ${SUMMARY:-plain}", "sumary: x"
    )
    message = error_of(tmp_path, text)
    assert "2 problems" in message
    assert "checks[0].status" in message
    assert "checks[1].sumary: unknown key 'sumary' (did you mean 'summary'?)" in message


def test_an_unknown_kind_lists_the_installed_ones(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, GOOD.replace("kind: static\n    status", "kind: statc\n    status")
    )
    assert "checks[0].kind: unknown check kind 'statc' (did you mean 'static'?)" in message
    assert "installed kinds: failing, static, stubborn" in message


def test_duplicate_check_names_are_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("name: b", "name: a"))
    assert "check name 'a' is used twice" in message


def test_a_missing_env_var_names_key_and_variable(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("${SUMMARY:-plain}", "${SUMMARY}"))
    assert "checks[1].summary: environment variable SUMMARY is not set" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("checks: [\n  {name: a", "line 2"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("service: {name: x}\n", "checks: required key is missing"),
        ("checks: []\n", "checks:"),
        ("checks:\n  - name: 'bad name!'\n    kind: static\n", "checks[0].name:"),
    ],
)
def test_malformed_files_are_named(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(str(tmp_path / "pg.yaml"))
    assert expected in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: file not found"):
        load_config(tmp_path / "nowhere.yaml", registry=sample_registry())


def test_every_problem_of_every_level_is_named_at_once(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
bogus: 1
runner: {concurency: 3}
log_sources:
  logs: {type: file, path: app.jsonl, fromat: json}
checks:
  - name: a
    kind: static
    stauts: DEGRADED
  - name: b
    kind: static
    summary: ${NOT_SET_ANYWHERE}
  - {name: c, kind: nosuchkind}
""",
    )
    assert "problems:" in message
    assert "  bogus: unknown key 'bogus'" in message
    assert "runner.concurency: unknown key 'concurency' (did you mean 'concurrency'?)" in message
    assert "checks[0].stauts: unknown key 'stauts' (did you mean 'status'?)" in message
    assert "checks[1].summary: environment variable NOT_SET_ANYWHERE is not set" in message
    assert "checks[2].kind: unknown check kind 'nosuchkind'" in message
    assert "log_sources.logs.fromat: unknown key 'fromat'" in message


def test_a_dangling_source_keeps_its_index_when_an_earlier_check_is_bad(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
checks:
  - {name: a, kind: http, url: "http://127.0.0.1:1/", timout: 1s}
  - {name: b, kind: log_count, source: nowhere, pattern: x}
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})  # the installed check kinds
    message = str(caught.value)
    assert "checks[0].timout: unknown key 'timout' (did you mean 'timeout'?)" in message
    assert "checks[1].source: no log source named 'nowhere'" in message


def test_an_unset_variable_is_named_once_not_again_as_a_bad_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'checks:\n  - {name: a, kind: http, url: "${TARGET}/health"}\n'
        "  - {name: b, kind: http, url: http://x/, max_body: 1 parsec}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert "checks[0].url: environment variable TARGET is not set" in message
    assert "must start with http" not in message
    assert "checks[1].max_body:" in message
