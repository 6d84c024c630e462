"""Tests that run system tools in child processes: the tools they need, what a child said."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from typing import Any

import pytest


def json_result(what: str, returncode: int | None, stdout: str, stderr: str) -> dict[str, Any]:
    """Return the JSON object ``what`` printed last; fail with all it said if it failed."""
    lines = stdout.strip().splitlines()
    failed = f"{what} failed ({returncode}):\n{stdout}\n{stderr}"
    assert returncode == 0, failed
    assert lines, failed
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def require_tools(tools: Sequence[str], what: str, switch: str) -> None:
    """Fail when a system tool is missing, saying how to get it; skip only if ``switch``=1."""
    if os.environ.get(switch) == "1":
        pytest.skip(f"{switch}=1: the tests that need {what} are turned off")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run .ci/setup (as root on Debian/Ubuntu) to "
            f"install {what}, or set {switch}=1 to skip",
            pytrace=False,
        )
