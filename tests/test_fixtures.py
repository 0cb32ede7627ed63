"""The autouse fixtures isolate every test from the caller's VVSHUB_* settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.conftest import TEST_DATA_VARIABLES

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
KEPT = {"VVSHUB_HOME", "VVSHUB_NO_PROGRESS"} | TEST_DATA_VARIABLES


def test_no_vvshub_setting_leaks_into_a_test(vvshub_home: Path) -> None:
    leaked = {k: v for k, v in os.environ.items() if k.startswith("VVSHUB_") and k not in KEPT}
    assert leaked == {}
    assert os.environ["VVSHUB_HOME"] == str(vvshub_home)
    assert os.environ["VVSHUB_NO_PROGRESS"] == "1"


def test_cli_error_tests_pass_with_debug_exported(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite run from a shell that exported VVSHUB_DEBUG=1 (and friends) still sees one-line
    errors: the fixtures clear the settings before each test."""
    monkeypatch.setenv("VVSHUB_DEBUG", "1")
    monkeypatch.setenv("VVSHUB_ORG", "someone-else")
    monkeypatch.setenv("VVSHUB_NO_PROGRESS", "0")
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_child="""
import os


def test_one_line_error(cli, tmp_path):
    assert "VVSHUB_DEBUG" not in os.environ and "VVSHUB_ORG" not in os.environ
    res = cli("sql", "SELECT 1", "--catalog", str(tmp_path / "a[/]b" / "none.duckdb"))
    assert res.code == 1 and res.err.startswith("error: ") and "a[/]b" in res.err
    assert "Traceback" not in res.err
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert os.environ["VVSHUB_DEBUG"] == "1"  # the parent's setting came back after the child
