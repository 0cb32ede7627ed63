"""Candidates for ``laws suggest``: the zoo's trainable grid, SQL rows, and their law inputs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub._progress import track
from vvshub.errors import SuggestError
from vvshub.laws._api import Location
from vvshub.laws._forms import Form

if TYPE_CHECKING:
    import pandas as pd

#: The study's training sets: classes and images (DESIGN.md section 4).
STUDY_DATASETS: dict[str, tuple[int, int]] = {
    "imagenet": (1000, 1_281_167),
    "ecoset": (565, 1_444_911),
}
#: Samples per class of the study's grid; 0 is the full data set.
STUDY_SAMPLES_PER_CLASS: tuple[int, ...] = (1, 3, 10, 30, 100, 300, 0)
#: Epochs of the study's recipes by zoo kind: 100 for the CNNs, 300 for ConvNeXt and DeiT-III.
_EPOCHS = {"convnext": 300, "vit": 300}
_DEFAULT_EPOCHS = 100


@functools.cache
def _arch_count(arch: str) -> tuple[int, int, str, int]:
    """``(n_params, flops, family, epochs)`` of a zoo architecture (counted once per process)."""
    from vvshub import zoo
    from vvshub.zoo._registry import BASES

    r = zoo.recipe(arch)
    c = zoo.count(arch)
    base = BASES.get(r.base)
    epochs = _EPOCHS.get(base.kind, _DEFAULT_EPOCHS) if base is not None else _DEFAULT_EPOCHS
    return c.n_params, c.flops, r.family, epochs


def grid_candidates(
    *,
    archs: tuple[str, ...] | None = None,
    datasets: tuple[str, ...] = ("imagenet", "ecoset"),
    samples_per_class: tuple[int, ...] = STUDY_SAMPLES_PER_CLASS,
) -> pd.DataFrame:
    """The zoo's trainable grid: architecture × samples per class × data set, with costs.

    Costs follow the study's conventions (``vvshub.zoo``): ``n_samples = d × classes`` (the
    whole set for ``d = 0``), 100 epochs for CNNs and 300 for ConvNeXt and DeiT-III,
    ``n_samples_seen = n_samples × epochs`` and ``total_flops = 3 × flops × n_samples_seen``.

    Args:
        archs: architectures (default: every one of :func:`vvshub.zoo.list_archs`, the
            study's bases and its width/depth variants).
        datasets: ``imagenet`` and/or ``ecoset``.
        samples_per_class: images per class; 0 is the full data set.

    Returns:
        One row per candidate: ``label, arch, arch_family, dataset, samples_per_class,
        n_params, flops, n_samples, n_epochs, n_samples_seen, total_flops, cost``.

    Raises:
        SuggestError: an unknown data set.

    Example:
        >>> grid_candidates(archs=("resnet18",), datasets=("imagenet",),
        ...                 samples_per_class=(0,)).total_flops.iloc[0].item()
        1.4040439770537984e+18
    """
    import pandas as pd

    from vvshub import zoo

    bad = [d for d in datasets if d not in STUDY_DATASETS]
    if bad:
        raise SuggestError(
            f"unknown data set {bad[0]!r} for the grid; choose from {', '.join(STUDY_DATASETS)}"
        )
    names = list(archs) if archs is not None else zoo.list_archs()
    rows = []
    for arch in track(names, description="counting architectures", total=len(names)):
        n_params, flops, family, epochs = _arch_count(arch)
        for ds in datasets:
            n_classes, n_full = STUDY_DATASETS[ds]
            for spc in samples_per_class:
                n_samples = n_full if spc == 0 else spc * n_classes
                seen = n_samples * epochs
                total = zoo.train_flops(flops, seen)
                rows.append(
                    {
                        "label": f"{arch}_{ds}_{spc if spc else 'full'}",
                        "arch": arch,
                        "arch_family": family,
                        "dataset": ds,
                        "samples_per_class": spc,
                        "n_params": n_params,
                        "flops": flops,
                        "n_samples": n_samples,
                        "n_epochs": epochs,
                        "n_samples_seen": seen,
                        "total_flops": total,
                        "cost": total,
                    }
                )
    return pd.DataFrame(rows)


#: The largest seed of each controlled configuration already in the catalog.
_SEEDS_SQL = (
    "SELECT arch, dataset, samples_per_class, max(seed) AS seed FROM models "
    "WHERE NOT is_pretrained AND NOT is_random AND NOT is_ssl AND NOT is_adv "
    "AND NOT is_ablation GROUP BY arch, dataset, samples_per_class"
)


def next_seeds(grid: pd.DataFrame, *, catalog: Location = None) -> pd.DataFrame:
    """Give each grid run the next seed its configuration has not been trained with.

    A configuration the catalog already holds (seeds 0-2 for many of the study's) becomes
    a new replicate at the next seed, so a plan never repeats a trained model; labels
    follow the study's ids, ``{arch}_{dataset}_{spc|full}_seed-{k}``.
    """
    from vvshub.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        taken = cat.query(_SEEDS_SQL)
    merged = grid.merge(taken, on=["arch", "dataset", "samples_per_class"], how="left")
    seed = merged["seed"].fillna(-1).astype(int) + 1
    spc = merged["samples_per_class"].map(lambda v: str(int(v)) if v else "full")
    labels = merged["arch"] + "_" + merged["dataset"] + "_" + spc + "_seed-" + seed.astype(str)
    return merged.assign(seed=seed, label=labels)


def sql_candidates(
    query: str, *, params: tuple[Any, ...] = (), catalog: Location = None
) -> pd.DataFrame:
    """Candidates from a query: rows with ``cost`` (or ``total_flops``) in FLOPs.

    Raises:
        SuggestError: no cost column, or no rows.
    """
    from vvshub.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        frame = cat.query(query, list(params) if params else None)
    if "cost" not in frame.columns:
        if "total_flops" not in frame.columns:
            raise SuggestError(
                "the --candidates query must return each run's cost in FLOPs as a column "
                f"cost or total_flops (it returned {', '.join(map(str, frame.columns))}); "
                "e.g. SELECT model_id, total_flops AS cost, ..."
            )
        frame = frame.assign(cost=frame["total_flops"])
    if frame.empty:
        raise SuggestError("the --candidates query returned no rows; check its WHERE clause")
    if "label" not in frame.columns:
        frame = frame.assign(
            label=frame["model_id"].astype(str)
            if "model_id" in frame.columns
            else [f"candidate-{i}" for i in range(len(frame))]
        )
    return frame.reset_index(drop=True)


def candidate_inputs(
    cands: pd.DataFrame, form: Form, *, x_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """The law's inputs (``(m,)`` or ``(m, 2)``) and costs (``(m,)``) of candidates.

    Raises:
        SuggestError: a needed column is missing.
    """
    if form.n_inputs == 2:
        cols = [
            c if c in cands.columns else alt
            for c, alt in (("n", "n_params"), ("d", "n_samples_seen"))
        ]
    else:
        col = "x" if "x" in cands.columns else x_column
        if col not in cands.columns and col == "total_flops":
            col = "cost"  # a run's cost is its training compute
        cols = [col]
    missing = [c for c in cols if c not in cands.columns]
    if missing:
        need = (
            "n (or n_params) and d (or n_samples_seen)"
            if form.n_inputs == 2
            else f"x (or {x_column})"
        )
        raise SuggestError(
            f"candidates need the law's inputs: {need}; they have "
            f"{', '.join(map(str, cands.columns))}"
        )
    X = cands[cols].to_numpy(dtype=float)
    return (X if form.n_inputs == 2 else X[:, 0]), cands["cost"].to_numpy(dtype=float)


def within_data(cand_X: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Which candidates (inputs ``(m,)`` or ``(m, 2)``) are not below the fitted data's
    smallest input (each input, for the joint law); shape ``(m,)``.

    A hypothetical outcome is drawn from the current law. Below the data the law is an
    extrapolation nothing supports, and through its lever arm such runs would look
    informative for the parameters without being so; above the data is where targets
    such as the score at 1e20 FLOPs live, so that side stays open.
    """
    c = np.asarray(cand_X, dtype=float).reshape(len(cand_X), -1)
    lo = np.asarray(X, dtype=float).reshape(len(X), -1).min(axis=0)
    return np.all(c >= lo * (1.0 - 1e-12), axis=1)


def infer_x_column(frame: pd.DataFrame) -> str:
    """Which catalog column the fit's ``x`` is: the one among ``total_flops, n_params,
    n_samples_seen`` that the query also returns with the same values.

    Raises:
        SuggestError: none matches; ``--x-column`` must say.
    """
    x = frame["x"].to_numpy(dtype=float)
    for col in ("total_flops", "n_params", "n_samples_seen"):
        if col in frame.columns:
            v = frame[col].to_numpy(dtype=float)
            if np.allclose(v, x, rtol=1e-9, equal_nan=True):
                return col
    raise SuggestError(
        "cannot tell what x is for the candidates: return it beside x in --sql "
        "(e.g. any_value(total_flops) AS total_flops) or pass --x-column total_flops|n_params|"
        "n_samples_seen"
    )
