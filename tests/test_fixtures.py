"""The autouse fixtures isolate every test from the caller's VVSHUB_* settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_vvshub_setting_leaks_into_a_test(vvshub_home: Path) -> None:
    leaked = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("VVSHUB_")
        and k
        not in ("VVSHUB_HOME", "VVSHUB_NO_PROGRESS", "VVSHUB_REFERENCE_DIR", "VVSHUB_CIFAR10_ZIP")
    }
    assert leaked == {}
    assert os.environ["VVSHUB_HOME"] == str(vvshub_home)


def test_error_tests_pass_with_debug_and_org_exported(tmp_path: Path) -> None:
    """Run a one-line-error test in a child pytest with VVSHUB_DEBUG=1 and friends exported."""
    env = {
        **os.environ,
        "VVSHUB_DEBUG": "1",
        "VVSHUB_ORG": "someone-else",
        "VVSHUB_NO_PROGRESS": "0",
        "VVSHUB_HOME": str(tmp_path / "not-the-tests-home"),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    test = REPO / "tests" / "test_cli_markup.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), "-k", "error"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
