"""What a training run trains: :class:`TrainConfig`, and how a CLI request becomes one.

Pure Python: no torch import here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from vvshub.errors import ModelIdError, TrainingError
from vvshub.trainer._recipes import RECIPES, Recipe, recipe_for

__all__ = ["TrainConfig", "make_config"]

CorruptPolicy = Literal["skip", "error"]

#: Fields that change what is trained; the run id hashes these (not where or how fast).
_RESULT_FIELDS = (
    "arch",
    "dataset_name",
    "samples_per_class",
    "seed",
    "image_size",
    "val_samples_per_class",
    "corrupt",
    "recipe",
)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run.

    Attributes:
        arch: canonical architecture name, width and depth applied (``resnet18_w0.25``).
        dataset: data set spec (folder, zip or ``hf:NAME``).
        dataset_name: its short name in the model id (``cifar10``).
        samples_per_class: d images per class; 0 for the full training split.
        seed: seeds the subset, the initialisation, the data order and the augmentation.
        recipe: how to train (:class:`~vvshub.trainer.Recipe`).
        image_size: training crop side in pixels.
        val_samples_per_class: evaluate on this many val images per class (0: all of them);
            drawn like the train subset, from the val split.
        corrupt: ``skip`` unreadable training images (counted in the manifest, replaced by the
            next image in the seeded order) or ``error`` (refuse the data set).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1`` ...
        deterministic: deterministic kernels (bitwise reproducible on CPU; slower on GPU).
        num_workers: DataLoader worker processes (0: load in the training process).
        cache_gb: keep the decoded training images in memory when they fit in this many GiB.
        keep_epochs: keep every epoch's weights (``ep{N}`` revisions on the hub), not just the
            last.
    """

    arch: str
    dataset: str
    dataset_name: str
    samples_per_class: int
    seed: int = 0
    recipe: Recipe = field(default_factory=lambda: RECIPES["cnn"])
    image_size: int = 224
    val_samples_per_class: int = 0
    corrupt: CorruptPolicy = "skip"
    device: str = "auto"
    deterministic: bool = False
    num_workers: int = 0
    cache_gb: float = 4.0
    keep_epochs: bool = False

    def __post_init__(self) -> None:
        problems = []
        for name in ("samples_per_class", "seed", "val_samples_per_class", "num_workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"{name} must be a non-negative integer, got {value!r}")
        if not isinstance(self.image_size, int) or self.image_size < 8:
            problems.append(f"image_size must be an integer >= 8, got {self.image_size!r}")
        if self.corrupt not in ("skip", "error"):
            problems.append(f"corrupt must be 'skip' or 'error', got {self.corrupt!r}")
        if not self.cache_gb >= 0:
            problems.append(f"cache_gb must be >= 0, got {self.cache_gb!r}")
        if problems:
            raise TrainingError("; ".join(problems))

    @property
    def model_id(self) -> str:
        """The trained model's vvshub short id (``resnet18_w0.25_d10_cifar10``)."""
        from vvshub.ids import ModelId, format_id

        mid = ModelId(self.arch, self.dataset_name, self.samples_per_class, self.seed)
        return format_id(mid, style="short")

    @property
    def config_hash(self) -> str:
        """sha256 over the fields that change what is trained (12 hex digits)."""
        data = self.to_dict()
        payload = {k: data[k] for k in _RESULT_FIELDS}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def run_id(self) -> str:
        """``{model_id}-{config_hash}``: names the run folder; the same request, the same folder."""
        return f"{self.model_id}-{self.config_hash}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (the run's ``config.json``, the catalog's run record)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["recipe"] = self.recipe.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["recipe"] = Recipe.from_dict(data["recipe"])
        return cls(**data)


def make_config(
    arch_or_model_id: str,
    *,
    dataset: str,
    width: float | None = None,
    depth: tuple[int, ...] | list[int] | None = None,
    samples_per_class: int | str | None = None,
    seed: int | None = None,
    recipe: str = "auto",
    dataset_name: str | None = None,
    image_size: int | None = None,
    overrides: dict[str, Any] | None = None,
    **options: Any,
) -> TrainConfig:
    """Build a :class:`TrainConfig` from what a user types.

    A model id carries its architecture, width, samples per class, data set and seed
    (``resnet18_w0.5_d30_cifar10``); flags may repeat those but not contradict them.

    Args:
        arch_or_model_id: ``resnet18``, ``resnetflexfilters-f-1-16-20-11``, or a model id.
        dataset: data set spec.
        width: width multiplier of the architecture.
        depth: blocks per stage.
        samples_per_class: d, or ``"full"``/0 for every image.
        seed: run seed (default 0, or the model id's).
        recipe: ``cnn``, ``convnext``, ``deit`` or ``auto`` (by architecture family).
        dataset_name: name in the model id (default: from the spec, ``cifar10`` for
            ``cifar10_jpg.zip``).
        image_size: training crop side (default: the architecture's input size).
        overrides: recipe fields to change (``epochs``, ``batch_size``, ``lr`` ...).
        **options: other :class:`TrainConfig` fields (``device``, ``num_workers`` ...).

    Raises:
        UnknownArchitectureError: not an architecture of the zoo or timm.
        VariantError: a width or depth the architecture cannot take.
        TrainingError: contradicting flags, an unknown recipe or recipe field.

    Example:
        >>> cfg = make_config("resnet18", width=0.25, dataset="cifar10_jpg.zip",
        ...                   samples_per_class=10, image_size=32)
        >>> cfg.model_id
        'resnet18_w0.25_d10_cifar10'
    """
    from vvshub import zoo
    from vvshub.trainer._data import dataset_name as name_of

    text = arch_or_model_id.strip()
    mid = _as_model_id(text)
    arch = mid.arch if mid is not None else text
    if width is not None or depth is not None:
        arch = zoo.variant_name(arch, width=width, depth=depth)
    r = zoo.recipe(arch)  # raises UnknownArchitectureError / VariantError with the options
    arch = r.arch

    spc = _spc(samples_per_class)
    name = dataset_name or name_of(dataset)
    if mid is not None:
        if spc is not None and spc != mid.samples_per_class:
            raise TrainingError(
                f"model id {text!r} says {mid.samples_per_class or 'full'} images per class but "
                f"--samples-per-class is {samples_per_class}; drop one of them"
            )
        if seed is not None and seed != mid.seed:
            raise TrainingError(
                f"model id {text!r} says seed {mid.seed} but --seed is {seed}; drop one of them"
            )
        # A short id without a data set suffix means "on whatever --dataset is".
        explicit = mid.style == "study" or mid.dataset != "imagenet" or "_imagenet" in text
        if explicit and mid.dataset != name:
            raise TrainingError(
                f"model id {text!r} names data set {mid.dataset!r} but --dataset {dataset!r} is "
                f"{name!r}; pass --dataset-name {mid.dataset} if they are the same data"
            )
        spc, seed = mid.samples_per_class, mid.seed
    if spc is None:
        raise TrainingError(
            "say how many images per class to train on: --samples-per-class D (or 'full')"
        )
    if recipe == "auto":
        base = recipe_for(arch)
    elif recipe in RECIPES:
        base = RECIPES[recipe]
    else:
        raise TrainingError(f"unknown recipe {recipe!r}; choose one of auto, {', '.join(RECIPES)}")
    rec = base.override(**(overrides or {}))
    return TrainConfig(
        arch=arch,
        dataset=dataset,
        dataset_name=name,
        samples_per_class=spc,
        seed=seed if seed is not None else 0,
        recipe=rec,
        image_size=image_size if image_size is not None else r.input_size,
        **options,
    )


def _spc(value: int | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() == "full":
            return 0
        try:
            value = int(value)
        except ValueError:
            raise TrainingError(
                f"--samples-per-class must be a positive integer or 'full', got {value!r}"
            ) from None
    if value < 0:
        raise TrainingError(f"--samples-per-class must be positive or 'full', got {value}")
    return int(value)


def _as_model_id(text: str):  # -> ModelId | None
    """A trained model id (``…_d30…`` / ``…_imagenet_10_seed-1``), or None for a bare architecture."""
    from vvshub.ids import parse

    try:
        mid = parse(text)
    except ModelIdError:
        return None
    if mid.style not in ("short", "study") or mid.regime != "trained":
        return None
    if mid.ssl_method or mid.adv_method:
        raise TrainingError(
            f"{text!r} is a self-supervised or adversarial model; vvshub trains supervised "
            "models only"
        )
    return mid
