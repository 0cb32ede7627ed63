"""The paper's headline laws from the catalog, and ``predict`` at a compute budget."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vvshub.errors import FitDataError
from vvshub.laws._allocation import Allocation, ComputeRelation, allocation, fit_compute_relation
from vvshub.laws._api import Location, SqlFit, fit_sql
from vvshub.laws._selections import (
    COMPUTE_BEHAVIOR,
    COMPUTE_NEURAL,
    JOINT_COMPUTE,
    PAPER_SELECTIONS,
    Selection,
    selection,
)

logger = logging.getLogger(__name__)

#: What the paper reports (Gokce & Schrimpf 2025, section 3; DESIGN.md section 4).
#: Alignment laws read ``S = 1 - E - A·C̃^-alpha``; the allocation exponents are the
#: joint fit's ``a'/n`` and ``b'/n`` (the text rounds them to 0.3 and 0.7).
PAPER_REPORTED: dict[str, dict[str, float]] = {
    "compute_neural": {"S_max": 0.48, "A": 0.55, "alpha": 0.16},
    "compute_behavior": {"S_max": 1.0, "A": 1.4, "alpha": 0.06},
    "allocation": {
        "a_prime": 0.277,
        "b_prime": 0.723,
        "n": 1.028,
        "n_exponent": 0.270,
        "d_exponent": 0.703,
    },
}


def fit_selection(
    sel: Selection, *, catalog: Location = None, n_bootstrap: int = 1000, reuse: bool = True
) -> SqlFit:
    """Fit one of the paper's selections with its form and scales.

    Raises:
        FitDataError: the catalog has no rows for it.
    """
    return fit_sql(
        sel.sql,
        form=sel.form,
        params=sel.params,
        catalog=catalog,
        scales=sel.scales,
        n_bootstrap=n_bootstrap,
        reuse=reuse,
    )


def compute_relation(*, catalog: Location = None) -> ComputeRelation:
    """``C = m (N D)^n`` fitted on the joint law's rows."""
    from vvshub.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        frame = cat.query(JOINT_COMPUTE)
    return fit_compute_relation(frame["n"], frame["d"], frame["c"])


def paper_fits(
    *,
    catalog: Location = None,
    n_bootstrap: int = 1000,
    keys: tuple[str, ...] | None = None,
    reuse: bool = True,
) -> dict[str, SqlFit]:
    """Fit the paper's laws (all, or ``keys``); selections with no rows are skipped.

    Returns:
        Selection key -> fit, in the paper's order.

    Example:
        >>> fits = paper_fits(n_bootstrap=0)  # doctest: +SKIP
        >>> 1 - fits["compute_neural"].fit.params["E"]  # doctest: +SKIP
        0.477...
    """
    out: dict[str, SqlFit] = {}
    for sel in PAPER_SELECTIONS:
        if keys is not None and sel.key not in keys:
            continue
        try:
            out[sel.key] = fit_selection(sel, catalog=catalog, n_bootstrap=n_bootstrap, reuse=reuse)
        except FitDataError as exc:
            if sel.key.startswith("samples_"):
                logger.info("skipping %s: %s", sel.key, exc)
                continue
            raise
    return out


@dataclass(frozen=True)
class Nearest:
    """A catalog model close to the asked compute.

    Attributes:
        model_id: the model.
        total_flops: its training compute.
        neural: its measured neural alignment (mean of V1, V2, V4, IT).
        behavior: its measured behavioural alignment.
    """

    model_id: str
    total_flops: float
    neural: float
    behavior: float


@dataclass(frozen=True)
class Prediction:
    """What to expect at a compute budget, from the paper's laws fitted on the catalog.

    Attributes:
        flops: the budget C.
        neural: predicted neural alignment.
        neural_ci: its percentile band.
        behavior: predicted behavioural alignment.
        behavior_ci: its band.
        n_params_opt: compute-optimal parameter count N*.
        n_samples_seen_opt: compute-optimal samples seen D*.
        n_params_ci: band of N* over the joint law's resamples.
        n_samples_seen_ci: band of D*.
        allocation: the allocation used.
        nearest: catalog models closest in compute.
        warnings: extrapolation and other caveats.
        level: band coverage.
    """

    flops: float
    neural: float
    neural_ci: tuple[float, float]
    behavior: float
    behavior_ci: tuple[float, float]
    n_params_opt: float
    n_samples_seen_opt: float
    n_params_ci: tuple[float, float]
    n_samples_seen_ci: tuple[float, float]
    allocation: dict[str, float]
    nearest: tuple[Nearest, ...]
    warnings: tuple[str, ...]
    level: float = 0.95

    @property
    def valid(self) -> dict[str, bool]:
        """Whether each predicted alignment is a score (a law can fall below 0 far from its data)."""
        return {"neural": self.neural >= 0, "behavior": self.behavior >= 0}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``vvshub predict --json`` (DESIGN.md section 3).

        ``valid`` is false where the law's value is negative: not an alignment score.
        """
        valid = self.valid
        return {
            "flops": self.flops,
            "neural": {
                "score": self.neural,
                "ci": list(self.neural_ci),
                "valid": valid["neural"],
            },
            "behavior": {
                "score": self.behavior,
                "ci": list(self.behavior_ci),
                "valid": valid["behavior"],
            },
            "n_params_opt": self.n_params_opt,
            "n_samples_seen_opt": self.n_samples_seen_opt,
            "n_params_opt_ci": list(self.n_params_ci),
            "n_samples_seen_opt_ci": list(self.n_samples_seen_ci),
            "ci_level": self.level,
            "allocation": dict(self.allocation),
            "nearest": [asdict(n) for n in self.nearest],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Prediction:
        """Inverse of :meth:`to_dict`."""
        return cls(
            flops=d["flops"],
            neural=d["neural"]["score"],
            neural_ci=tuple(d["neural"]["ci"]),
            behavior=d["behavior"]["score"],
            behavior_ci=tuple(d["behavior"]["ci"]),
            n_params_opt=d["n_params_opt"],
            n_samples_seen_opt=d["n_samples_seen_opt"],
            n_params_ci=tuple(d["n_params_opt_ci"]),
            n_samples_seen_ci=tuple(d["n_samples_seen_opt_ci"]),
            allocation=dict(d["allocation"]),
            nearest=tuple(Nearest(**n) for n in d["nearest"]),
            warnings=tuple(d["warnings"]),
            level=d.get("ci_level", 0.95),
        )


_NEAREST = (
    "SELECT n.model_id, n.total_flops, n.score AS neural, b.score AS behavior "
    f"FROM ({COMPUTE_NEURAL}) AS n JOIN ({COMPUTE_BEHAVIOR}) AS b USING (model_id) "
    "WHERE n.total_flops > 0 "
    "ORDER BY abs(ln(n.total_flops) - ln(?)), n.model_id LIMIT ?"
)


def ratio_text(ratio: float) -> str:
    """A ratio in scientific notation: ``1.9e+01×``."""
    return f"{ratio:.1e}×"


def range_warnings(flops: float, fits: dict[str, SqlFit]) -> list[str]:
    """Extrapolation warnings: ``flops`` against the compute of each law's own fitted rows."""
    out = []
    seen: set[tuple[float, float]] = set()
    for key, res in fits.items():
        x = np.asarray(res.data["x"], dtype=float) if res.data is not None else np.array([])
        x = x[np.isfinite(x) & (x > 0)]
        if not len(x):
            continue
        lo, hi = float(x.min()), float(x.max())
        if (lo, hi) in seen:
            continue
        seen.add((lo, hi))
        if flops > hi:
            out.append(
                f"extrapolation: C = {flops:.3g} FLOPs is {ratio_text(flops / hi)} the largest "
                f"compute the {key} law was fitted on ({hi:.3g} FLOPs); treat the prediction "
                "with caution"
            )
        elif flops < lo:
            out.append(
                f"extrapolation: C = {flops:.3g} FLOPs is {ratio_text(flops / lo)} the smallest "
                f"compute the {key} law was fitted on ({lo:.3g} FLOPs); treat the prediction "
                "with caution"
            )
    return out


def predict(
    flops: float,
    *,
    catalog: Location = None,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    n_nearest: int = 5,
    reuse: bool = True,
) -> Prediction:
    """Predicted alignment at compute ``flops``, with bands, and the compute-optimal N*, D*.

    Fits (or reuses) the paper's compute -> neural, compute -> behaviour and joint laws
    on the catalog.

    Args:
        flops: training compute C in FLOPs.
        catalog: catalog location.
        n_bootstrap: resamples for the bands.
        level: band coverage.
        n_nearest: catalog models to list.
        reuse: reuse stored fits.

    Raises:
        FitDataError: ``flops`` is not positive, or the catalog lacks the paper's rows.

    Example:
        >>> p = predict(1e20)  # doctest: +SKIP
        >>> p.neural, p.neural_ci, p.n_params_opt  # doctest: +SKIP
    """
    from vvshub.catalog import open_catalog

    if not (flops > 0 and math.isfinite(flops)):
        raise FitDataError(f"--flops must be a positive number of FLOPs, got {flops!r}")
    fits = {
        key: fit_selection(selection(key), catalog=catalog, n_bootstrap=n_bootstrap, reuse=reuse)
        for key in ("compute_neural", "compute_behavior", "joint")
    }
    x = np.array([float(flops)])
    warns: list[str] = []
    for key, res in fits.items():
        warns += [f"{key}: {note}" for note in res.fit.extra.get("warnings", [])]
    out: dict[str, tuple[float, tuple[float, float]]] = {}
    for key in ("compute_neural", "compute_behavior"):
        law = fits[key].law
        s = float(law.predict(x)[0])
        if law.fit_.n_bootstrap:
            lo, hi = law.predict_interval(x, level)
            band = (float(lo[0]), float(hi[0]))
        else:
            band = (math.nan, math.nan)
        out[key] = (s, band)
    relation = compute_relation(catalog=catalog)
    joint = fits["joint"].fit
    try:
        alloc = allocation(joint, relation)
    except ValueError:
        p = joint.params
        warns.append(
            "no compute-optimal N*, D*: the joint law fitted on this catalog "
            f"({joint.n_rows} rows) does not saturate (A = {p['A']:.3g}, alpha = "
            f"{p['alpha']:.3g}, B = {p['B']:.3g}, beta = {p['beta']:.3g}; the allocation needs "
            "all four positive), so its rows cannot identify the law; add models at more "
            "(parameters, samples seen) pairs or check `vvshub laws fit --form chinchilla`"
        )
        alloc_dict: dict[str, float] = {}
        n_opt = d_opt = math.nan
        n_ci = d_ci = (math.nan, math.nan)
    else:
        alloc_dict = alloc.to_dict()
        n_arr, d_arr = alloc.optimal(x)
        n_opt, d_opt = float(n_arr[0]), float(d_arr[0])
        n_ci, d_ci = _allocation_band(joint, relation, x, level)
    with open_catalog(catalog, read_only=True) as cat:
        near = cat.fetchall(_NEAREST, [float(flops), int(n_nearest)])
    warns += range_warnings(
        float(flops), {k: fits[k] for k in ("compute_neural", "compute_behavior")}
    )
    for key in ("compute_neural", "compute_behavior"):
        s = out[key][0]
        if s < 0:
            warns.append(
                f"the {key} law gives {s:.3g} at C = {flops:.3g} FLOPs, below 0: not an "
                "alignment score; the law does not hold this far from its data"
            )
    return Prediction(
        flops=float(flops),
        neural=out["compute_neural"][0],
        neural_ci=out["compute_neural"][1],
        behavior=out["compute_behavior"][0],
        behavior_ci=out["compute_behavior"][1],
        n_params_opt=n_opt,
        n_samples_seen_opt=d_opt,
        n_params_ci=n_ci,
        n_samples_seen_ci=d_ci,
        allocation=alloc_dict,
        nearest=tuple(Nearest(str(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in near),
        warnings=tuple(warns),
        level=level,
    )


def _allocation_band(
    joint: Any, relation: ComputeRelation, x: np.ndarray, level: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile bands of N* and D* over the joint law's resamples (NaN without any)."""
    from vvshub.laws._bootstrap import percentile_band
    from vvshub.laws._law import LawFit

    if not joint.n_bootstrap:
        return (math.nan, math.nan), (math.nan, math.nan)
    ns, ds = [], []
    for row in joint.bootstrap_params:
        params = dict(zip(joint.spec.public_names, row, strict=True))
        try:
            alloc: Allocation = allocation(
                LawFit("chinchilla", params, 0.0, joint.n_rows, joint.scales), relation
            )
        except ValueError:  # a degenerate resample (alpha or beta at 0) has no allocation
            continue
        n_opt, d_opt = alloc.optimal(x)
        ns.append(float(n_opt[0]))
        ds.append(float(d_opt[0]))
    if not ns:
        return (math.nan, math.nan), (math.nan, math.nan)
    n_lo, n_hi = percentile_band(np.array(ns)[:, None], level)
    d_lo, d_hi = percentile_band(np.array(ds)[:, None], level)
    return (float(n_lo[0]), float(n_hi[0])), (float(d_lo[0]), float(d_hi[0]))
