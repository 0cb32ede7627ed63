"""Cross-validation splits, drawn exactly as Brain-Score draws them.

Brain-Score 2.4.2 splits with scikit-learn: ``StratifiedShuffleSplit(n_splits=10,
train_size=0.9, random_state=1)`` over stimuli (stratified on ``object_name``) for its
regression metrics, and ``ShuffleSplit(n_splits=10, train_size=0.5, random_state=1)``
over unique repetition indices for its split-half ceiling. These functions reproduce
the same index sets from the same seeds with numpy alone (the core does not depend on
scikit-learn; the tests compare them with scikit-learn's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Split", "shuffle_split", "stratified_shuffle_split"]

#: One split: (train indices, test indices), both int arrays.
Split = tuple[np.ndarray, np.ndarray]


def _sizes(n: int, train_size: float, test_size: float | None) -> tuple[int, int]:
    n_train = math.floor(train_size * n)
    n_test = math.ceil(test_size * n) if test_size is not None else n - n_train
    if n_train < 1 or n_test < 1 or n_train + n_test > n:
        raise ValueError(
            f"cannot split {n} items into {n_train} train and {n_test} test items; "
            "use more stimuli or another train_size"
        )
    return n_train, n_test


def shuffle_split(
    n: int, *, n_splits: int = 10, train_size: float = 0.5, seed: int = 1
) -> list[Split]:
    """Random train/test splits of ``range(n)`` (scikit-learn's ``ShuffleSplit``).

    Args:
        n: number of items.
        n_splits: number of splits.
        train_size: fraction of items in each train set (floored).
        seed: seed of numpy's legacy ``RandomState`` (Brain-Score: 1).

    Returns:
        ``n_splits`` pairs ``(train, test)`` of index arrays.

    Example:
        >>> train, test = shuffle_split(4, n_splits=1)[0]
        >>> sorted([*train.tolist(), *test.tolist()])
        [0, 1, 2, 3]
    """
    n_train, n_test = _sizes(n, train_size, None)
    rng = np.random.RandomState(seed)
    splits = []
    for _ in range(n_splits):
        perm = rng.permutation(n)
        splits.append((perm[n_test : n_test + n_train], perm[:n_test]))
    return splits


def _approximate_mode(counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Per-class draws closest to proportional, ties broken at random (as scikit-learn)."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add = min(len(inds), need)
            inds = rng.choice(inds, size=add, replace=False)
            floored[inds] += 1
            need -= add
            if need == 0:
                break
    return floored.astype(int)


def stratified_shuffle_split(
    labels: Sequence | np.ndarray,
    *,
    n_splits: int = 10,
    train_size: float = 0.9,
    seed: int = 1,
) -> list[Split]:
    """Random splits that keep each label's share (scikit-learn's ``StratifiedShuffleSplit``).

    Args:
        labels: one label per item, shape (n,).
        n_splits: number of splits.
        train_size: fraction of items in each train set (floored); the rest is the test set.
        seed: seed of numpy's legacy ``RandomState`` (Brain-Score: 1).

    Returns:
        ``n_splits`` pairs ``(train, test)`` of index arrays into ``labels``.

    Raises:
        ValueError: a label has a single item, or there are fewer test items than labels.

    Example:
        >>> splits = stratified_shuffle_split(["a", "b"] * 10, n_splits=2)
        >>> [len(test) for _, test in splits]
        [2, 2]
    """
    y = np.asarray(labels)
    n = len(y)
    n_train, n_test = _sizes(n, train_size, None)
    classes, y_idx = np.unique(y, return_inverse=True)
    counts = np.bincount(y_idx)
    if counts.min() < 2:
        raise ValueError(
            f"label {classes[counts.argmin()]!r} has a single stimulus; stratified splits "
            "need at least 2 per label"
        )
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(
            f"{n_test} test stimuli cannot cover {len(classes)} labels; use more stimuli"
        )
    class_indices = np.split(np.argsort(y_idx, kind="mergesort"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    splits = []
    for _ in range(n_splits):
        n_i = _approximate_mode(counts, n_train, rng)
        t_i = _approximate_mode(counts - n_i, n_test, rng)
        train: list[int] = []
        test: list[int] = []
        for i in range(len(classes)):
            perm = class_indices[i].take(rng.permutation(counts[i]), mode="clip")
            train.extend(perm[: n_i[i]])
            test.extend(perm[n_i[i] : n_i[i] + t_i[i]])
        splits.append((rng.permutation(train), rng.permutation(test)))
    return splits
