"""Augmentation with albumentations, seeded per image so runs are reproducible anywhere.

Every random draw for image ``i`` in epoch ``e`` comes from a generator seeded with
``(seed, e, i)``. So the augmentation of an image does not depend on which DataLoader
worker or which DDP rank handles it, nor on what ran before: a resumed run, a run on
2 processes and a run on 1 see the same pixels.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import albumentations as A
    import numpy as np

    from vvshub.trainer._recipes import Recipe

__all__ = ["eval_pipeline", "mix_batch", "seed_pipeline", "train_pipeline"]


def _albumentations() -> Any:
    try:
        import albumentations
    except ImportError:  # pragma: no cover - in the train extra
        from vvshub.errors import TrainingError

        raise TrainingError("training needs albumentations: pip install 'vvshub[train]'") from None
    return albumentations


def train_pipeline(recipe: Recipe, image_size: int) -> A.Compose:
    """Train-time augmentation: RandomResizedCrop + flip (+ the recipe's extras) + normalise."""
    A = _albumentations()

    ops: list[Any] = [
        A.RandomResizedCrop(size=(image_size, image_size), scale=recipe.scale),
        A.HorizontalFlip(p=recipe.hflip),
    ]
    if recipe.augment == "three_augment":
        ops += [
            A.OneOf([A.ToGray(p=1.0), A.Solarize(p=1.0), A.GaussianBlur(p=1.0)], p=1.0),
            A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.0, p=1.0),
        ]
    elif recipe.augment == "randaug":
        ops.append(
            A.SomeOf(
                [
                    A.Affine(rotate=(-27, 27), p=1.0),
                    A.Affine(shear=(-16, 16), p=1.0),
                    A.Affine(translate_percent=(-0.2, 0.2), p=1.0),
                    A.Equalize(p=1.0),
                    A.Posterize(num_bits=(4, 8), p=1.0),
                    A.Solarize(p=1.0),
                    A.RandomBrightnessContrast(0.4, 0.4, p=1.0),
                    A.HueSaturationValue(0, 40, 0, p=1.0),
                    A.Sharpen(p=1.0),
                    A.AutoContrast(p=1.0),
                ],
                n=2,
                p=1.0,
            )
        )
    ops.append(A.Normalize(mean=recipe.mean, std=recipe.std, max_pixel_value=255.0))
    return A.Compose(ops, seed=0)


def eval_pipeline(recipe: Recipe, image_size: int) -> A.Compose:
    """Evaluation: resize the shorter side to ``image_size / crop_pct``, centre crop, normalise."""
    A = _albumentations()

    resize = round(image_size / recipe.crop_pct)
    return A.Compose(
        [
            A.SmallestMaxSize(max_size=resize),
            A.CenterCrop(height=image_size, width=image_size),
            A.Normalize(mean=recipe.mean, std=recipe.std, max_pixel_value=255.0),
        ],
        seed=0,
    )


def seed_pipeline(pipeline: A.Compose, seed: int, epoch: int, index: int) -> None:
    """Point every transform of ``pipeline`` at generators seeded with ``(seed, epoch, index)``."""
    import numpy as np

    ss = np.random.SeedSequence([seed, epoch, index])
    state = ss.generate_state(2, dtype=np.uint64)
    pipeline.set_random_state(
        np.random.Generator(np.random.PCG64(int(state[0]))), random.Random(int(state[1]))
    )


def mix_batch(
    images: Any,
    targets: Any,
    *,
    num_classes: int,
    mixup_alpha: float,
    cutmix_alpha: float,
    label_smoothing: float,
    rng: np.random.Generator,
) -> tuple[Any, Any]:
    """Mixup or CutMix on a batch, with soft targets (the recipes of ConvNeXt and DeiT-III).

    Args:
        images: (B, C, H, W) float tensor.
        targets: (B,) integer labels.
        num_classes: classes of the one-hot targets.
        mixup_alpha: Beta parameter of mixup (0: off).
        cutmix_alpha: Beta parameter of cutmix (0: off).
        label_smoothing: smoothing applied to the one-hot targets before mixing.
        rng: seeded generator (the caller seeds it per step).

    Returns:
        Mixed images (B, C, H, W) and soft targets (B, num_classes).
    """
    import torch

    off = label_smoothing / num_classes
    one_hot = torch.full((targets.shape[0], num_classes), off, device=targets.device)
    one_hot.scatter_(1, targets[:, None], 1.0 - label_smoothing + off)
    use_cutmix = cutmix_alpha > 0 and (mixup_alpha <= 0 or rng.random() < 0.5)
    alpha = cutmix_alpha if use_cutmix else mixup_alpha
    if alpha <= 0:
        return images, one_hot
    lam = float(rng.beta(alpha, alpha))
    perm = torch.as_tensor(rng.permutation(images.shape[0]), device=images.device)
    if use_cutmix:
        h, w = images.shape[-2:]
        cut = (1.0 - lam) ** 0.5
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        images = images.clone()
        images[:, :, y0:y1, x0:x1] = images[perm][:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        images = images * lam + images[perm] * (1.0 - lam)
    return images, one_hot * lam + one_hot[perm] * (1.0 - lam)
