"""``vvshub doctor``: what this installation has, and how to fix what is missing.

Each check is a :class:`Check` with a status (``ok``, ``warn``, ``fail``), what was
found, and for anything not ``ok`` the command or setting that fixes it. Checks only
read: nothing is created, migrated or started.

Example:
    >>> from vvshub.doctor import run_checks
    >>> [c.name for c in run_checks()][:3]  # doctest: +SKIP
    ['python', 'vvshub', 'torch']
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Literal

from vvshub.constants import catalog_path, vvshub_home, vvshub_org

__all__ = ["Check", "run_checks"]

Status = Literal["ok", "warn", "fail"]

#: Packages the core needs, and the optional ones with what they enable.
_CORE = ("torch", "torchvision", "timm", "duckdb", "numpy", "huggingface_hub", "safetensors")
_OPTIONAL = {
    "olah": ("`vvshub hub serve`", "pip install olah"),
    "ray": ("`vvshub sweep` and `score-batch` on Ray", "pip install ray"),
    "albumentations": ("training augmentations", "pip install albumentations"),
    "datasets": ("`--dataset hf:NAME`", "pip install datasets"),
    "xarray": ("Brain-Score data files (`--suite brainio`)", "pip install xarray netCDF4"),
}


@dataclass(frozen=True)
class Check:
    """One finding.

    Attributes:
        name: what was checked (``torch``, ``catalog`` ...).
        status: ``ok``, ``warn`` (works, with a caveat) or ``fail`` (something will not work).
        detail: what was found.
        fix: the command or setting that fixes it (empty when ``ok``).
    """

    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _packages() -> list[Check]:
    out = [Check("python", "ok", f"{platform.python_version()} ({sys.executable})")]
    out.append(Check("vvshub", "ok", _version("vvshub") or "not installed as a package"))
    for dist in _CORE:
        v = _version(dist)
        out.append(
            Check(dist, "ok", v)
            if v
            else Check(dist, "fail", "not installed", f"pip install -e . (installs {dist})")
        )
    for dist, (what, fix) in _OPTIONAL.items():
        v = _version(dist)
        out.append(
            Check(dist, "ok", f"{v} ({what})")
            if v
            else Check(dist, "warn", f"not installed: no {what}", fix)
        )
    return out


def _devices() -> list[Check]:
    try:
        import torch
    except Exception as exc:  # reported by the package check
        return [Check("device", "fail", f"torch does not import: {exc}", "pip install -e .")]
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return [Check("device", "ok", f"CUDA: {', '.join(names)}")]
    threads = torch.get_num_threads()
    return [
        Check(
            "device",
            "warn",
            f"CPU only ({os.cpu_count()} cores, torch uses {threads} threads): training and "
            "scoring work, slowly",
            "on a GPU machine, install the CUDA build of torch",
        )
    ]


def _home() -> list[Check]:
    home = vvshub_home()
    raw = os.environ.get("VVSHUB_HOME")
    if raw is not None and not raw.strip():
        return [
            Check(
                "home", "fail", "VVSHUB_HOME is set but empty", "unset VVSHUB_HOME or set a folder"
            )
        ]
    if not home.exists():
        return [Check("home", "warn", f"{home} does not exist yet", "any write creates it")]
    if not os.access(home, os.W_OK):
        return [
            Check("home", "fail", f"{home} is not writable", f"chmod u+w {home} or set VVSHUB_HOME")
        ]
    free = shutil.disk_usage(home).free
    status: Status = "ok" if free > 5e9 else "warn"
    fix = "" if status == "ok" else "free disk space or move VVSHUB_HOME"
    return [Check("home", status, f"{home} ({free / 1e9:.1f} GB free)", fix)]


def _catalog() -> list[Check]:
    from vvshub.catalog import SCHEMA_VERSION, open_catalog, pending_spool, snapshot_path, summarise
    from vvshub.errors import CatalogError

    path = catalog_path()
    if not path.exists():
        return [
            Check("catalog", "warn", f"no catalog at {path}", "vvshub catalog import-reference")
        ]
    try:
        with open_catalog(path) as cat:
            summary = summarise(cat)
    except CatalogError as exc:
        return [Check("catalog", "fail", str(exc), "see the message; VVSHUB_DEBUG=1 for details")]
    rows = summary.rows
    detail = (
        f"{path}: schema {summary.schema_version}, {rows.get('models', 0):,} models, "
        f"{rows.get('score_records', 0):,} scores, {rows.get('training_runs', 0):,} training runs"
    )
    out = []
    if summary.snapshot_of:
        out.append(
            Check("catalog", "warn", detail + " (read from its snapshot: a writer holds it)")
        )
    elif str(summary.schema_version) != str(SCHEMA_VERSION):
        out.append(Check("catalog", "warn", detail, "open it read-write once to migrate it"))
    else:
        out.append(Check("catalog", "ok", detail))
    if rows.get("models", 0) and not rows.get("imports", 0):
        out.append(
            Check(
                "reference", "warn", "the study is not imported", "vvshub catalog import-reference"
            )
        )
    elif not rows.get("models", 0):
        out.append(
            Check("reference", "warn", "the catalog is empty", "vvshub catalog import-reference")
        )
    waiting = pending_spool(path)
    if waiting:
        out.append(
            Check(
                "spool", "warn", f"{len(waiting)} record batch(es) waiting", "vvshub catalog drain"
            )
        )
    else:
        out.append(Check("spool", "ok", "empty"))
    if not snapshot_path(path).exists():
        out.append(
            Check(
                "snapshot",
                "warn",
                "no read snapshot: readers fail while a writer holds the catalog",
                "vvshub catalog drain (any write session publishes one)",
            )
        )
    return out


def _hub() -> list[Check]:
    root = vvshub_home() / "hub" / "models"
    repos = sorted(p for p in root.glob("*/*") if p.is_dir()) if root.is_dir() else []
    out = [
        Check(
            "hub",
            "ok" if repos else "warn",
            f"{len(repos)} repo(s) under {root} (org {vvshub_org()})",
            "" if repos else "vvshub push MODEL ID",
        )
    ]
    for tool in ("git", "git-lfs"):
        found = shutil.which(tool)
        out.append(
            Check(tool, "ok", found)
            if found
            else Check(
                tool, "fail", "not on PATH: the local hub needs it", f"apt-get install {tool}"
            )
        )
    endpoint = os.environ.get("HF_ENDPOINT")
    if endpoint:
        out.append(Check("hf endpoint", "ok", endpoint))
    token = "set" if os.environ.get("HF_TOKEN") else "not set (needed only to push to the Hub)"
    out.append(Check("hf token", "ok", token))
    return out


def _browser() -> list[Check]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return [Check("browser", "ok", f"{found} (report tests)")]
    return [
        Check(
            "browser",
            "warn",
            "no chromium: the report's browser test is skipped",
            "apt-get install chromium",
        )
    ]


def _git_lfs_installed() -> bool:
    try:
        run = subprocess.run(["git", "lfs", "version"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return run.returncode == 0


def run_checks() -> list[Check]:
    """Every check, in a fixed order: packages, devices, home, catalog, hub, browser."""
    checks = [*_packages(), *_devices(), *_home(), *_catalog(), *_hub(), *_browser()]
    if shutil.which("git-lfs") and not _git_lfs_installed():
        checks.append(Check("git lfs", "fail", "`git lfs` does not run", "apt-get install git-lfs"))
    return checks


def worst(checks: list[Check]) -> Status:
    """The most severe status among ``checks``."""
    order = {"ok": 0, "warn": 1, "fail": 2}
    return max((c.status for c in checks), key=order.__getitem__, default="ok")
