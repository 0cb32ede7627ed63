"""Render a zoo model's card with huggingface_hub's ModelCard, ModelCardData and EvalResult.

The metadata block (``library_name``, tags, ``model-index``) is produced by
huggingface_hub from typed objects, never written as YAML by hand. The body is
Markdown built from the repo's ``config.json`` ``vvshub`` block and the
catalog's scores; every field nobody recorded reads "unknown".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huggingface_hub import ModelCard

__all__ = ["CITATION", "REGIONS", "CardScore", "render_card"]

#: The regions of the model-index, in the order the card lists them.
REGIONS = ("V1", "V2", "V4", "IT", "Behavioral")

CITATION = """@inproceedings{gokce2025scaling,
  title     = {Scaling Laws for Task-Optimized Models of the Primate Visual Ventral Stream},
  author    = {Gokce, Abdulkadir and Schrimpf, Martin},
  booktitle = {Proceedings of the 42nd International Conference on Machine Learning (ICML)},
  year      = {2025},
  eprint    = {2411.05712},
  archivePrefix = {arXiv}
}"""

_UNKNOWN = "unknown"
_LABELS = {
    "model_id": "Model id (study grammar)",
    "short_id": "Short id",
    "arch": "Architecture",
    "arch_family": "Family",
    "width": "Width multiplier",
    "depth": "Blocks per stage",
    "dataset": "Training data set",
    "samples_per_class": "Images per class",
    "n_samples": "Training images (D)",
    "n_epochs": "Epochs",
    "n_samples_seen": "Images seen",
    "epoch": "Epoch of these weights",
    "seed": "Seed",
    "n_params": "Parameters (N)",
    "macs": "MACs per image",
    "flops": "FLOPs per image",
    "total_flops": "Training compute (FLOPs)",
    "count_convention": "Counting convention",
    "acc": "Top-1 accuracy (validation)",
    "manifest_sha256": "Data-subset manifest sha256",
}

_BASE_DEFAULT = {"width": "1 (the base architecture's)", "depth": "the base architecture's"}


@dataclass(frozen=True)
class CardScore:
    """One benchmark score shown on a card (a row of the catalog's ``scores`` view).

    Attributes:
        region: ``V1``, ``V2``, ``V4``, ``IT`` or ``Behavioral``.
        benchmark: the benchmark id (``movshon.FreemanZiemba2013public.V1-pls`` …).
        score: the normalised score in [0, 1].
        raw_score: the unceiled score, if recorded.
        ceiling: the benchmark's ceiling, if recorded.
        layer: the committed layer (or the readout layer for behaviour).
        version: the benchmark version.
        normalisation: how ``score`` was made from raw score and ceiling.
        source: who produced the score (``reference``, ``vvshub`` …).
    """

    region: str
    benchmark: str
    score: float
    raw_score: float | None = None
    ceiling: float | None = None
    layer: str | None = None
    version: str | None = None
    normalisation: str | None = None
    source: str | None = None


def _fmt(value: Any) -> str:
    if value is None:
        return _UNKNOWN
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.4e}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _eval_results(scores: Sequence[CardScore], model_name: str) -> list[Any]:
    from huggingface_hub import EvalResult

    order = {r: i for i, r in enumerate(REGIONS)}
    results = []
    for s in sorted(scores, key=lambda s: (order.get(s.region, 99), s.benchmark)):
        args = {
            k: v
            for k, v in (
                ("raw_score", s.raw_score),
                ("ceiling", s.ceiling),
                ("layer", s.layer),
                ("source", s.source),
            )
            if v is not None
        }
        results.append(
            EvalResult(
                task_type="brain-alignment",
                task_name=f"Primate ventral visual stream alignment ({s.region})",
                dataset_type=s.benchmark,
                dataset_name=s.benchmark,
                dataset_config=s.region,
                dataset_revision=s.version,
                metric_type="brain-score",
                metric_name=f"{s.region} alignment",
                metric_value=round(float(s.score), 6),
                metric_config=s.normalisation,
                metric_args=args or None,
            )
        )
    return results


def _body(
    config: Mapping[str, Any],
    repo_id: str,
    scores: Sequence[CardScore],
    *,
    needs_vvshub: bool,
    revision_note: str | None,
) -> str:
    meta = dict(config.get("vvshub") or {})
    title = meta.get("short_id") or meta.get("model_id") or repo_id.split("/")[-1]
    # width/depth None means the base architecture's own, which is known
    unknown = [k for k in _LABELS if meta.get(k) is None and k not in _BASE_DEFAULT]
    lines = [
        f"# {title}",
        "",
        f"A model of the controlled zoo for the primate ventral visual stream, published by "
        f"vvshub as `{repo_id}`: weights in `model.safetensors`, a timm `config.json` "
        "(architecture `{}`, {} classes).".format(
            config.get("architecture"), _fmt(config.get("num_classes"))
        ),
        "",
    ]
    if revision_note:
        lines += [revision_note, ""]
    lines += ["## Scaling metadata", "", "| field | value |", "|---|---|"]
    lines += [
        f"| {label} | {_cell(_BASE_DEFAULT[key] if key in _BASE_DEFAULT and meta.get(key) is None else _fmt(meta.get(key)))} |"
        for key, label in _LABELS.items()
    ]
    lines.append("")
    if unknown:
        lines += [
            f"Unknown for this model: {', '.join(f'`{k}`' for k in unknown)} (it was pushed "
            "without that metadata).",
            "",
        ]
    lines += ["## Brain alignment", ""]
    if scores:
        order = {r: i for i, r in enumerate(REGIONS)}
        lines += [
            "| region | benchmark | score | raw | ceiling | layer | normalisation | version |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for s in sorted(scores, key=lambda s: (order.get(s.region, 99), s.benchmark)):
            cells = [
                s.region,
                f"`{s.benchmark}`",
                f"{s.score:.4f}",
                _fmt(s.raw_score),
                _fmt(s.ceiling),
                f"`{s.layer}`" if s.layer else _UNKNOWN,
                _fmt(s.normalisation),
                _fmt(s.version),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines += [
            "",
            "Scores are in [0, 1]; `layer` is the committed layer (the readout layer for "
            "behaviour). The same numbers are in the `model-index` above.",
            "",
        ]
    else:
        lines += [
            f"No scores recorded yet. Score it with `vvshub score {repo_id}`; then "
            "`vvshub hub refresh-cards` re-renders this card.",
            "",
        ]
    name = meta.get("short_id") or meta.get("model_id") or repo_id
    lines += [
        "## How to load",
        "",
        "With vvshub (checks the weights' sha256, returns the model in eval mode):",
        "",
        "```python",
        "import vvshub",
        "",
        f'model = vvshub.pull("{name}")',
        "```",
        "",
        "With plain timm, from a hub that serves this repo (`vvshub hub serve`, or the Hugging "
        "Face Hub):",
        "",
        "```python",
        "import timm",
    ]
    if needs_vvshub:
        lines.append("import vvshub  # registers this architecture in timm")
    lines += [
        "",
        f'model = timm.create_model("hf-hub:{repo_id}", pretrained=True)',
        "```",
        "",
    ]
    if needs_vvshub:
        lines += [
            f"The architecture `{config.get('architecture')}` is one of the zoo's own; "
            "`import vvshub` registers it in timm's registry.",
            "",
        ]
    dataset = meta.get("dataset")
    lines += [
        "## Training data and licence",
        "",
        f"Trained on {f'`{dataset}`' if dataset else 'an unknown data set'}"
        + (
            f", {_fmt(meta.get('samples_per_class'))} images per class"
            if meta.get("samples_per_class")
            else ""
        )
        + ". The weights derive from that data set: its terms of use (for ImageNet, "
        "non-commercial research and education) apply to them; check them before any other "
        "use. The vvshub code and the study's code are MIT-licensed.",
        "",
        "## Citation",
        "",
        "This model belongs to the zoo of Gokce & Schrimpf, *Scaling Laws for Task-Optimized "
        "Models of the Primate Visual Ventral Stream* (ICML 2025):",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
    ]
    return "\n".join(lines)


def render_card(
    config: Mapping[str, Any],
    *,
    repo_id: str,
    scores: Sequence[CardScore] = (),
    needs_vvshub: bool = False,
    revision_note: str | None = None,
) -> ModelCard:
    """The model card of one repo.

    Args:
        config: the repo's ``config.json`` (its ``vvshub`` block gives the metadata).
        repo_id: ``ORG/NAME``.
        scores: the model's benchmark scores (empty: the card says none are recorded).
        needs_vvshub: the architecture is registered by vvshub, not shipped with timm.
        revision_note: a line about the revision (``These weights are epoch 10 …``).

    Returns:
        A ``huggingface_hub.ModelCard``; ``str(card)`` is the README.md text.

    Example:
        >>> card = render_card({"architecture": "resnet18", "num_classes": 10,
        ...                     "vvshub": {"arch": "resnet18"}}, repo_id="vvshub/resnet18_d10")
        >>> card.data.library_name
        'timm'
    """
    from huggingface_hub import ModelCard, ModelCardData

    meta = dict(config.get("vvshub") or {})
    dataset = meta.get("dataset")
    family = meta.get("arch_family")
    tags = ["brain-alignment", "primate-vvs", "vvshub", "image-classification"]
    tags += [t.lower() for t in (family, dataset) if t]
    model_name = repo_id.split("/")[-1]
    data = ModelCardData(
        library_name="timm",
        license="other",
        tags=list(dict.fromkeys(tags)),
        datasets=[dataset] if dataset else None,
        pipeline_tag="image-classification",
        model_name=model_name,
        eval_results=_eval_results(scores, model_name) or None,
    )
    body = _body(config, repo_id, scores, needs_vvshub=needs_vvshub, revision_note=revision_note)
    # ModelCard parses "---\n<yaml>\n---\n<body>"; the YAML text comes from ModelCardData.
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
