"""The shifted form's limit at infinity: an exponential, fitted in its place when it wins.

``L = E + A·(x̃ + s)^-α`` with ``s = 10^λ`` has no finite optimum on some data: the best
fits run off along ``s → ∞``, ``α → ∞`` with ``α/s → k``, where
``A·(x̃ + s)^-α → C·exp(-k·x̃)``. There ``A = exp(a)`` passes 1e308, and the solver crawls
along the valley without converging. The limit is itself a three-parameter law,
``log L = LSE(c - k'·u, e)`` with ``u = x̃ / max x̃`` (``k' = k·max x̃``), which is the
``power`` form's algebra on other features, so it is solved the same way, fast.

A limit optimum is reported as a point of the shifted form far past the data
(``λ* = log10(max x̃) + 6``; there the two laws differ by ``k'·u·1e-6`` in ``log L``), with
finite LSE parameters ``(e, a, λ*, α)``; only ``A = exp(a)`` overflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vvshub.laws._forms import _A_GRID, _ALPHA_GRID, _E_GRID, get_form, grid_starts
from vvshub.laws._solver import Problem, objective

#: Decades past the largest input at which a limit optimum is written in the shifted form.
LIMIT_DECADES = 6.0
#: Starts of the limit fit, in ``(e, c, k')``.
LIMIT_GRID: tuple[tuple[float, ...], ...] = (
    _E_GRID,
    (-4.0, -2.0, 0.0, 2.0),
    (0.5, 2.0, 8.0, 32.0, 128.0),
)
#: The one-line explanation a degenerate fit carries.
DEGENERATE_REASON = (
    "no finite optimum: the shift 10^lambda ran past the data and the shifted law became an "
    "exponential, L = E + C·exp(-k·x̃); reported at lambda = log10(max x̃) + 6 where A = exp(a) "
    "overflows, so read log_params (a = log A)"
)


@dataclass(frozen=True)
class ShiftLimit:
    """The exponential limit of the shifted form on rows whose largest ``x̃`` is ``x_max``.

    Attributes:
        x_max: largest scaled input of the fitted rows.
    """

    x_max: float
    #: An optimum here is degenerate (``A`` overflows).
    degenerate = True

    @property
    def grid(self) -> np.ndarray:
        """Starts of the limit fit, shape ``(S, 3)``."""
        return grid_starts(LIMIT_GRID)

    @property
    def lam(self) -> float:
        """``λ*``, where a limit optimum is written in the shifted form."""
        return float(np.log10(self.x_max) + LIMIT_DECADES)

    def problem(self, feats: np.ndarray, log_l: np.ndarray, weights: np.ndarray, delta: float):
        """The limit's fitting problem; ``feats`` are the shifted form's (``x̃``, shape ``(n,)``)."""
        return Problem(get_form("power"), feats / self.x_max, log_l, weights, delta)

    def to_shift(self, theta: np.ndarray) -> np.ndarray:
        """Limit parameters ``(e, c, k')`` (shape ``(K, 3)``) to the shifted form's ``(K, 4)``."""
        theta = np.atleast_2d(theta)
        lam = self.lam
        log_s = lam * np.log(10.0)
        alpha = theta[:, 2] * 10.0**LIMIT_DECADES
        a = theta[:, 1] + alpha * log_s
        return np.column_stack([theta[:, 0], a, np.full(len(theta), lam), alpha])

    def from_shift(self, theta: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_shift`: shifted-form points written here to ``(e, c, k')``."""
        theta = np.atleast_2d(theta)
        k = theta[:, 3] / 10.0**LIMIT_DECADES
        c = theta[:, 1] - theta[:, 3] * self.lam * np.log(10.0)
        return np.column_stack([theta[:, 0], c, k])

    def owns(self, theta: np.ndarray, at_limit: np.ndarray) -> np.ndarray:
        """Which shifted-form optima are this limit's (flagged as the exponential limit)."""
        return np.asarray(at_limit, dtype=bool)

    def shift_objective(
        self,
        theta_shift: np.ndarray,
        feats: np.ndarray,
        log_l: np.ndarray,
        weights: np.ndarray,
        delta: float,
    ) -> np.ndarray:
        """The shifted form's objective at mapped points, shape ``(K,)``; ``weights`` ``(K, n)``."""
        with np.errstate(all="ignore"):
            f = objective(
                get_form("power_shift"), theta_shift, feats, log_l, delta=delta, weights=weights
            )
        return np.where(np.isfinite(f), f, np.inf)


@dataclass(frozen=True)
class PowerLimit:
    """The other end, ``10^λ → 0``: the shifted form becomes the plain power law.

    Solved as the ``power`` form (150 starts) and written at ``λ = log10(min x̃) - 8``,
    where the shift changes ``log L`` by about ``alpha·1e-8``. Not degenerate: every
    parameter stays finite. Warm starts from a power-like optimum cannot climb back to a
    finite shift (the objective is flat in ``λ`` there), and the other way round, so each
    resample fits both ends as well as the shifted form.

    Attributes:
        x_min: smallest scaled input of the fitted rows.
    """

    x_min: float
    degenerate = False

    @property
    def lam(self) -> float:
        """``λ`` at which a power-law optimum is written in the shifted form."""
        return float(np.log10(self.x_min) - 8.0)

    @property
    def grid(self) -> np.ndarray:
        """The ``power`` form's grid of starts, shape ``(150, 3)``."""
        return grid_starts((_E_GRID, _A_GRID, _ALPHA_GRID))

    def problem(self, feats: np.ndarray, log_l: np.ndarray, weights: np.ndarray, delta: float):
        """The power law's fitting problem on the shifted form's features (``x̃``)."""
        return Problem(get_form("power"), np.log(feats), log_l, weights, delta)

    def to_shift(self, theta: np.ndarray) -> np.ndarray:
        """Power parameters ``(e, a, alpha)`` (shape ``(K, 3)``) to the shifted form's."""
        theta = np.atleast_2d(theta)
        lam = np.full(len(theta), self.lam)
        return np.column_stack([theta[:, 0], theta[:, 1], lam, theta[:, 2]])

    def from_shift(self, theta: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_shift`: ``(e, a, alpha)`` of points written here."""
        theta = np.atleast_2d(theta)
        return theta[:, [0, 1, 3]]

    def owns(self, theta: np.ndarray, at_limit: np.ndarray) -> np.ndarray:
        """Which shifted-form optima are this limit's (written at its ``lambda``)."""
        return (np.atleast_2d(theta)[:, 2] == self.lam) & ~np.asarray(at_limit, dtype=bool)


def shift_limits(feats: np.ndarray) -> tuple[ShiftLimit | PowerLimit, ...]:
    """Both ends of the shifted form on rows with scaled inputs ``feats`` (shape ``(n,)``)."""
    return (ShiftLimit(float(np.max(feats))), PowerLimit(float(np.min(feats))))
