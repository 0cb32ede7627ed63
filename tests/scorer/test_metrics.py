"""The scorer's metrics against independent implementations on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm, pearsonr

from vvshub.scorer._behavior import (
    Trials,
    i2n_matrix_from_probabilities,
    i2n_score,
    logistic_readout,
)
from vvshub.scorer._metrics import (
    cross_validated_regression,
    normalise,
    pearson_columns,
    pls_predict,
    reduce_features,
    ridge_predict,
    split_half_ceiling,
)
from vvshub.scorer._splits import shuffle_split, stratified_shuffle_split

sklearn = pytest.importorskip("sklearn")


def _data(n=120, p=40, m=7, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    y = x[:, :10] @ rng.normal(size=(10, m)) + noise * rng.normal(size=(n, m))
    return x, y


def test_pearson_columns_matches_scipy():
    a, b = _data(m=5)[1], _data(seed=1, m=5)[1]
    ours = pearson_columns(a, b)
    ref = [pearsonr(a[:, j], b[:, j])[0] for j in range(5)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


@pytest.mark.parametrize("n,train_size", [(2560, 0.9), (315, 0.9), (101, 0.5)])
def test_stratified_splits_equal_sklearn(n, train_size):
    from sklearn.model_selection import StratifiedShuffleSplit

    labels = np.array([f"obj{i % 9}" for i in range(n)])
    ours = stratified_shuffle_split(labels, n_splits=10, train_size=train_size, seed=1)
    ref = StratifiedShuffleSplit(n_splits=10, train_size=train_size, random_state=1).split(
        np.zeros(n), labels
    )
    for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)


def test_shuffle_splits_equal_sklearn():
    from sklearn.model_selection import ShuffleSplit

    ours = shuffle_split(50, n_splits=10, train_size=0.5, seed=1)
    ref = ShuffleSplit(n_splits=10, train_size=0.5, random_state=1).split(np.zeros(50))
    for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)


@pytest.mark.parametrize("p", [30, 400])  # narrow, and wider than the training set
def test_pls_equals_sklearn_nipals(p):
    from sklearn.cross_decomposition import PLSRegression

    x, y = _data(n=150, p=p, m=12)
    train, test = np.arange(130), np.arange(130, 150)
    ref = PLSRegression(n_components=25, scale=False, max_iter=5000, tol=1e-12).fit(
        x[train], y[train]
    )
    expected = ref.predict(x[test])
    ours = pls_predict(x[train], y[train], x[test], n_components=25)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    # Same predictions after reducing the features to their row space (all stimuli at once).
    z = reduce_features(x)
    np.testing.assert_allclose(
        pls_predict(z[train], y[train], z[test]), expected, atol=1e-6 * np.abs(expected).max()
    )


def test_reduce_features_keeps_the_gram_matrix_even_when_rank_deficient():
    x, _ = _data(n=50, p=200)
    x[:, 100:] = 0
    x[10] = x[11]  # duplicated row: the Gram matrix is singular
    z = reduce_features(x)
    assert z.shape[0] == 50 and z.shape[1] <= 50
    np.testing.assert_allclose(z @ z.T, x @ x.T, atol=1e-8)


def test_ridge_equals_sklearn_ridgecv_per_target():
    from sklearn.linear_model import RidgeCV

    x, y = _data(n=90, p=30, m=6, noise=2.0)
    y[:, 0] = x[:, 0] + 0.01 * y[:, 0]  # one neuroid wants little shrinkage
    train, test = np.arange(75), np.arange(75, 90)
    alphas = tuple(10.0**k for k in range(-3, 5))
    ref = RidgeCV(alphas=alphas, alpha_per_target=True).fit(x[train], y[train])
    pred, chosen = ridge_predict(x[train], y[train], x[test], alphas=alphas)
    np.testing.assert_allclose(chosen, ref.alpha_)
    np.testing.assert_allclose(pred, ref.predict(x[test]), rtol=1e-8, atol=1e-8)


def test_cross_validated_pls_recovers_a_linear_population_and_not_noise():
    x, y = _data(n=200, p=60, m=20, noise=0.3)
    labels = np.arange(200) % 8
    splits = stratified_shuffle_split(labels)
    good = cross_validated_regression(x, y, splits)
    bad = cross_validated_regression(np.random.default_rng(5).normal(size=x.shape), y, splits)
    assert good.raw > 0.9 and abs(bad.raw) < 0.2
    # Brute force of the same definition with scikit-learn's PLS.
    from sklearn.cross_decomposition import PLSRegression

    medians = []
    for tr, te in splits:
        pred = (
            PLSRegression(25, scale=False, max_iter=5000, tol=1e-12)
            .fit(x[tr], y[tr])
            .predict(x[te])
        )
        medians.append(np.median([pearsonr(pred[:, j], y[te, j])[0] for j in range(20)]))
    assert good.raw == pytest.approx(np.mean(medians), abs=1e-6)


def test_ceiling_equals_brute_force():
    rng = np.random.default_rng(3)
    n_stim, n_rep, m = 40, 6, 9
    signal = rng.normal(size=(n_stim, m))
    trials = np.concatenate([signal + rng.normal(size=(n_stim, m)) for _ in range(n_rep)])
    stim = np.tile(np.arange(n_stim), n_rep)
    rep = np.repeat(np.arange(n_rep), n_stim)
    ours = split_half_ceiling(trials, stim, rep)
    # Brute force: loop over the halves, stimuli and neuroids with scipy.
    per_split = []
    for a, b in shuffle_split(n_rep, n_splits=10, train_size=0.5, seed=1):
        ma = np.array(
            [
                [trials[(stim == s) & np.isin(rep, a), j].mean() for j in range(m)]
                for s in range(n_stim)
            ]
        )
        mb = np.array(
            [
                [trials[(stim == s) & np.isin(rep, b), j].mean() for j in range(m)]
                for s in range(n_stim)
            ]
        )
        r = np.array([pearsonr(ma[:, j], mb[:, j])[0] for j in range(m)])
        per_split.append(np.median(2 * r / (1 + r)))
    assert ours.ceiling == pytest.approx(np.mean(per_split), abs=1e-12)
    # Known reliability: per-trial signal variance 1, noise variance 1, 6 trials -> r = 6/7.
    assert ours.ceiling == pytest.approx(6 / 7, abs=0.08)


def test_ceiling_needs_two_repetitions():
    with pytest.raises(ValueError, match="at least 2"):
        split_half_ceiling(np.ones((5, 2)), np.arange(5), np.zeros(5))


@pytest.mark.parametrize(
    "method,expected",
    [("ratio_squared", 0.25), ("squared_over_ceiling", 0.2), ("ratio", 0.5), ("raw", 0.4)],
)
def test_normalisations(method, expected):
    assert normalise(0.4, 0.8, method) == pytest.approx(expected)
    assert normalise(-0.1, 0.8, method) == 0.0


def test_i2n_matrix_by_brute_force():
    rng = np.random.default_rng(0)
    n_img, n_obj = 24, 4
    truth = np.repeat(np.arange(n_obj), n_img // n_obj)
    probs = rng.dirichlet(np.ones(n_obj), size=n_img)
    ours = i2n_matrix_from_probabilities(probs, truth)
    far = np.full((n_img, n_obj), np.nan)
    for i in range(n_img):
        for c in range(n_obj):
            if c != truth[i]:
                far[i, c] = probs[i, c] / (probs[i, c] + probs[i, truth[i]])
    d = np.full((n_img, n_obj), np.nan)
    for i in range(n_img):
        for c in range(n_obj):
            if c == truth[i]:
                continue
            fa_obj = np.nanmean([far[j, truth[i]] for j in range(n_img) if truth[j] == c])
            d[i, c] = np.clip(norm.ppf(1 - far[i, c]) - norm.ppf(fa_obj), -5, 5)
    for a in range(n_obj):
        for c in range(n_obj):
            rows = truth == a
            d[rows, c] -= np.nanmean(d[rows, c]) if not np.all(np.isnan(d[rows, c])) else 0
    np.testing.assert_allclose(ours, d, atol=1e-12)


def test_i2n_score_is_high_for_the_generating_model_and_ceiling_is_reliability():
    rng = np.random.default_rng(1)
    n_img, n_obj = 60, 5
    truth = np.repeat(np.arange(n_obj), n_img // n_obj)
    logits = rng.normal(size=(n_img, n_obj)) + 2.0 * np.eye(n_obj)[truth]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    stim, dist, choice = [], [], []
    for i in range(n_img):
        for d in range(n_obj):
            if d == truth[i]:
                continue
            p_wrong = probs[i, d] / (probs[i, d] + probs[i, truth[i]])
            wrong = rng.random(60) < p_wrong
            stim += [i] * 60
            dist += [d] * 60
            choice += list(np.where(wrong, d, truth[i]))
    stim = np.array(stim)
    trials = Trials(
        stimulus=stim, truth=truth[stim], distractor=np.array(dist), choice=np.array(choice)
    )
    good = i2n_score(probs, trials, truth)
    shuffled = i2n_score(probs[rng.permutation(n_img)], trials, truth)
    assert 0.3 < good.ceiling < 1
    assert good.raw > 0.3 and good.raw > shuffled.raw + 0.2
    assert good.ceiled == pytest.approx(
        np.mean(good.per_split_raw / np.sqrt(good.per_split_ceiling))
    )


def test_logistic_readout_equals_sklearn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    x = rng.normal(size=(120, 15))
    labels = (x[:, :4].argmax(1) + (rng.random(120) < 0.2)) % 4
    test = rng.normal(size=(30, 15))
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(C=1e-1, tol=1e-10, max_iter=10000).fit(scaler.transform(x), labels)
    ours = logistic_readout(x, labels, test, c=1e-1)
    np.testing.assert_allclose(ours, ref.predict_proba(scaler.transform(test)), atol=1e-5)
