"""Object-recognition behaviour: the logistic readout and Rajalingham et al.'s i2n.

Brain-Score's procedure (NOTES.md section 3): a multinomial logistic regression
(``C = 1e-3``, standardised features) is fitted on labelled images' penultimate
features and gives choice probabilities for the test images. Model side: for image i
and distractor object d, ``p(d) = p_d / (p_d + p_truth)`` is a false-alarm rate per
image; the hit rate ``1 - p(d)`` against the mean false-alarm rate of the images of
object d towards truth gives a d' (clipped to +-5), from which the mean over the images
of each (truth, distractor) cell is subtracted (the "n" of i2n). The primates' matrix is
built the same way from trial counts. Score: Pearson r over the cells; ceiling: r between
two random halves of the trials (``RandomState(0)``, two repetitions), no Spearman-Brown;
the ceiled score is the mean over repetitions of ``r / sqrt(ceiling)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vvshub.scorer._metrics import pearson_columns

__all__ = [
    "I2nResult",
    "Trials",
    "i2n_matrix_from_probabilities",
    "i2n_matrix_from_trials",
    "i2n_score",
    "logistic_readout",
]


@dataclass(frozen=True)
class Trials:
    """Two-alternative forced-choice trials, one entry per trial, shape (n_trials,) each.

    Attributes:
        stimulus: index of the image shown (into the test images).
        truth: object index of the image.
        distractor: object index of the other choice.
        choice: object index chosen.
    """

    stimulus: np.ndarray
    truth: np.ndarray
    distractor: np.ndarray
    choice: np.ndarray

    def __len__(self) -> int:
        return len(self.stimulus)

    def take(self, idx: np.ndarray) -> Trials:
        """A subset of the trials."""
        return Trials(
            stimulus=self.stimulus[idx],
            truth=self.truth[idx],
            distractor=self.distractor[idx],
            choice=self.choice[idx],
        )


def _dprimes(far_image: np.ndarray, truth: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """d' per (image, object) from per-image false-alarm rates; (n_images, n_objects)."""
    from scipy.stats import norm

    n_objects = far_image.shape[1]
    # Mean false-alarm rate of the images of object c towards object a: far_obj[c, a].
    far_obj = np.full((n_objects, n_objects), np.nan)
    for c in range(n_objects):
        rows = far_image[truth == c]
        if len(rows):
            with np.errstate(invalid="ignore"), _quiet():
                far_obj[c] = np.nanmean(rows, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = norm.ppf(1 - far_image) - norm.ppf(far_obj[:, truth].T)
    d = np.clip(d, -5, 5)
    if normalize:
        for a in np.unique(truth):
            rows = truth == a
            with np.errstate(invalid="ignore"), _quiet():
                d[rows] -= np.nanmean(d[rows], axis=0)
    return d


class _quiet:
    """Silence numpy's 'mean of empty slice' warnings (an all-NaN cell stays NaN)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


def i2n_matrix_from_probabilities(probabilities: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The model's normalised i2n d' matrix.

    Args:
        probabilities: choice probabilities, shape (n_images, n_objects).
        truth: object index of each image, shape (n_images,).

    Returns:
        d' per (image, distractor object), shape (n_images, n_objects); NaN where the
        distractor is the image's own object.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    truth = np.asarray(truth)
    p_truth = p[np.arange(len(p)), truth][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        far = p / (p + p_truth)
    far[np.arange(len(p)), truth] = np.nan
    return _dprimes(far, truth)


def i2n_matrix_from_trials(
    trials: Trials, truth: np.ndarray, n_images: int, n_objects: int
) -> np.ndarray:
    """The primates' normalised i2n d' matrix from trials, shape (n_images, n_objects).

    The false-alarm rate of image i towards object c is the number of trials on i in
    which c was chosen over the trials on i in which c was one of the two choices.
    """
    chosen = np.zeros((n_images, n_objects))
    offered = np.zeros((n_images, n_objects))
    np.add.at(chosen, (trials.stimulus, trials.choice), 1)
    np.add.at(offered, (trials.stimulus, trials.truth), 1)
    np.add.at(offered, (trials.stimulus, trials.distractor), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        far = np.where(offered > 0, chosen / offered, np.nan)
    far[np.arange(n_images), truth] = np.nan
    return _dprimes(far, np.asarray(truth))


def _correlate(a: np.ndarray, b: np.ndarray) -> float:
    mask = ~(np.isnan(a) | np.isnan(b))
    return float(pearson_columns(a[mask][:, None], b[mask][:, None])[0])


def _halves(n: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    order = list(range(n))  # shuffled as a list, as Brain-Score does
    rng.shuffle(order)
    idx = np.asarray(order)
    return idx[: n // 2], idx[n // 2 :]


@dataclass(frozen=True)
class I2nResult:
    """i2n alignment.

    Attributes:
        raw: mean over repetitions of r(model, half of the primate trials).
        ceiling: mean over repetitions of r(half, other half).
        ceiled: mean over repetitions of ``r / sqrt(ceiling)`` (Brain-Score's).
        per_split_raw, per_split_ceiling: shape (n_repetitions,).
    """

    raw: float
    ceiling: float
    ceiled: float
    per_split_raw: np.ndarray = field(repr=False)
    per_split_ceiling: np.ndarray = field(repr=False)


def i2n_score(
    probabilities: np.ndarray | None,
    trials: Trials,
    truth: np.ndarray,
    *,
    repetitions: int = 2,
    seed: int = 0,
) -> I2nResult:
    """i2n of a model's choice probabilities against primate trials, and its ceiling.

    Args:
        probabilities: model choice probabilities on the test images, shape
            (n_images, n_objects); ``None`` computes the ceiling only (``raw`` is NaN).
        trials: the primates' trials on the same images.
        truth: object index of each test image, shape (n_images,).
        repetitions: number of random halvings (Brain-Score: 2).
        seed: seed of the halvings (Brain-Score: 0).
    """
    truth = np.asarray(truth)
    n_images = len(truth)
    n_objects = int(max(truth.max(), trials.choice.max(), trials.distractor.max())) + 1
    if probabilities is not None:
        n_objects = max(n_objects, probabilities.shape[1])
        model = i2n_matrix_from_probabilities(probabilities, truth)
    rng = np.random.RandomState(seed)
    raws, ceilings = [], []
    for _ in range(repetitions):
        a, b = _halves(len(trials), rng)
        half_a = i2n_matrix_from_trials(trials.take(a), truth, n_images, n_objects)
        half_b = i2n_matrix_from_trials(trials.take(b), truth, n_images, n_objects)
        ceilings.append(_correlate(half_a, half_b))
        raws.append(_correlate(model, half_a) if probabilities is not None else np.nan)
    raw_arr, ceil_arr = np.asarray(raws), np.asarray(ceilings)
    with np.errstate(invalid="ignore"):
        ceiled = float(np.mean(raw_arr / np.sqrt(ceil_arr)))
    return I2nResult(
        raw=float(raw_arr.mean()),
        ceiling=float(ceil_arr.mean()),
        ceiled=ceiled,
        per_split_raw=raw_arr,
        per_split_ceiling=ceil_arr,
    )


def logistic_readout(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    *,
    c: float = 1e-3,
    n_classes: int | None = None,
    device: str | None = None,
) -> np.ndarray:
    """Multinomial logistic regression on standardised features; test-set probabilities.

    Minimises ``C * sum(cross-entropy) + ||W||^2 / 2`` (intercepts unpenalised), the
    objective of scikit-learn's ``LogisticRegression(C=c)``, with L-BFGS in float64
    (scipy on the CPU; torch on a CUDA ``device``).

    Args:
        train_features: shape (n_train, p).
        train_labels: class index per training image, shape (n_train,).
        test_features: shape (n_test, p).
        c: inverse regularisation strength (Brain-Score: 1e-3).
        n_classes: number of classes (default: from the labels).
        device: ``cuda`` to solve on the GPU; default CPU.

    Returns:
        Probabilities, shape (n_test, n_classes).
    """
    from scipy.optimize import minimize
    from scipy.special import log_softmax, softmax

    x = np.asarray(train_features, dtype=np.float64)
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    xt = (x - mean) / std
    xs = (np.asarray(test_features, dtype=np.float64) - mean) / std
    y = np.asarray(train_labels, dtype=np.int64)
    k = n_classes or int(y.max()) + 1
    n, p = xt.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    if device is not None and str(device).startswith("cuda"):
        return _logistic_torch(xt, y, xs, c=c, k=k, device=str(device))

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: p * k].reshape(p, k)
        b = theta[p * k :]
        logits = xt @ w + b
        logp = log_softmax(logits, axis=1)
        loss = -c * (onehot * logp).sum() + 0.5 * (w * w).sum()
        diff = c * (np.exp(logp) - onehot)  # d loss / d logits
        grad_w = xt.T @ diff + w
        grad_b = diff.sum(0)
        return float(loss), np.concatenate([grad_w.ravel(), grad_b])

    res = minimize(
        objective,
        np.zeros(p * k + k),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15, "maxcor": 30},
    )
    w = res.x[: p * k].reshape(p, k)
    b = res.x[p * k :]
    return softmax(xs @ w + b, axis=1)


def _logistic_torch(
    xt: np.ndarray, y: np.ndarray, xs: np.ndarray, *, c: float, k: int, device: str
) -> np.ndarray:
    import torch

    dev = torch.device(device)
    xt_t = torch.as_tensor(xt, device=dev)
    xs_t = torch.as_tensor(xs, device=dev)
    y_t = torch.as_tensor(y, device=dev)
    w = torch.zeros(xt.shape[1], k, dtype=torch.float64, device=dev, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, device=dev, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b], lr=1, max_iter=2000, tolerance_grad=1e-10, tolerance_change=1e-14,
        history_size=30, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = c * torch.nn.functional.cross_entropy(xt_t @ w + b, y_t, reduction="sum")
        loss = loss + 0.5 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return torch.softmax(xs_t @ w + b, dim=1).cpu().numpy()
