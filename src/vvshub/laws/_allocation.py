"""Compute-optimal allocation of a budget C between parameters N and samples seen D.

From the joint law ``L = E + A·ñ^-α + B·d̃^-β`` (``ñ = N / n_scale``, ``d̃ = D / d_scale``)
and the fitted compute relation ``C = m (N D)^n`` (least squares in log-log), minimising
``L`` at fixed ``ñ d̃`` gives::

    ñ* = G · (ñd̃)^a',   d̃* = G^-1 · (ñd̃)^b',   a' = β/(α+β), b' = α/(α+β),
    G = (αA / (βB))^(1/(α+β)),   N D = (C/m)^(1/n)

so ``N*(C) ∝ C^(a'/n)`` and ``D*(C) ∝ C^(b'/n)``, both with positive exponents. (The
reference notebook passed negative exponents and so used 1/G; this module does not.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vvshub.errors import FitDataError
from vvshub.laws._law import LawFit


@dataclass(frozen=True)
class ComputeRelation:
    """``C = m (N D)^n``, fitted by least squares on ``log10 C`` against ``log10 (N D)``.

    Attributes:
        m: prefactor (raw units).
        n: exponent.
        n_rows: rows fitted.
    """

    m: float
    n: float
    n_rows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ComputeRelation:
        """Inverse of :meth:`to_dict`."""
        return cls(float(d["m"]), float(d["n"]), int(d["n_rows"]))


def fit_compute_relation(n_params: Any, n_samples_seen: Any, total_flops: Any) -> ComputeRelation:
    """Fit ``C = m (N D)^n`` by least squares in log-log.

    Args:
        n_params: parameter counts ``N``, shape ``(k,)``.
        n_samples_seen: samples seen ``D``, shape ``(k,)``.
        total_flops: training compute ``C``, shape ``(k,)``.

    Raises:
        FitDataError: fewer than two usable rows or non-positive values.

    Example:
        >>> N = np.array([1e6, 1e7, 1e8]); D = np.array([1e7, 1e6, 1e8])
        >>> rel = fit_compute_relation(N, D, 6 * N * D)
        >>> round(rel.n, 6), round(rel.m, 3)
        (1.0, 6.0)
    """
    N, D, C = (np.asarray(v, dtype=float).ravel() for v in (n_params, n_samples_seen, total_flops))
    ok = np.isfinite(N) & np.isfinite(D) & np.isfinite(C)
    N, D, C = N[ok], D[ok], C[ok]
    if len(C) < 2:
        raise FitDataError(
            "the compute relation C = m (N D)^n needs at least two rows with N, D and C"
        )
    if np.any(N <= 0) or np.any(D <= 0) or np.any(C <= 0):
        raise FitDataError("N, D and C must be positive to fit C = m (N D)^n")
    u, v = np.log10(N * D), np.log10(C)
    slope, intercept = np.polyfit(u, v, 1)
    return ComputeRelation(m=float(10.0**intercept), n=float(slope), n_rows=len(C))


@dataclass(frozen=True)
class Allocation:
    """Compute-optimal allocation from a joint law and a compute relation.

    Attributes:
        a_prime: ``β/(α+β)``, the share of the N·D product's exponent going to N.
        b_prime: ``α/(α+β)``.
        G: ``(αA/(βB))^(1/(α+β))`` in the joint law's scaled units.
        m: compute prefactor.
        n: compute exponent.
        n_scale: divisor of N in the joint law.
        d_scale: divisor of D in the joint law.
    """

    a_prime: float
    b_prime: float
    G: float
    m: float
    n: float
    n_scale: float
    d_scale: float

    @property
    def n_exponent(self) -> float:
        """Exponent of ``N*(C)``: ``a'/n``."""
        return self.a_prime / self.n

    @property
    def d_exponent(self) -> float:
        """Exponent of ``D*(C)``: ``b'/n``."""
        return self.b_prime / self.n

    def optimal(self, flops: Any) -> tuple[np.ndarray, np.ndarray]:
        """``N*(C)`` and ``D*(C)`` in raw units (parameters, images seen), each shaped like ``flops``."""
        C = np.asarray(flops, dtype=float)
        nd_raw = (C / self.m) ** (1.0 / self.n)  # N·D in raw units
        nd = nd_raw / (self.n_scale * self.d_scale)  # ñ·d̃
        n_opt = self.G * nd**self.a_prime * self.n_scale
        d_opt = nd**self.b_prime / self.G * self.d_scale
        return n_opt, d_opt

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with the two exponents."""
        d = asdict(self)
        d["n_exponent"] = self.n_exponent
        d["d_exponent"] = self.d_exponent
        return d


def allocation(law: LawFit, relation: ComputeRelation) -> Allocation:
    """The compute-optimal allocation of ``law`` (a chinchilla fit) under ``relation``.

    Raises:
        ValueError: ``law`` is not a chinchilla fit, or has non-positive α, β, A or B.

    Example:
        >>> fit = LawFit("chinchilla", {"E": .5, "A": .2, "alpha": .6, "B": .5, "beta": .2},
        ...              0.0, 10, {"n_scale": 1e5, "d_scale": 1e4})
        >>> round(allocation(fit, ComputeRelation(6.0, 1.0, 10)).a_prime, 3)
        0.25
    """
    if law.form != "chinchilla":
        raise ValueError(f"allocation needs a chinchilla (joint N-D) fit, got {law.form!r}")
    p = law.params
    A, alpha, B, beta = p["A"], p["alpha"], p["B"], p["beta"]
    if min(A, alpha, B, beta) <= 0:
        raise ValueError(
            f"allocation needs positive A, alpha, B, beta; got A={A:.3g}, alpha={alpha:.3g}, "
            f"B={B:.3g}, beta={beta:.3g}"
        )
    s = alpha + beta
    return Allocation(
        a_prime=beta / s,
        b_prime=alpha / s,
        G=(alpha * A / (beta * B)) ** (1.0 / s),
        m=relation.m,
        n=relation.n,
        n_scale=law.scales["n_scale"],
        d_scale=law.scales["d_scale"],
    )
