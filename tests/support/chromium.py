"""Headless Chromium for page tests: Debian's package, driven by Playwright.

Installed by the test set-up when missing (``apt-get install chromium``, as root); skipped with
the reason where it cannot be, and failing instead when ``PRODGUARDIAN_REQUIRE_CHROMIUM=1``
(which ``.ci/run`` sets).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _install() -> str | None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root or no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr[-300:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a Chromium binary (installing it if needed)."""
    path = chromium_path()
    if path is None:
        problem = _install()
        path = chromium_path()
        if path is None:
            reason = f"Chromium is not installed and could not be: {problem}"
            if os.environ.get("PRODGUARDIAN_REQUIRE_CHROMIUM") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
    return path
