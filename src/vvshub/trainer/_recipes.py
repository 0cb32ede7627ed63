"""The study's training recipes as frozen, overridable configs (DESIGN.md section 4).

A :class:`Recipe` says *how* a model is trained (optimiser, schedule, augmentation,
batch size); a :class:`~vvshub.trainer.TrainConfig` says *what* is trained (which
architecture on which images). Every field can be overridden with
:meth:`Recipe.override`, and ``vvshub train --dry-run`` prints the result.

Pure Python: no torch import here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from vvshub.errors import TrainingError

__all__ = ["RECIPES", "Recipe", "recipe_for"]

RecipeName = Literal["cnn", "convnext", "deit"]
Optimizer = Literal["sgd", "adamw", "lamb"]
Augment = Literal["basic", "randaug", "three_augment"]

#: ImageNet normalisation (the study normalises every data set this way).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How a model is trained.

    Attributes:
        name: ``cnn``, ``convnext`` or ``deit``.
        epochs: passes over the training subset.
        batch_size: global batch (split across devices under DDP).
        optimizer: ``sgd`` (Nesterov when ``nesterov``), ``adamw`` or ``lamb`` (timm's).
        lr: peak learning rate (reached after the warm-up).
        momentum: SGD momentum / Adam beta1.
        nesterov: Nesterov momentum for SGD.
        weight_decay: decoupled for AdamW/LAMB, L2 for SGD.
        warmup_epochs: linear warm-up length, in epochs of the recipe's own length; a run
            with another epoch count keeps the same fraction (5 of 100 stays 5%).
        min_lr: the cosine schedule's floor.
        label_smoothing: cross-entropy label smoothing.
        mixup_alpha: Beta(alpha, alpha) mixup; 0 turns it off.
        cutmix_alpha: Beta(alpha, alpha) cutmix; 0 turns it off (with both on, a coin picks one
            per batch).
        drop_path: stochastic depth rate (ConvNeXt, DeiT).
        ema_decay: decay of an exponential moving average of the weights, evaluated and
            published instead of the raw weights; ``None`` for no EMA.
        scale: RandomResizedCrop area range.
        hflip: probability of a horizontal flip.
        augment: ``basic`` (crop + flip), ``randaug`` (ConvNeXt: two random photometric and
            geometric ops per image, albumentations' stand-in for RandAugment m9) or
            ``three_augment`` (DeiT-III: grayscale / solarise / blur, then colour jitter 0.3).
        crop_pct: evaluation resize is ``image_size / crop_pct`` then a centre crop
            (224/256 = 0.875 in the study).
        mean: normalisation mean.
        std: normalisation standard deviation.
        grad_clip: clip the global gradient norm at this value; ``None`` for no clipping.
        amp: bfloat16 autocast on CUDA (ignored on CPU).
    """

    name: RecipeName
    epochs: int
    batch_size: int
    optimizer: Optimizer
    lr: float
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    label_smoothing: float = 0.0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    drop_path: float = 0.0
    ema_decay: float | None = None
    scale: tuple[float, float] = (0.08, 1.0)
    hflip: float = 0.5
    augment: Augment = "basic"
    crop_pct: float = 224 / 256
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    grad_clip: float | None = None
    amp: bool = True
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", tuple(float(s) for s in self.scale))
        object.__setattr__(self, "mean", tuple(float(s) for s in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        problems = []
        if self.name not in RECIPES_ORDER:
            problems.append(f"name {self.name!r} is not one of {', '.join(RECIPES_ORDER)}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            problems.append(f"epochs must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            problems.append(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.optimizer not in ("sgd", "adamw", "lamb"):
            problems.append(f"optimizer must be sgd, adamw or lamb, got {self.optimizer!r}")
        if not self.lr > 0:
            problems.append(f"lr must be positive, got {self.lr!r}")
        if self.min_lr < 0 or self.min_lr > self.lr:
            problems.append(f"min_lr must be in [0, lr], got {self.min_lr!r}")
        if self.warmup_epochs < 0:
            problems.append(f"warmup_epochs must be >= 0, got {self.warmup_epochs!r}")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if self.mixup_alpha < 0 or self.cutmix_alpha < 0:
            problems.append("mixup_alpha and cutmix_alpha must be >= 0")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            problems.append(f"ema_decay must be in (0, 1), got {self.ema_decay!r}")
        if len(self.scale) != 2 or not 0 < self.scale[0] <= self.scale[1] <= 1:
            problems.append(f"scale must be (lo, hi) with 0 < lo <= hi <= 1, got {self.scale!r}")
        if not 0 < self.crop_pct <= 1:
            problems.append(f"crop_pct must be in (0, 1], got {self.crop_pct!r}")
        if self.augment not in ("basic", "randaug", "three_augment"):
            problems.append(
                f"augment must be basic, randaug or three_augment, got {self.augment!r}"
            )
        if problems:
            raise TrainingError(f"recipe {self.name!r}: " + "; ".join(problems))

    def override(self, **changes: Any) -> Recipe:
        """A copy with some fields changed; unknown names are refused with the valid ones.

        Changing ``epochs`` alone keeps the warm-up's share of the run.

        Example:
            >>> RECIPES["cnn"].override(epochs=10).warmup_epochs
            0.5
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TrainingError(
                f"unknown recipe field(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(sorted(names))}"
            )
        if "epochs" in changes and "warmup_epochs" not in changes:
            changes["warmup_epochs"] = self.warmup_epochs * changes["epochs"] / self.epochs
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON, the checkpoint config)."""
        data = dataclasses.asdict(self)
        for key in ("scale", "mean", "std"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        for key in ("scale", "mean", "std"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


RECIPES_ORDER = ("cnn", "convnext", "deit")

#: The study's recipes. CNNs: its own (100 epochs, SGD-Nesterov, lr 0.1, batch 512, 5 warm-up
#: epochs then cosine to 1e-5, wd 1e-4). ConvNeXt and DeiT-III: their authors' published ones.
RECIPES: dict[str, Recipe] = {
    "cnn": Recipe(
        name="cnn",
        epochs=100,
        batch_size=512,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
        warmup_epochs=5,
        min_lr=1e-5,
        notes="Gokce & Schrimpf 2025: ResNet, EfficientNet, AlexNet, CORnet-S and their variants",
    ),
    "convnext": Recipe(
        name="convnext",
        epochs=300,
        batch_size=4096,
        optimizer="adamw",
        lr=4e-3,
        momentum=0.9,
        weight_decay=0.05,
        warmup_epochs=20,
        min_lr=1e-6,
        label_smoothing=0.1,
        mixup_alpha=0.8,
        cutmix_alpha=1.0,
        drop_path=0.1,
        ema_decay=0.9999,
        augment="randaug",
        notes="Liu et al. 2022 (ConvNeXt), as the study trained it",
    ),
    "deit": Recipe(
        name="deit",
        epochs=300,
        batch_size=2048,
        optimizer="lamb",
        lr=3e-3,
        momentum=0.9,
        weight_decay=0.02,
        warmup_epochs=5,
        min_lr=1e-5,
        mixup_alpha=0.8,
        cutmix_alpha=1.0,
        drop_path=0.05,
        scale=(0.08, 1.0),
        augment="three_augment",
        grad_clip=1.0,
        notes="Touvron et al. 2022 (DeiT III), as the study trained it",
    ),
}


def recipe_for(arch: str) -> Recipe:
    """The study's recipe for an architecture: ``convnext`` for ConvNeXt, ``deit`` for ViTs,
    ``cnn`` for everything else.

    Args:
        arch: an architecture name or model id the zoo knows.

    Example:
        >>> recipe_for("convnextflex-l-2").name
        'convnext'
    """
    from vvshub.zoo import recipe

    family = recipe(arch).family
    if family.startswith("ConvNeXt"):
        return RECIPES["convnext"]
    if family.startswith("ViT"):
        return RECIPES["deit"]
    return RECIPES["cnn"]
