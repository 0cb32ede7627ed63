"""The paper's selections of the catalog, as named SQL (DESIGN.md section 4).

Every selection returns one row per model, scores averaged over the regions in question,
ordered by ``model_id`` (the order in which the study drew its bootstrap resamples), with
the columns the law forms read: ``x, score`` or ``n, d, score``, plus ``model_id``,
``arch``, ``arch_family``, ``dataset``, ``samples_per_class`` and ``total_flops``.

The filters: models trained on ImageNet or EcoSet (or one named training set for the
samples-seen laws); not pretrained, random, self-supervised, adversarial or ablation;
for the joint law and the samples-seen laws, ConvNeXt and ViT only at 300 samples per
class or the full data (``samples_per_class = 0``); width-scaled families
(``ResNetFlex``, ``ConvNeXtFlex``, ``ViTFlex``) merged into their base family.
"""

from __future__ import annotations

from dataclasses import dataclass

from vvshub.study import (
    BEHAVIORAL,
    FLEX_FAMILIES,
    GRID_DATASETS,
    NEURAL_REGIONS,
    REGIONS,
    SAMPLE_DATASETS,
    flex_family,
)

#: Regions averaged for the overall alignment score.
ALL_REGIONS = REGIONS


def _sql_list(values: tuple[str, ...] | list[str]) -> str:
    """Constant study names as a SQL list (never user input: those are bound parameters)."""
    return ", ".join(f"'{v}'" for v in values)


_FAMILY = (
    "CASE arch_family "
    + " ".join(f"WHEN '{flex}' THEN '{base}'" for flex, base in FLEX_FAMILIES.items())
    + " ELSE arch_family END"
)
_CONTROLLED = (
    "NOT is_pretrained AND NOT is_random AND NOT is_ssl AND NOT is_adv AND NOT is_ablation"
)
_TRANSFORMERS = [f for base in ("ConvNeXt", "ViT") for f in (base, flex_family(base))]
_TRANSFORMER_DATA = (
    f"(arch_family NOT IN ({_sql_list(_TRANSFORMERS)}) OR samples_per_class IN (0, 300))"
)


def _select(x: str, *, regions: tuple[str, ...], where: str, joint: bool = False) -> str:
    region_list = _sql_list(regions)
    cols = (
        "any_value(n_params) AS n, any_value(n_samples_seen) AS d"
        if joint
        else f"any_value({x}) AS x"
    )
    return (
        f"SELECT model_id, any_value(arch) AS arch, any_value({_FAMILY}) AS arch_family, "
        "any_value(dataset) AS dataset, any_value(samples_per_class) AS samples_per_class, "
        f"any_value(total_flops) AS total_flops, {cols}, avg(score) AS score "
        f"FROM scores WHERE {_CONTROLLED} AND region IN ({region_list}) AND {where} "
        "GROUP BY model_id ORDER BY model_id"
    )


_IMAGENET_ECOSET = f"dataset IN ({_sql_list(GRID_DATASETS)})"

#: Compute -> neural alignment (Figure 1b): 620 models on the reference data.
COMPUTE_NEURAL = _select("total_flops", regions=NEURAL_REGIONS, where=_IMAGENET_ECOSET)
#: Compute -> behavioural alignment (Figure 1b).
COMPUTE_BEHAVIOR = _select("total_flops", regions=(BEHAVIORAL,), where=_IMAGENET_ECOSET)
#: Parameters -> alignment, full-data models only (Figure 2c).
PARAMS_ALIGNMENT = _select(
    "n_params", regions=ALL_REGIONS, where=f"{_IMAGENET_ECOSET} AND samples_per_class = 0"
)
#: Joint law L(N, D) (eq. 5) and the allocation: 444 models on the reference data.
JOINT = _select(
    "", regions=ALL_REGIONS, where=f"{_IMAGENET_ECOSET} AND {_TRANSFORMER_DATA}", joint=True
)
#: Rows of the joint selection with their compute, for the C = m (N D)^n fit.
JOINT_COMPUTE = (
    "SELECT n, d, total_flops AS c FROM (" + JOINT + ") AS j "
    "WHERE total_flops IS NOT NULL ORDER BY model_id"
)


def samples_seen_query(dataset: str) -> str:
    """Samples seen -> alignment for one training set (Figure 3a).

    ``dataset`` is bound as a parameter (``?``) when the query runs; the text holds a
    placeholder only.
    """
    del dataset  # bound at execution time
    return _select(
        "n_samples_seen", regions=ALL_REGIONS, where=f"dataset = ? AND {_TRANSFORMER_DATA}"
    )


@dataclass(frozen=True)
class Selection:
    """A named fit of the paper.

    Attributes:
        key: short name (``compute_neural``...).
        title: what it fits, for tables and plots.
        sql: the query (``?`` placeholders for ``params``).
        params: bound values.
        form: law form.
        scales: the paper's scales for the form's inputs.
        x_label: axis label for the input.
    """

    key: str
    title: str
    sql: str
    params: tuple[str, ...]
    form: str
    scales: tuple[float, ...]
    x_label: str


PAPER_SELECTIONS: tuple[Selection, ...] = (
    Selection(
        "compute_neural",
        "compute → neural alignment",
        COMPUTE_NEURAL,
        (),
        "power",
        (1e13,),
        "compute C (FLOPs)",
    ),
    Selection(
        "compute_behavior",
        "compute → behavioural alignment",
        COMPUTE_BEHAVIOR,
        (),
        "power",
        (1e13,),
        "compute C (FLOPs)",
    ),
    Selection(
        "params_alignment",
        "parameters → alignment",
        PARAMS_ALIGNMENT,
        (),
        "power",
        (1e5,),
        "parameters N",
    ),
    *(
        Selection(
            f"samples_{ds}",
            f"samples seen → alignment ({ds})",
            samples_seen_query(ds),
            (ds,),
            "power",
            (1e4,),
            "samples seen D",
        )
        for ds in SAMPLE_DATASETS
    ),
    Selection(
        "joint",
        "joint law L(N, D)",
        JOINT,
        (),
        "chinchilla",
        (1e5, 1e4),
        "parameters N, samples seen D",
    ),
)


def selection(key: str) -> Selection:
    """The paper selection called ``key``.

    Raises:
        ValueError: unknown key; the message lists the valid ones.
    """
    for sel in PAPER_SELECTIONS:
        if sel.key == key:
            return sel
    keys = ", ".join(s.key for s in PAPER_SELECTIONS)
    raise ValueError(f"unknown paper selection {key!r}; expected one of {keys}")
