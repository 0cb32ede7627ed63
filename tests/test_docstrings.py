"""Every ``Example:`` in vvshub's docstrings runs, and prints what it says it prints.

Examples that need the reference data or a network carry ``# doctest: +SKIP``; all others run
here, in a temporary working folder and ``VVSHUB_HOME``, so a wrong example fails the suite.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from pathlib import Path

import pytest

import vvshub

#: Modules whose examples take more than a few seconds (they build and convert real models).
_SLOW = {"vvshub.zoo._layers"}


def _modules() -> list[str]:
    names = ["vvshub"]
    names += [m.name for m in pkgutil.walk_packages(vvshub.__path__, prefix="vvshub.")]
    return sorted(n for n in names if not n.endswith("__main__"))


def _params() -> list:
    return [
        pytest.param(name, marks=pytest.mark.slow) if name in _SLOW else name for name in _modules()
    ]


@pytest.mark.parametrize("module_name", _params())
def test_docstring_examples_run(
    module_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(module_name)
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in finder.find(module, module_name):
        runner.run(test, out=report.write)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, report.getvalue()


def test_the_public_examples_are_collected() -> None:
    """The runner above sees the examples it is meant to check (it cannot pass by finding none)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {
        t.name
        for name in ("vvshub.ids", "vvshub.study", "vvshub._format", "vvshub.zoo._api")
        for t in finder.find(importlib.import_module(name), name)
        if t.examples
    }
    assert {
        "vvshub.ids.parse",
        "vvshub.ids.format_id",
        "vvshub.study",
        "vvshub.study.study_widths",
        "vvshub._format.format_number",
        "vvshub.zoo._api.count",
        "vvshub.zoo._api.build",
    } <= found
