"""Neural predictivity and its ceiling: exact PLS, ridge, split-half consistency.

The quantities are Brain-Score's (NOTES.md section 3): a regression from model
features to responses fitted on 90% of the stimuli, the Pearson r of each neuroid's
prediction on the held-out 10%, the median over neuroids, the mean over 10 splits;
the ceiling is the Spearman-Brown corrected split-half consistency of the responses.

How PLS is made cheap without changing its result: PLS is equivariant under an
orthogonal change of the feature basis, so features ``X`` (n, p) with p > n may be
replaced by any ``Z`` (n, r) with ``Z Z^T = X X^T`` (the row space, r <= n). One Gram
matrix over all stimuli and one factorisation serve all ten splits. Each PLS component's
weight vector is the dominant singular vector of ``Z_k^T Y`` (what NIPALS iterates to);
``Z_k^T Y`` is updated from the scores instead of deflating ``Z``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vvshub.scorer._splits import Split

__all__ = [
    "NORMALISATIONS",
    "CeilingResult",
    "Normalisation",
    "RegressionResult",
    "cross_validated_regression",
    "normalise",
    "pearson_columns",
    "pls_predict",
    "reduce_features",
    "ridge_predict",
    "spearman_brown",
    "split_half_ceiling",
]

Normalisation = Literal["ratio_squared", "squared_over_ceiling", "ratio", "raw"]
#: ``ratio_squared``: (r/c)^2, the study's (Brain-Score before December 2025);
#: ``squared_over_ceiling``: r^2/c, Brain-Score 2.4.2's; ``ratio``: r/c; ``raw``: r.
NORMALISATIONS: tuple[str, ...] = ("ratio_squared", "squared_over_ceiling", "ratio", "raw")


def normalise(raw: float, ceiling: float, method: str) -> float:
    """Ceiled score from a raw score and a ceiling, clipped to [0, 1].

    Example:
        >>> round(normalise(0.4, 0.8, "ratio_squared"), 4), round(normalise(0.4, 0.8, "squared_over_ceiling"), 4)
        (0.25, 0.2)
    """
    if method not in NORMALISATIONS:
        raise ValueError(
            f"unknown normalisation {method!r}; expected one of {', '.join(NORMALISATIONS)}"
        )
    if method == "raw":
        value = raw
    elif method == "ratio":
        value = raw / ceiling
    elif method == "ratio_squared":
        value = (raw / ceiling) ** 2 if raw > 0 else 0.0
    else:
        value = raw**2 / ceiling if raw > 0 else 0.0
    return float(min(max(value, 0.0), 1.0))


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of ``a`` and ``b``, both (n, m); returns (m,).

    A constant column gives NaN (as scipy does).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / denom
    return np.clip(r, -1.0, 1.0)


def spearman_brown(r: np.ndarray | float, n: float = 2) -> np.ndarray | float:
    """Reliability of ``n`` times the data from the reliability ``r`` of one part."""
    return n * r / (1 + (n - 1) * r)


def reduce_features(x: np.ndarray) -> np.ndarray:
    """Features with the same Gram matrix in at most ``n`` dimensions.

    Args:
        x: features, shape (n, p).

    Returns:
        ``z`` of shape (n, r), r <= min(n, p), with ``z @ z.T == x @ x.T`` (to rounding), so
        every rotation-equivariant regression (PLS, ridge, least squares) gives the same
        predictions on ``z`` as on ``x``. ``x`` itself when p <= n.
    """
    x = np.asarray(x)
    n, p = x.shape
    if p <= n:
        return np.asarray(x, dtype=np.float64)
    gram = np.zeros((n, n))
    for start in range(0, p, 16384):  # float64 products without a float64 copy of x
        block = np.asarray(x[:, start : start + 16384], dtype=np.float64)
        gram += block @ block.T
    try:
        return np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:  # rank-deficient: keep the non-null eigen-directions
        vals, vecs = np.linalg.eigh(gram)
        keep = vals > vals.max() * 1e-12
        return vecs[:, keep] * np.sqrt(vals[keep])


def pls_predict(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, *, n_components: int = 25
) -> np.ndarray:
    """PLS2 regression (scikit-learn's ``PLSRegression(scale=False)``), solved exactly.

    Args:
        z_train: features of the training stimuli, shape (n, r).
        y_train: responses, shape (n, m).
        z_test: features of the test stimuli, shape (k, r).
        n_components: number of PLS components (Brain-Score: 25).

    Returns:
        Predicted responses of the test stimuli, shape (k, m).
    """
    z = np.asarray(z_train, dtype=np.float64)
    y = np.asarray(y_train, dtype=np.float64)
    z_mean, y_mean = z.mean(axis=0), y.mean(axis=0)
    z = z - z_mean
    y = y - y_mean
    n_components = min(n_components, z.shape[1], z.shape[0] - 1)
    cross = z.T @ y  # Z_k^T Y, updated as components are removed
    w_list, p_list, q_list, t_list = [], [], [], []
    from scipy.linalg import eigh

    m = cross.shape[1]
    for _ in range(n_components):
        gram = cross.T @ cross
        # Only the dominant eigenvector: far cheaper than a full decomposition.
        vals, vecs = eigh(gram, subset_by_index=[m - 1, m - 1])
        if vals[-1] <= 1e-30 * max(1.0, float(np.abs(gram).max())):
            break  # nothing left to explain
        w = cross @ vecs[:, -1]
        w /= np.linalg.norm(w)
        t = z @ w
        for tj, pj in zip(t_list, p_list, strict=True):  # deflated scores: Z_k w
            t -= tj * (pj @ w)
        tt = t @ t
        if tt <= 0:
            break
        p = z.T @ t / tt  # Z_k^T t == Z^T t because t is orthogonal to earlier scores
        q = y.T @ t / tt
        cross -= tt * np.outer(p, q)
        w_list.append(w)
        p_list.append(p)
        q_list.append(q)
        t_list.append(t)
    if not w_list:
        return np.tile(y_mean, (len(z_test), 1))
    w_mat, p_mat, q_mat = np.array(w_list).T, np.array(p_list).T, np.array(q_list).T
    rotations = w_mat @ np.linalg.pinv(p_mat.T @ w_mat)
    coef = rotations @ q_mat.T
    return (np.asarray(z_test, dtype=np.float64) - z_mean) @ coef + y_mean


#: Default ridge penalties searched per neuroid (log-spaced, relative to the trace scale).
RIDGE_ALPHAS: tuple[float, ...] = tuple(10.0**k for k in range(-3, 8))


def ridge_predict(
    z_train: np.ndarray,
    y_train: np.ndarray,
    z_test: np.ndarray,
    *,
    alphas: tuple[float, ...] = RIDGE_ALPHAS,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with a penalty chosen per neuroid by exact leave-one-out error, in torch.

    The intercept is not penalised. For each neuroid the penalty with the lowest
    leave-one-out squared error on the training stimuli is kept (scikit-learn's
    ``RidgeCV(alphas, alpha_per_target=True)``), then the test stimuli are predicted.

    Args:
        z_train: features, shape (n, r); reduce wide features with :func:`reduce_features`.
        y_train: responses, shape (n, m).
        z_test: features of the test stimuli, shape (k, r).
        alphas: penalties to try.
        device: torch device (``"cuda"`` when present); default CPU.

    Returns:
        ``(prediction (k, m), chosen alpha per neuroid (m,))``.
    """
    import torch

    dev = torch.device(device or "cpu")
    z = torch.as_tensor(np.asarray(z_train, dtype=np.float64), device=dev)
    y = torch.as_tensor(np.asarray(y_train, dtype=np.float64), device=dev)
    zt = torch.as_tensor(np.asarray(z_test, dtype=np.float64), device=dev)
    n = z.shape[0]
    z_mean, y_mean = z.mean(0), y.mean(0)
    zc, yc = z - z_mean, y - y_mean
    u, s, vh = torch.linalg.svd(zc, full_matrices=False)
    uty = u.T @ yc  # (r, m)
    a = torch.as_tensor(alphas, dtype=torch.float64, device=dev)
    s2 = s * s
    shrink = s2[None, :] / (s2[None, :] + a[:, None])  # (n_alpha, r)
    fitted = torch.einsum("nr,ar,rm->anm", u, shrink, uty)  # centred fits per alpha
    leverage = (u * u) @ shrink.T + 1.0 / n  # (n, n_alpha), intercept included
    resid = (yc[None] - fitted) / (1.0 - leverage.T)[:, :, None]
    loo = (resid * resid).mean(1)  # (n_alpha, m)
    best = loo.argmin(0)  # (m,)
    coef_s = s / (s2[None, :] + a[:, None])  # (n_alpha, r)
    weights = vh.T @ (coef_s[best].T * uty)  # (p, m): V diag(s/(s^2+a_j)) U^T y_j
    pred = (zt - z_mean) @ weights + y_mean
    return pred.cpu().numpy(), a[best].cpu().numpy()


@dataclass(frozen=True)
class RegressionResult:
    """A cross-validated regression score.

    Attributes:
        raw: mean over splits of the median over neuroids of the held-out Pearson r.
        error: standard error of the mean over splits.
        per_split: the median r of each split, shape (n_splits,).
        per_neuroid: mean over splits of each neuroid's r, shape (m,).
    """

    raw: float
    error: float
    per_split: np.ndarray = field(repr=False)
    per_neuroid: np.ndarray = field(repr=False)


def cross_validated_regression(
    features: np.ndarray,
    responses: np.ndarray,
    splits: list[Split],
    *,
    method: Literal["pls", "ridge"] = "pls",
    n_components: int = 25,
    device: str | None = None,
) -> RegressionResult:
    """Brain-Score's cross-validated predictivity of ``responses`` from ``features``.

    Args:
        features: model features, shape (n_stimuli, p), any p (wide ones are reduced once).
        responses: mean response per stimulus, shape (n_stimuli, n_neuroids).
        splits: (train, test) index pairs, e.g. from :func:`stratified_shuffle_split`.
        method: ``pls`` (25 components, Brain-Score's) or ``ridge`` (per-neuroid penalty).
        n_components: PLS components.
        device: torch device for ridge.

    Returns:
        A :class:`RegressionResult`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(60, 8)); y = x[:, :3] + 0.1 * rng.normal(size=(60, 3))
        >>> from vvshub.scorer._splits import shuffle_split
        >>> cross_validated_regression(x, y, shuffle_split(60, train_size=0.9)).raw > 0.9
        True
    """
    z = reduce_features(features)
    y = np.asarray(responses, dtype=np.float64)
    per_split, per_neuroid = [], []
    for train, test in splits:
        if method == "pls":
            pred = pls_predict(z[train], y[train], z[test], n_components=n_components)
        elif method == "ridge":
            pred, _ = ridge_predict(z[train], y[train], z[test], device=device)
        else:
            raise ValueError(f"unknown regression {method!r}; expected pls or ridge")
        r = pearson_columns(pred, y[test])
        per_neuroid.append(r)
        per_split.append(float(np.median(r)))
    splits_arr = np.asarray(per_split)
    return RegressionResult(
        raw=float(splits_arr.mean()),
        error=float(splits_arr.std() / math.sqrt(len(splits_arr))),
        per_split=splits_arr,
        per_neuroid=np.nanmean(np.asarray(per_neuroid), axis=0),
    )


@dataclass(frozen=True)
class CeilingResult:
    """Split-half internal consistency of repeated responses.

    Attributes:
        ceiling: mean over splits of the median over neuroids of the corrected r.
        error: standard error of the mean over splits.
        per_split: shape (n_splits,).
        per_neuroid: mean over splits of each neuroid's corrected r, shape (m,).
    """

    ceiling: float
    error: float
    per_split: np.ndarray = field(repr=False)
    per_neuroid: np.ndarray = field(repr=False)


def _mean_by_stimulus(values: np.ndarray, stimulus: np.ndarray, n_stimuli: int) -> np.ndarray:
    """Mean of the rows of ``values`` (n, m) per stimulus index; NaN for stimuli without rows."""
    from scipy.sparse import csr_matrix

    indicator = csr_matrix(
        (np.ones(len(stimulus)), (stimulus, np.arange(len(stimulus)))),
        shape=(n_stimuli, len(stimulus)),
    )
    sums = np.asarray(indicator @ values)  # a sparse product: far faster than np.add.at
    counts = np.bincount(stimulus, minlength=n_stimuli)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def split_half_ceiling(
    trials: np.ndarray,
    stimulus: np.ndarray,
    repetition: np.ndarray,
    *,
    n_splits: int = 10,
    seed: int = 1,
) -> CeilingResult:
    """Brain-Score's ``internal_consistency`` ceiling.

    The unique repetition indices are split in halves (``ShuffleSplit(train_size=0.5)``);
    each half is averaged over its repetitions per stimulus; each neuroid's Pearson r
    between the halves is Spearman-Brown corrected (2r/(1+r)); median over neuroids; mean
    over splits.

    Args:
        trials: responses, shape (n_presentations, n_neuroids).
        stimulus: stimulus index of each presentation, shape (n_presentations,), in
            ``0..n_stimuli-1``.
        repetition: repetition label of each presentation, shape (n_presentations,).
        n_splits: number of random halvings.
        seed: seed (Brain-Score: 1).

    Raises:
        ValueError: fewer than two distinct repetitions, or a stimulus missing from a half.
    """
    from vvshub.scorer._splits import shuffle_split

    trials = np.asarray(trials, dtype=np.float64)
    stimulus = np.asarray(stimulus)
    reps, rep_idx = np.unique(np.asarray(repetition), return_inverse=True)
    if len(reps) < 2:
        raise ValueError(
            f"{len(reps)} repetition(s) per stimulus; a split-half ceiling needs at least 2"
        )
    n_stimuli = int(stimulus.max()) + 1
    per_split, per_neuroid = [], []
    for half_a, half_b in shuffle_split(len(reps), n_splits=n_splits, train_size=0.5, seed=seed):
        in_a = np.isin(rep_idx, half_a)
        in_b = np.isin(rep_idx, half_b)
        mean_a = _mean_by_stimulus(trials[in_a], stimulus[in_a], n_stimuli)
        mean_b = _mean_by_stimulus(trials[in_b], stimulus[in_b], n_stimuli)
        present = ~(np.isnan(mean_a).any(1) | np.isnan(mean_b).any(1))
        if present.sum() < 3:
            raise ValueError(
                "too few stimuli are shown in both halves of the repetitions for a ceiling"
            )
        r = spearman_brown(pearson_columns(mean_a[present], mean_b[present]))
        per_neuroid.append(r)
        per_split.append(float(np.median(r)))
    arr = np.asarray(per_split)
    return CeilingResult(
        ceiling=float(arr.mean()),
        error=float(arr.std() / math.sqrt(len(arr))),
        per_split=arr,
        per_neuroid=np.nanmean(np.asarray(per_neuroid), axis=0),
    )
