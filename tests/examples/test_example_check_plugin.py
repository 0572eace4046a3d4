"""The example plugin package installs with pip and its check kind runs in ``prodguardian check``.

pip builds and installs the package offline (no build isolation, no dependencies, no index)
into a directory of its own, which the ``prodguardian`` process gets on its ``PYTHONPATH``: the
entry point is found exactly as it is in a virtualenv, and the project's venv stays untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "prodguardian-example-check"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where pip installed the example package."""
    build = tmp_path_factory.mktemp("example-src")
    source = build / "prodguardian-example-check"
    shutil.copytree(EXAMPLE, source)  # setuptools writes build/ and *.egg-info beside the source
    target = tmp_path_factory.mktemp("example-site")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert list(target.glob("prodguardian_example_check-*.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def prodguardian(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_path), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(
        "checks:\n"
        f"  - {{name: db-port, kind: tcp_port, host: 127.0.0.1, port: {port}, "
        "degraded_after: 5s}\n",
        encoding="utf-8",
    )
    return path


def test_the_installed_kind_runs_and_passes_on_an_open_port(
    plugin_path: Path, listening_port: int, tmp_path: Path
) -> None:
    config = write_config(tmp_path, listening_port)
    done = prodguardian(plugin_path, "check", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    (run,) = json.loads(done.stdout)["checks"]
    assert (run["name"], run["kind"]) == ("db-port", "tcp_port")
    assert run["result"]["status"] == "OK"
    assert f"127.0.0.1:{listening_port} accepts connections" in run["result"]["summary"]


def test_a_refused_port_is_critical_with_the_reason(
    plugin_path: Path, closed_port: int, tmp_path: Path
) -> None:
    config = write_config(tmp_path, closed_port)
    done = prodguardian(plugin_path, "check", "-c", str(config), "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    (run,) = json.loads(done.stdout)["checks"]
    assert run["result"]["status"] == "CRITICAL"
    assert run["result"]["summary"] == (
        f"127.0.0.1:{closed_port} does not accept connections: connection refused"
    )
    (evidence,) = run["result"]["evidence"]
    assert (evidence["condition"], evidence["actual"]) == (
        "accepts TCP connections",
        "connection refused",
    )


def test_a_typo_in_the_plugins_keys_is_a_config_error(plugin_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "prodguardian.yaml"
    config.write_text("checks:\n  - {name: p, kind: tcp_port, host: x, prot: 1}\n", "utf-8")
    done = prodguardian(plugin_path, "config", "validate", "-c", str(config))
    assert done.returncode == 3
    assert "prot" in done.stderr


def test_without_the_package_the_kind_is_unknown(tmp_path: Path) -> None:
    config = write_config(tmp_path, 1)
    done = prodguardian(tmp_path, "config", "validate", "-c", str(config))
    assert done.returncode == 3
    assert "tcp_port" in done.stderr


def test_the_reference_documents_the_plugin_only_when_asked(plugin_path: Path) -> None:
    with_plugins = prodguardian(plugin_path, "config", "reference", "--with-plugins")
    assert with_plugins.returncode == 0, with_plugins.stderr
    assert "### Kind `tcp_port`" in with_plugins.stdout
    assert "| `degraded_after` | duration | `null` |" in with_plugins.stdout
    built_in = prodguardian(plugin_path, "config", "reference")
    assert "tcp_port" not in built_in.stdout
