"""The three law forms of the paper, in its log-sum-exp (LSE) parametrisation.

Each form maps raw inputs to log-misalignment ``log L`` through a log-sum-exp of terms
that are (nearly) linear in the parameters, so residuals and their Jacobians have
closed forms. The solver works on a batch of ``K`` parameter vectors at once:

* ``power`` (eq. 1): ``L = E + A * x̃^-alpha``, LSE parameters ``(e, a, alpha)``,
  ``log L = LSE(a - alpha * log x̃, e)``.
* ``power_shift`` (eq. 3): ``L = E + A * (x̃ + 10^lambda)^-alpha``, LSE parameters
  ``(e, a, lambda, alpha)``.
* ``chinchilla`` (eq. 5): ``L = E + A * ñ^-alpha + B * d̃^-beta``, LSE parameters
  ``(e, a, alpha, b, beta)``.

with ``x̃ = x / x_scale`` (and ``ñ = n / n_scale``, ``d̃ = d / d_scale``), ``E = exp(e)``,
``A = exp(a)``, ``B = exp(b)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FormName = Literal["power", "power_shift", "chinchilla"]
FORMS: tuple[FormName, ...] = ("power", "power_shift", "chinchilla")

_LN10 = float(np.log(10.0))

# The paper's grids of starting points (section 3), in LSE parameters.
_E_GRID = (-1.0, -0.5, 0.0, 0.5, 1.0)
_A_GRID = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
_ALPHA_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
_LAMBDA_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class Form:
    """One law form: parameter names, default grid and the scales its inputs use.

    Attributes:
        name: ``power``, ``power_shift`` or ``chinchilla``.
        lse_names: names of the fitted (LSE) parameters, in solver order.
        public_names: names of the reported parameters, in the same order.
        default_grid: the paper's grid of starts, one tuple of values per LSE parameter.
        n_inputs: 1 for ``x``, 2 for ``(n, d)``.
        formula: the law in plain text, for legends and tables.
    """

    name: FormName
    lse_names: tuple[str, ...]
    public_names: tuple[str, ...]
    default_grid: tuple[tuple[float, ...], ...]
    n_inputs: int
    formula: str

    @property
    def n_params(self) -> int:
        """Number of fitted parameters."""
        return len(self.lse_names)

    def to_public(self, theta: np.ndarray) -> np.ndarray:
        """LSE parameters ``(..., p)`` to public ones (``E = exp(e)``, ...), same shape."""
        out = np.array(theta, dtype=float, copy=True)
        with np.errstate(over="ignore"):  # a degenerate fit's A = exp(a) is inf
            for i, name in enumerate(self.lse_names):
                if name in ("e", "a", "b"):
                    out[..., i] = np.exp(out[..., i])
        return out

    def to_lse(self, public: np.ndarray) -> np.ndarray:
        """Public parameters ``(..., p)`` to LSE ones (``e = log E``, ...), same shape."""
        out = np.array(public, dtype=float, copy=True)
        with np.errstate(divide="ignore"):
            for i, name in enumerate(self.lse_names):
                if name in ("e", "a", "b"):
                    out[..., i] = np.log(out[..., i])
        return out

    def features(self, X: np.ndarray, scales: tuple[float, ...]) -> np.ndarray:
        """Precompute what the residuals need from the raw inputs.

        Args:
            X: raw inputs, shape ``(n,)`` for one-variable forms or ``(n, 2)`` for chinchilla.
            scales: ``(x_scale,)`` or ``(n_scale, d_scale)``.

        Returns:
            ``log x̃`` with shape ``(n,)`` for ``power``, ``x̃`` with shape ``(n,)`` for
            ``power_shift`` and ``(log ñ, log d̃)`` with shape ``(n, 2)`` for chinchilla.
        """
        X = np.asarray(X, dtype=float)
        if self.name == "chinchilla":
            return np.log(X / np.asarray(scales, dtype=float))
        if self.name == "power_shift":
            return X / scales[0]
        return np.log(X / scales[0])

    def log_loss(self, theta: np.ndarray, feats: np.ndarray) -> np.ndarray:
        """Predicted ``log L``, shape ``(K, n)`` for parameters ``theta`` of shape ``(K, p)``."""
        return self._terms(np.atleast_2d(theta), feats, jac=False)[0]

    def residuals_jacobian(
        self, theta: np.ndarray, feats: np.ndarray, log_l: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Residuals ``r = log L̂ - log L`` and their Jacobian.

        Args:
            theta: LSE parameters, shape ``(K, p)``.
            feats: output of :meth:`features` for ``n`` rows.
            log_l: observed ``log L``, shape ``(n,)``.

        Returns:
            ``r`` with shape ``(K, n)`` and ``J = dr/dtheta`` with shape ``(K, n, p)``.
        """
        pred, jac = self._terms(theta, feats, jac=True)
        return pred - log_l, jac

    def residuals_parts(
        self, theta: np.ndarray, feats: np.ndarray, log_l: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple]:
        """Like :meth:`residuals_jacobian`, plus what :meth:`curvature` needs."""
        pred, jac, parts = self._terms(theta, feats, jac=True, parts=True)
        return pred - log_l, jac, parts

    def curvature(
        self, feats: np.ndarray, J: np.ndarray, parts: tuple, c: np.ndarray
    ) -> np.ndarray:
        """``Σ_i c_i ∇²r_i``: the residuals' own curvature, weighted.

        Each ``log L̂`` is a log-sum-exp of terms ``z_k`` with softmax weights ``s_k``, so
        ``∇²r = Σ_k s_k (∇z_k ∇z_kᵀ + ∇²z_k) - ∇r ∇rᵀ``.

        Args:
            feats: the form's features for ``n`` rows.
            J: Jacobian of the residuals, shape ``(K, n, p)``.
            parts: from :meth:`residuals_parts` at the same parameters.
            c: weights per residual, shape ``(K, n)``.

        Returns:
            Shape ``(K, p, p)``.
        """
        out = -np.matmul(J.transpose(0, 2, 1) * c[:, None, :], J)
        if self.name == "power":
            s1, s2 = parts
            u = feats
            cs1 = c * s1
            out[:, 0, 0] += (c * s2).sum(axis=1)
            _add_linear_term(out, cs1, (1, 2), (1.0, -u))
        elif self.name == "power_shift":
            s1, s2, q, v, t, alpha = parts
            cs1 = c * s1
            out[:, 0, 0] += (c * s2).sum(axis=1)
            _add_linear_term(out, cs1, (1, 2, 3), (1.0, -alpha * q, -v))
            # second derivatives of z1 = a - alpha * v(lambda)
            d2v = q * (_LN10 * (1.0 - t))
            out[:, 2, 2] += (cs1 * (-alpha * d2v)).sum(axis=1)
            cross = (cs1 * -q).sum(axis=1)
            out[:, 2, 3] += cross
            out[:, 3, 2] += cross
        else:
            s1, s2, s3 = parts
            out[:, 0, 0] += (c * s3).sum(axis=1)
            _add_linear_term(out, c * s1, (1, 2), (1.0, -feats[:, 0]))
            _add_linear_term(out, c * s2, (3, 4), (1.0, -feats[:, 1]))
        return out

    def _terms(self, theta: np.ndarray, feats: np.ndarray, *, jac: bool, parts: bool = False):
        theta = np.asarray(theta, dtype=float)
        if self.name == "power":
            e, a, alpha = (theta[:, i : i + 1] for i in range(3))
            z1 = a - alpha * feats
            lse, s1 = _lse2(z1, e, weight=jac)
            if not jac:
                return lse, None
            J = np.empty((*z1.shape, 3))
            J[..., 0] = 1.0 - s1
            J[..., 1] = s1
            J[..., 2] = -s1 * feats
            if parts:
                return lse, J, (s1, 1.0 - s1)
            return lse, J
        if self.name == "power_shift":
            e, a, lam, alpha = (theta[:, i : i + 1] for i in range(4))
            shift = np.power(10.0, lam)
            v = np.log(feats + shift)
            z1 = a - alpha * v
            lse, s1 = _lse2(z1, e, weight=jac)
            if not jac:
                return lse, None
            t = shift / (feats + shift)
            q = _LN10 * t
            J = np.empty((*z1.shape, 4))
            J[..., 0] = 1.0 - s1
            J[..., 1] = s1
            J[..., 2] = -s1 * alpha * q
            J[..., 3] = -s1 * v
            if parts:
                return lse, J, (s1, 1.0 - s1, q, v, t, alpha)
            return lse, J
        # chinchilla
        e, a, alpha, b, beta = (theta[:, i : i + 1] for i in range(5))
        z1 = a - alpha * feats[:, 0]
        z2 = b - beta * feats[:, 1]
        z3 = np.broadcast_to(e, z1.shape)
        m = np.maximum(np.maximum(z1, z2), z3)
        x1, x2, x3 = np.exp(z1 - m), np.exp(z2 - m), np.exp(z3 - m)
        tot = x1 + x2 + x3
        lse = m + np.log(tot)
        if not jac:
            return lse, None
        s1, s2, s3 = x1 / tot, x2 / tot, x3 / tot
        J = np.empty((*z1.shape, 5))
        J[..., 0] = s3
        J[..., 1] = s1
        J[..., 2] = -s1 * feats[:, 0]
        J[..., 3] = s2
        J[..., 4] = -s2 * feats[:, 1]
        if parts:
            return lse, J, (s1, s2, s3)
        return lse, J


def _add_linear_term(out: np.ndarray, cs: np.ndarray, idx: tuple[int, ...], grads: tuple) -> None:
    """Add ``Σ_i cs_i g_i g_iᵀ`` on the parameters ``idx``, with ``g_i = grads`` there."""
    for a, ia in enumerate(idx):
        for b in range(a, len(idx)):
            ib = idx[b]
            val = (cs * grads[a] * grads[b]).sum(axis=1)
            out[:, ia, ib] += val
            if ia != ib:
                out[:, ib, ia] += val


def _lse2(z1: np.ndarray, e: np.ndarray, *, weight: bool = True):
    """``log(exp(z1) + exp(e))`` and (with ``weight``) the softmax weight of ``z1``, stably.

    ``log(1 + exp(d)) = max(d, 0) + log1p(exp(-|d|))`` cannot overflow; the weight is
    ``sigmoid(d)``, ``None`` without ``weight`` (an objective alone does not need it).
    """
    d = z1 - e
    lse = e + np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))
    if not weight:
        return lse, None
    with np.errstate(over="ignore"):  # exp(-d) = inf for very negative d: weight 0
        s1 = 1.0 / (1.0 + np.exp(-d))
    return lse, s1


FORM_SPECS: dict[str, Form] = {
    "power": Form(
        name="power",
        lse_names=("e", "a", "alpha"),
        public_names=("E", "A", "alpha"),
        default_grid=(_E_GRID, _A_GRID, _ALPHA_GRID),
        n_inputs=1,
        formula="L = E + A·x̃^-α",
    ),
    "power_shift": Form(
        name="power_shift",
        lse_names=("e", "a", "lambda", "alpha"),
        public_names=("E", "A", "lambda", "alpha"),
        default_grid=(_E_GRID, _A_GRID, _LAMBDA_GRID, _ALPHA_GRID),
        n_inputs=1,
        formula="L = E + A·(x̃ + 10^λ)^-α",
    ),
    "chinchilla": Form(
        name="chinchilla",
        lse_names=("e", "a", "alpha", "b", "beta"),
        public_names=("E", "A", "alpha", "B", "beta"),
        default_grid=(_E_GRID, _A_GRID, _ALPHA_GRID, _A_GRID, _ALPHA_GRID),
        n_inputs=2,
        formula="L = E + A·ñ^-α + B·d̃^-β",
    ),
}


def get_form(name: str) -> Form:
    """The :class:`Form` called ``name``.

    Raises:
        ValueError: ``name`` is not one of ``power``, ``power_shift``, ``chinchilla``.
    """
    try:
        return FORM_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown law form {name!r}; expected one of {', '.join(FORMS)}") from None


def grid_starts(grid: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """All points of a grid of starts, shape ``(prod(len(g)), p)``, in the paper's order."""
    mesh = np.meshgrid(*[np.asarray(g, dtype=float) for g in grid], indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)
