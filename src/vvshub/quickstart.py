"""The whole loop on one machine: study catalog, mini zoo, hub, scores, laws, report.

``vvshub quickstart`` (and ``make quickstart``) runs these steps in order, each one
skipping what is already done, so a second run takes seconds and an interrupted one
continues where it stopped:

1. import the study's catalog (``../shared/data/reference`` or the study's public URL);
2. train a mini zoo on CIFAR-10: ResNet-18 at three widths x three data sizes, one seed
   (every run checkpoints atomically each epoch and resumes);
3. publish each model to the local hub (training does), then pull
   ``resnet18_w0.5_d30_cifar10`` back;
4. score every model on the synthetic suite (records go to the catalog);
5. fit the mini zoo's data-scaling law next to the paper's laws (fits are stored);
6. predict alignment at 1e20 FLOPs;
7. write ``report.html``.

Example:
    >>> from vvshub.quickstart import QuickstartPlan
    >>> plan = QuickstartPlan(dataset="cifar10_jpg.zip")
    >>> [cfg for cfg in plan.model_ids()][:2]
    ['resnet18_w0.25_d10_cifar10', 'resnet18_w0.25_d30_cifar10']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vvshub.errors import VvsHubError

log = logging.getLogger(__name__)

__all__ = ["PULL_ID", "QuickstartPlan", "QuickstartResult", "default_dataset", "run_quickstart"]


def default_dataset() -> Path:
    """CIFAR-10 for the mini zoo (see :func:`vvshub.constants.cifar10_zip`).

    Raises:
        DatasetNotFoundError: it is not there.
    """
    from vvshub.constants import CIFAR10_ENV, cifar10_zip
    from vvshub.errors import DatasetNotFoundError

    path = cifar10_zip()
    if not path.is_file():
        raise DatasetNotFoundError(
            f"no CIFAR-10 zip at {path}; pass --dataset (a zip of train/<class>/*.jpg and "
            f"test/<class>/*.jpg, or an ImageFolder) or set {CIFAR10_ENV}",
            path=str(path),
        )
    return path


#: The model the quickstart pulls back from the hub (it is in the mini zoo).
PULL_ID = "resnet18_w0.5_d30_cifar10"


@dataclass(frozen=True)
class QuickstartPlan:
    """What the quickstart trains, scores and writes.

    Attributes:
        dataset: the training data (a zip of class folders, an ImageFolder or ``hf:NAME``).
        reference: the study's files (a folder or URL); ``None`` for its public URL.
        widths: ResNet-18 width multipliers.
        samples_per_class: images per class of each run.
        seed: the one seed.
        epochs: epochs of every run (the same recipe at every scale).
        batch_size: the recipe's batch size, scaled down for tiny subsets.
        image_size: training crop in pixels (CIFAR-10 images are 32 x 32).
        val_samples_per_class: validation images per class for top-1 accuracy.
        report: where the HTML report goes.
        n_bootstrap: resamples for the laws' bands.
        pull_id: the model pulled back from the hub (one of the mini zoo).
    """

    dataset: str
    reference: str | None = None
    widths: tuple[float, ...] = (0.25, 0.5, 1.0)
    samples_per_class: tuple[int, ...] = (10, 30, 100)
    seed: int = 0
    epochs: int = 8
    batch_size: int = 64
    image_size: int = 32
    val_samples_per_class: int = 100
    report: str = "report.html"
    n_bootstrap: int = 1000
    pull_id: str = PULL_ID

    def configs(self) -> list[Any]:
        """One training config per (width, samples per class), widths outermost."""
        from vvshub.trainer import make_config

        return [
            make_config(
                "resnet18",
                dataset=self.dataset,
                width=w,
                samples_per_class=d,
                seed=self.seed,
                image_size=self.image_size,
                overrides={"epochs": self.epochs, "batch_size": self.batch_size},
                val_samples_per_class=self.val_samples_per_class,
            )
            for w in self.widths
            for d in self.samples_per_class
        ]

    def model_ids(self) -> list[str]:
        """The mini zoo's model ids, without building configs."""
        from vvshub import ids

        out = []
        for w in self.widths:
            for d in self.samples_per_class:
                arch = "resnet18" if w == 1 else f"resnet18_w{w:g}"
                mid = ids.parse(f"{arch}_d{d}_cifar10_s{self.seed}")
                out.append(ids.format_id(mid, style="short"))
        return out


@dataclass(frozen=True)
class QuickstartResult:
    """What a quickstart run did: per step, ``done`` (now) or ``skipped`` (already there)."""

    steps: dict[str, str] = field(default_factory=dict)
    trained: tuple[str, ...] = ()
    scored: tuple[str, ...] = ()
    prediction: dict[str, Any] = field(default_factory=dict)
    report: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": dict(self.steps),
            "trained": list(self.trained),
            "scored": list(self.scored),
            "prediction": self.prediction,
            "report": self.report,
            "seconds": self.seconds,
        }


def _scored(model_id: str, catalog: str | Path | None) -> bool:
    from vvshub.catalog import open_catalog

    with open_catalog(catalog) as cat:
        return bool(cat.query(_SCORED, [model_id, model_id]).iloc[0, 0])


#: Whether a model (by its catalog key or short id) has its five synthetic scores.
_SCORED = (
    "SELECT count(*) >= 5 FROM scores WHERE (model_id = ? OR short_id = ?) AND suite = 'synthetic'"
)


def run_quickstart(
    plan: QuickstartPlan,
    *,
    catalog: str | Path | None = None,
    say: Callable[[str], None] = log.info,
) -> QuickstartResult:
    """Run every step of the quickstart, skipping what is done.

    Args:
        plan: what to train and where the report goes.
        catalog: the catalog (default ``$VVSHUB_HOME/catalog.duckdb``).
        say: called with one line per step (the CLI prints them).

    Returns:
        What each step did, the mini zoo, the prediction at 1e20 FLOPs and the report's path.

    Raises:
        VvsHubError: a step failed; what earlier steps wrote stays, and a rerun continues.
    """
    import vvshub
    from vvshub._format import format_number
    from vvshub._progress import track
    from vvshub.catalog import import_reference
    from vvshub.laws import paper_fits, predict
    from vvshub.report import build_report, local_cards, mini_zoo_law
    from vvshub.trainer import run_dir_for, train

    started = time.monotonic()
    steps: dict[str, str] = {}

    say("1/7 the study's catalog")
    summary = import_reference(plan.reference, catalog=catalog)
    steps["import"] = "done" if summary.changed else "skipped"

    say(f"2/7 training the mini zoo ({len(plan.widths) * len(plan.samples_per_class)} models)")
    trained = []
    for cfg in track(plan.configs(), description="training"):
        folder = run_dir_for(cfg)  # a run started before continues; a finished one is reused
        started_before = folder.is_dir() and any(folder.iterdir())
        result = train(cfg, resume=started_before, catalog=catalog)
        trained.append(result.model_id)
        say(f"    {result.model_id}: top-1 {result.acc:.3f}")
    steps["train"] = "done"

    say(f"3/7 pulling {plan.pull_id} back from the local hub")
    model = vvshub.pull(plan.pull_id)
    say(f"    {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters")
    steps["pull"] = "done"

    say("4/7 scoring on the synthetic suite (simulated responses: it measures the pipeline)")
    scored = []
    for mid in track(trained, description="scoring"):
        if _scored(mid, catalog):
            continue
        vvshub.score(mid, suite="synthetic", catalog=catalog)  # pulled from the local hub
        scored.append(mid)
    steps["score"] = "done" if scored else "skipped"

    say("5/7 fitting the mini zoo's law and the paper's laws")
    law = mini_zoo_law(catalog=catalog, n_bootstrap=plan.n_bootstrap)
    if law is None:
        raise VvsHubError(
            "the mini zoo's law needs at least four trained and scored models; train more "
            "data sizes or widths (QuickstartPlan), then rerun the quickstart"
        )
    paper_fits(catalog=catalog, n_bootstrap=plan.n_bootstrap)
    steps["laws"] = "done"

    say("6/7 predicting alignment at 1e20 FLOPs")
    prediction = predict(1e20, catalog=catalog, n_bootstrap=plan.n_bootstrap).to_dict()
    for key, label in (("neural", "neural alignment"), ("behavior", "behavioural alignment")):
        value = prediction.get(key) or {}
        lo, hi = value.get("ci") or (None, None)
        band = f"  95% CI [{format_number(lo)}, {format_number(hi)}]" if lo is not None else ""
        say(f"    {label:<22} {format_number(value.get('score'))}{band}")
    say(f"    compute-optimal N*     {format_number(prediction.get('n_params_opt'))} parameters")
    say(
        f"    compute-optimal D*     {format_number(prediction.get('n_samples_seen_opt'))} samples seen"
    )
    steps["predict"] = "done"

    say(f"7/7 writing {plan.report}")
    report = build_report(
        plan.report,
        catalog=catalog,
        cards=local_cards(),
        zoo_law=law,
        n_bootstrap=plan.n_bootstrap,
    )
    steps["report"] = "done"
    return QuickstartResult(
        steps=steps,
        trained=tuple(trained),
        scored=tuple(scored),
        prediction=prediction,
        report=str(report.path.resolve()),
        seconds=time.monotonic() - started,
    )
