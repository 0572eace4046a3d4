"""``prodguardian runbooks``: list, show, validate, match, new, with their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prodguardian.cli import main
from prodguardian.runbooks import load_directory
from tests.runbooks.evidence_factory import db_traceback

MEMORY = "Memory limit of 512 MiB exceeded with 671 MiB used. Consider increasing the memory limit."


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["runbooks", *args])
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)  # no ./prodguardian.yaml: the built-in library only


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "list")
    assert code == 0
    assert "db-connection-lost" in out
    assert "cold-start-not-warmed-up" in out
    code, out, _ = cli(capsys, "list", "--json")
    assert len(json.loads(out)) == 9


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "show", "cloud-run-memory-limit", "--raw")
    assert code == 0
    assert "Cloud Run instance over its memory limit" in out
    assert "--memory={memory_next}" in out
    assert "+1h count none matching" in out


def test_show_an_unknown_id_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "show", "db-conection-lost")
    assert code == 3
    assert "did you mean 'db-connection-lost'" in err


def test_match_text_finds_the_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "match", MEMORY)
    assert code == 0
    assert "Cloud Run instance over its memory limit" in out
    assert "--memory=1Gi" in out


def test_match_a_file_with_a_traceback_and_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "prod.log"
    log.write_text(
        f"{db_traceback()}\n{db_traceback(line=99)}\n{MEMORY}\nKeyError: 'user_7'\n",
        encoding="utf-8",
    )
    code, out, _ = cli(capsys, "match", str(log), "--json")
    assert code == 1  # one entry has no runbook
    found = json.loads(out)
    assert [(f["type"], f.get("id")) for f in found] == [
        ("runbook", "db-connection-lost"),
        ("runbook", "cloud-run-memory-limit"),
        ("no_runbook", None),
    ]
    assert found[0]["count"] == 2
    assert "KeyError" in found[2]["scaffold"]


def test_match_reads_json_lines_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    entry = {"httpRequest": {"requestMethod": "GET", "requestUrl": "/api/health", "status": 429}}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(entry) + "\n"))
    code, out, _ = cli(capsys, "match", "-", "--json")
    assert code == 0
    assert json.loads(out)[0]["id"] == "http-429-throttling"


def test_validate_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = cli(
        capsys, "new", "--from-signature", "KeyError: 'user_7'", "-o", str(tmp_path / "rb")
    )
    assert code == 0
    code, out, _ = cli(capsys, "validate", str(tmp_path / "rb"))
    assert code == 0
    assert "ok       keyerror-user" in out
    (tmp_path / "rb" / "broken.md").write_text("---\nid: x\n---\n", encoding="utf-8")
    code, out, err = cli(capsys, "validate", str(tmp_path / "rb"))
    assert code == 3
    assert "broken.md" in err
    assert "1 invalid, 1 valid" in err


def test_validate_the_builtin_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "validate")
    assert (code, out.strip()) == (0, "library: 9 runbooks valid")


def test_new_writes_a_scaffold_that_loads_and_refuses_to_overwrite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signature = "PaymentError: charge ch_123 failed for customer 'cus_9'"
    args = ["new", "--from-signature", signature, "--id", "payment-failed", "-o", str(tmp_path)]
    code, _, _ = cli(capsys, *args)
    assert code == 0
    (runbook,) = load_directory(tmp_path)
    assert runbook.id == "payment-failed"
    code, _, err = cli(capsys, *args)
    assert code == 3
    assert "--force" in err
    code, _, _ = cli(capsys, *args, "--force")
    assert code == 0


def test_new_prints_to_stdout_and_checks_the_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "new", "--from-signature", "RuntimeError: boom 42")
    assert code == 0
    assert out.startswith("---\nid: runtimeerror-boom\n")
    code, _, err = cli(capsys, "new", "--from-signature", "x", "--id", "Bad Id")
    assert code == 3
    assert "--id" in err


def test_a_user_directory_overrides_and_a_bad_one_is_a_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli(capsys, "new", "--from-signature", MEMORY, "--id", "cloud-run-memory-limit", "-o", "mine")
    code, out, _ = cli(capsys, "--dir", "mine", "match", MEMORY, "--json")
    assert json.loads(out)[0]["source"].endswith("cloud-run-memory-limit.md")
    (tmp_path / "mine" / "cloud-run-memory-limit.md").write_text("oops", encoding="utf-8")
    code, _, err = cli(capsys, "--dir", "mine", "list")
    assert code == 3
    assert "config error:" in err
    assert "missing front matter" in err


def test_the_console_script_runs_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", "runbooks", "match", MEMORY, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["id"] == "cloud-run-memory-limit"


def test_a_missing_log_file_is_an_error_not_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "match", "missing.log")
    assert code == 3
    assert "no such file" in err


def test_a_10_mb_line_is_matched_and_cut_in_the_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "huge.log"
    log.write_text(MEMORY + " " + "x" * (10 * 1024 * 1024) + "\n", encoding="utf-8")
    code, out, _ = cli(capsys, "match", str(log), "--json")
    assert code == 0
    (found,) = json.loads(out)
    assert found["id"] == "cloud-run-memory-limit"
    assert all(len(text) <= 200 for text in found["evidence"])
    assert len(out) < 20_000
