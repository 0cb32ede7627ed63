"""Fixtures shared by every test: an isolated VVSHUB_HOME, the reference data, a catalog."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The study's published artifacts, read in place from ../shared (never copied into the repo).
REFERENCE_DIR = Path(
    os.environ.get("VVSHUB_REFERENCE_DIR", REPO.parent / "shared" / "data" / "reference")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-network", action="store_true", help="run tests marked network")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_net = pytest.mark.skip(reason="needs --run-network")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "network" in item.keywords and not config.getoption("--run-network"):
            item.add_marker(skip_net)
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


#: Variables that say where the test data lives (read by the fixtures), not how vvshub behaves.
TEST_DATA_VARIABLES = frozenset(
    {"VVSHUB_REFERENCE_DIR", "VVSHUB_CIFAR10_ZIP", "VVSHUB_ORACLE_PYTHON"}
)


@pytest.fixture(autouse=True)
def vvshub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty VVSHUB_HOME, no progress bars, and no other ``VVSHUB_*``
    setting from the caller's shell (``VVSHUB_DEBUG=1`` would turn one-line errors into
    tracebacks, ``VVSHUB_ORG`` would rename repos ...)."""
    for name in list(os.environ):
        if name.startswith("VVSHUB_") and name not in TEST_DATA_VARIABLES:
            monkeypatch.delenv(name)
    home = tmp_path / "vvshub-home"
    monkeypatch.setenv("VVSHUB_HOME", str(home))
    monkeypatch.setenv("VVSHUB_NO_PROGRESS", "1")
    return home


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The reference study's artifacts (../shared/data/reference)."""
    if not (REFERENCE_DIR / "benchmark_scores.csv").exists():
        pytest.fail(f"reference data not found at {REFERENCE_DIR}; set VVSHUB_REFERENCE_DIR")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def _reference_catalog_master(
    tmp_path_factory: pytest.TempPathFactory, reference_dir: Path
) -> Path:
    from vvshub.catalog import import_reference

    path = tmp_path_factory.mktemp("reference-catalog") / "catalog.duckdb"
    import_reference(reference_dir, catalog=path)
    return path


@pytest.fixture
def reference_catalog(_reference_catalog_master: Path, vvshub_home: Path) -> Path:
    """A catalog imported from the reference data, as ``$VVSHUB_HOME/catalog.duckdb`` (a fresh copy)."""
    vvshub_home.mkdir(parents=True, exist_ok=True)
    path = vvshub_home / "catalog.duckdb"
    shutil.copyfile(_reference_catalog_master, path)
    snapshot = _reference_catalog_master.with_name(_reference_catalog_master.name + ".snapshot")
    if snapshot.exists():  # the read snapshot every write session leaves beside the file
        shutil.copyfile(snapshot, path.with_name(path.name + ".snapshot"))
    return path


class CliResult:
    """Exit code and captured output of one in-process ``vvshub`` invocation."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``vvshub ARGS…`` in this process and return a :class:`CliResult`."""
    from vvshub.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def catalog_lock():
    """``with catalog_lock(path):`` holds the catalog's write lock in another process.

    The holder opens the catalog read-write (as any vvshub writer would) and closes it
    when the block ends, which applies the spool and publishes the read snapshot.
    """
    import contextlib
    import subprocess
    import sys

    import vvshub

    src = str(Path(vvshub.__file__).resolve().parents[1])

    @contextlib.contextmanager
    def hold(path: Path):
        code = (
            "import sys; from vvshub.catalog import open_catalog; "
            f"c = open_catalog({str(path)!r}, read_only=False); print('ready', flush=True); "
            "sys.stdin.read(); c.close(); print('closed', flush=True)"
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        holder = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert holder.stdout.readline().strip() == "ready"
            yield holder
        finally:
            holder.stdin.close()
            holder.wait(timeout=60)
        assert holder.stdout.read().strip() == "closed"

    return hold
