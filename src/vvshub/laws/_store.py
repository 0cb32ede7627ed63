"""The catalog's ``fits`` table: save a fit, and find it again when nothing changed.

A fit is keyed by ``fit_id = sha256(query, data hash, form, options)``, where ``options``
holds everything else that changes the result (scales, δ, grid, resamples, seed, solver
version). Reading never writes; saving opens the catalog read-write for one transaction,
and skips with a warning when another process holds the write lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import CatalogError
from vvshub.laws._law import LawFit

if TYPE_CHECKING:
    import pandas as pd

    from vvshub.catalog import Catalog

logger = logging.getLogger(__name__)

_SELECT_FIT = (
    "SELECT params, objective, n_rows, n_bootstrap, bootstrap_params, options "
    "FROM fits WHERE fit_id = ?"
)


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace, for hashing and storing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def finite_json(obj: Any) -> Any:
    """``obj`` with non-finite floats as the strings ``"inf"``, ``"-inf"``, ``"nan"``.

    A degenerate fit's ``A = exp(a)`` is infinite; ``float()`` reads these strings back.
    """
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj


def data_hash(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """sha256 of the fitted columns: names, row order and values to 12 significant digits.

    DuckDB's parallel ``avg`` may differ in the last bits from run to run; rounding keeps
    the hash stable while any real change of the data changes it.
    """
    h = hashlib.sha256()
    for col in columns:
        h.update(col.encode())
        values = frame[col].to_numpy(dtype=float)
        h.update(",".join(f"{v:.12g}" for v in values).encode())
    return h.hexdigest()


def fit_id(query: str, data_hash_: str, form: str, options: dict[str, Any]) -> str:
    """The key of a fit: sha256 over query, data hash, form and options (first 32 hex digits)."""
    payload = canonical_json([query, data_hash_, form, options])
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def load_fit(cat: Catalog, key: str) -> LawFit | None:
    """The stored fit with ``fit_id = key``, or ``None`` (also when the catalog has no fits table)."""
    if "fits" not in cat.tables():
        return None
    rows = cat.fetchall(_SELECT_FIT, [key])
    if not rows:
        return None
    params, objective, n_rows, n_boot, boot, options = rows[0]
    opts = json.loads(options) if options else {}
    record = json.loads(params)
    boot_rec = json.loads(boot) if boot else {}
    try:
        return LawFit.from_dict(
            {
                "form": opts["form"],
                "params": record,
                "objective": objective,
                "n_rows": n_rows,
                "scales": opts["scales"],
                "delta": opts["delta"],
                "n_bootstrap": n_boot,
                "seed": opts["seed"],
                "bootstrap_params": boot_rec.get("params", []),
                "bootstrap_objectives": boot_rec.get("objectives", []),
                "converged": boot_rec.get("converged", True),
                "n_starts": boot_rec.get("n_starts", 0),
                "n_minima": boot_rec.get("n_minima", 0),
                "extra": boot_rec.get("extra", {}),
                "log_params": boot_rec.get("log_params", {}),
                "bootstrap_log_params": boot_rec.get("log_bootstrap", []),
                "degenerate": boot_rec.get("degenerate", ""),
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("ignoring stored fit %s that cannot be read: %s", key, exc)
        return None


def save_fit(
    location: str | Path | None,
    *,
    key: str,
    query: str,
    data_hash_: str,
    options: dict[str, Any],
    fit: LawFit,
) -> bool:
    """Write ``fit`` to the ``fits`` table through the catalog's write API.

    Returns ``False`` (with a warning) when the catalog is read-only (a Parquet export) or the
    fit cannot be stored; a locked catalog gets the fit through the spool.
    """
    from vvshub.catalog import FitRecord, save_fits

    boot = {
        "params": [list(p) for p in fit.bootstrap_params],
        "objectives": list(fit.bootstrap_objectives),
        "converged": fit.converged,
        "n_starts": fit.n_starts,
        "n_minima": fit.n_minima,
        "extra": fit.extra,
        "log_params": fit.log_params,
        "log_bootstrap": [list(p) for p in fit.bootstrap_log_params],
        "degenerate": fit.degenerate,
    }
    # a degenerate fit's A = exp(a) is inf, which JSON cannot hold: stored as "inf"
    boot = finite_json(boot)
    record = FitRecord(
        fit_id=key,
        query=query,
        data_hash=data_hash_,
        form=fit.form,
        options=options,
        params=finite_json(fit.params),
        objective=fit.objective,
        n_rows=fit.n_rows,
        n_bootstrap=fit.n_bootstrap,
        bootstrap=boot,
    )
    try:
        # a stored fit is a cache: wait briefly for the lock, then spool it for the next writer
        result = save_fits([record], catalog=location, wait=2.0)
    except CatalogError as exc:
        warnings.warn(f"fit not stored in the catalog: {exc}", UserWarning, stacklevel=2)
        return False
    if result.spooled:
        logger.info("fit %s spooled to %s", key, result.spooled)
    logger.info("stored fit %s (%s, %d rows)", key, fit.form, fit.n_rows)
    return True
