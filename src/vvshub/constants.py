"""Settings read from the environment.

Read through functions, not module-level constants, so that tests (and users
who change the environment inside one process) see the current value.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Default home when ``VVSHUB_HOME`` is unset.
DEFAULT_HOME = Path("~/.cache/vvshub")

#: Public raw files of the reference study (Gokce & Schrimpf, ICML 2025).
REFERENCE_URL = (
    "https://raw.githubusercontent.com/epflneuroailab/scaling-primate-vvs/main/scaling_primate_vvs"
)

#: Name of the compute convention stored with every parameter/MAC count (DESIGN.md section 4):
#: train-mode MACs of one 224x224 image counting conv and linear MACs, 5 operations per
#: BatchNorm element and adaptive-average-pooling input elements; flops = 2 * macs.
COUNT_CONVENTION = "gokce2025-fvcore-train"

#: Set to 1 to see tracebacks from the CLI instead of one-line errors.
DEBUG_ENV = "VVSHUB_DEBUG"
#: Set to 1 to turn progress bars off.
NO_PROGRESS_ENV = "VVSHUB_NO_PROGRESS"
#: Set to 1 to open remote catalogs from the local cache only, without the network.
OFFLINE_ENV = "VVSHUB_OFFLINE"
#: Threads that solve a law's bootstrap resamples (default: the usable cores, at most 8).
THREADS_ENV = "VVSHUB_THREADS"


def vvshub_home() -> Path:
    """The folder holding the catalog, the local hub and caches (``VVSHUB_HOME``)."""
    # an empty value means unset: Path("") would be the current directory
    return Path(os.environ.get("VVSHUB_HOME") or str(DEFAULT_HOME)).expanduser()


def catalog_path() -> Path:
    """Default catalog file: ``$VVSHUB_HOME/catalog.duckdb``."""
    return vvshub_home() / "catalog.duckdb"


def vvshub_org() -> str:
    """Organisation under which hub repos are named (``VVSHUB_ORG``, default ``vvshub``)."""
    return os.environ.get("VVSHUB_ORG", "vvshub")


def debug_enabled() -> bool:
    """Whether the CLI should show tracebacks."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false")


def progress_enabled() -> bool:
    """Whether long loops show progress bars."""
    return os.environ.get(NO_PROGRESS_ENV, "") in ("", "0", "false")


def offline_enabled() -> bool:
    """Whether remote catalogs must come from the cache alone (``VVSHUB_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0", "false")


#: CIFAR-10 as JPEG class folders in a zip (the mini zoo's data, the synthetic suite's stimuli).
CIFAR10_ENV = "VVSHUB_CIFAR10_ZIP"


def fit_threads() -> int:
    """Threads for a law's bootstrap: ``VVSHUB_THREADS``, else the usable cores (at most 8).

    Raises:
        SettingError: ``VVSHUB_THREADS`` is not a positive integer.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, min(8, cores or 1))
    if not raw.isdigit() or int(raw) < 1:
        from vvshub.errors import SettingError

        raise SettingError(
            f"{THREADS_ENV}={raw!r} is not a positive integer; unset it or use e.g. 2"
        )
    return int(raw)


def cifar10_zip() -> Path:
    """CIFAR-10's zip: ``VVSHUB_CIFAR10_ZIP``, else ``../shared/data/cifar10/cifar10_jpg.zip``
    beside the checkout vvshub is installed from (an editable install).

    The path may not exist; callers say so with their own fix.
    """
    env = os.environ.get(CIFAR10_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "cifar10" / "cifar10_jpg.zip"
