"""Public verbs of the zoo: build, count, list, describe."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vvshub import study
from vvshub.errors import CountError, VariantError
from vvshub.study import STUDY_DEPTHS
from vvshub.zoo._count import CONVENTION, Count, count_module
from vvshub.zoo._init import fast_init
from vvshub.zoo._registry import BASES, DEFAULT_INPUT_SIZE, Recipe, resolve

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "STUDY_DEPTHS",
    "ArchInfo",
    "arch_info",
    "build",
    "count",
    "list_archs",
    "recipe",
    "variant_name",
]

logger = logging.getLogger(__name__)


def variant_name(
    arch: str, *, width: float | None = None, depth: tuple[int, ...] | list[int] | None = None
) -> str:
    """The canonical name of ``arch`` at another width multiplier and/or depth.

    Args:
        arch: a base architecture (``resnet18``, ``convnext_tiny``, ``deit_small`` ...).
        width: channel-width multiplier (> 0); ``None`` keeps the architecture's.
        depth: blocks per stage (one number for a ViT); ``None`` keeps the architecture's.

    Raises:
        VariantError: a width that is not positive, a negative or non-integer block count, or
            no blocks at all (nothing is built).

    Example:
        >>> variant_name("resnet18", width=0.5)
        'resnet18_w0.5'
        >>> variant_name("deit_small", width=0.5, depth=[6])
        'deit_small_w0.5_dp6'
    """
    from vvshub.ids import variant

    if width is None and depth is None:
        return resolve(arch).arch
    if depth is not None and any(not isinstance(d, int) or isinstance(d, bool) for d in depth):
        raise VariantError(f"{arch!r}: block counts must be integers, got {list(depth)!r}")
    base = resolve(arch).base
    spec = variant(
        base,
        width=float(width) if width is not None else None,
        depth=tuple(depth) if depth is not None else None,
    )
    return spec.name


def recipe(arch: str) -> Recipe:
    """How ``arch`` is built in timm: architecture name and ``model_args``.

    These two fields are what a checkpoint's ``config.json`` needs for
    ``timm.create_model`` to rebuild the model.

    Args:
        arch: an architecture name (study or vvshub spelling) or a model id.

    Raises:
        UnknownArchitectureError: not a zoo architecture nor a timm one.
        VariantError: an impossible width or depth.

    Example:
        >>> r = recipe("convnextflex-l-2")
        >>> (r.timm_name, r.model_args["dims"])
        ('convnext_tiny', [24, 40, 80, 160])
    """
    return resolve(arch)


def build(
    model_id_or_arch: str | Recipe,
    *,
    num_classes: int = study.DATASETS[study.DEFAULT_DATASET].n_classes,
    width: float | None = None,
    depth: tuple[int, ...] | list[int] | None = None,
    device: str | torch.device | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a randomly initialised zoo model, through timm.

    Args:
        model_id_or_arch: an architecture (``resnet18``, ``resnetflexfilters-f-1-16-20-11``,
            ``convnextflex-l-2``, ``deitflex-l-0``, ``cornet_s``, ``resnet18_w0.5``,
            ``resnet18_dp1-2-2-1`` ...), a model id (``resnet18_imagenet_10_seed-1``,
            ``resnet18_w0.5_d30``), or a :class:`Recipe` already resolved.
        num_classes: classifier outputs (the study: 1000 for ImageNet, 565 for EcoSet).
        width: build the architecture at this width multiplier instead (see :func:`variant_name`).
        depth: build it with these blocks per stage instead.
        device: where to allocate; ``"meta"`` builds shapes only (instant, for counting).
        **kwargs: extra timm arguments (``drop_path_rate`` ...), applied over the recipe's.

    Returns:
        The model, in training mode, with random weights (never pretrained ones).

    Raises:
        UnknownArchitectureError: the name is not a zoo or timm architecture; the error lists
            the closest names.
        VariantError: an impossible variant (zero width, negative depth, no blocks), raised
            before any tensor is allocated.

    Example:
        >>> model = build("resnetflexfilters-f-1-16-20-19")
        >>> sum(p.numel() for p in model.parameters())
        241712
    """
    if not isinstance(num_classes, int) or num_classes < 0:
        raise VariantError(f"num_classes must be a non-negative integer, got {num_classes!r}")
    if isinstance(model_id_or_arch, Recipe):
        if width is not None or depth is not None:
            raise VariantError("pass width/depth with an architecture name, not with a Recipe")
        r = model_id_or_arch
    else:
        if width is not None or depth is not None:
            model_id_or_arch = variant_name(model_id_or_arch, width=width, depth=depth)
        r = resolve(model_id_or_arch)
    import timm
    import torch

    from vvshub.zoo._hook import register_timm_models

    register_timm_models()
    args = {**dict(r.model_args), **kwargs}
    base = BASES.get(r.base)
    if device is None or torch.device(device).type != "meta":
        target = torch.device(device) if device is not None else torch.device("cpu")
        if base is not None and base.kind in ("vit", "convnext"):
            # Shapes on meta, then one initialisation pass (see _init): 3-4x faster than timm's.
            with torch.device("meta"):
                shell = timm.create_model(
                    r.timm_name, pretrained=False, num_classes=num_classes, **args
                )
            model = fast_init(shell, base.kind, args, target)
            if model is not None:
                model.vvshub_arch = r.arch  # type: ignore[assignment]
                return model
            logger.debug("fast initialisation declined for %s; using timm's", r.arch)
        with target:
            model = timm.create_model(
                r.timm_name, pretrained=False, num_classes=num_classes, **args
            )
    else:
        with torch.device("meta"):
            model = timm.create_model(
                r.timm_name, pretrained=False, num_classes=num_classes, **args
            )
    model.vvshub_arch = r.arch  # type: ignore[assignment]
    return model


def count(model: nn.Module | str | Recipe, image_size: int | None = None) -> Count:
    """Parameters, MACs and FLOPs of one image, under the study's conventions.

    Args:
        model: a module, or an architecture name / model id / :class:`Recipe` (then counted on
            the ``meta`` device: no weights are allocated, so even DeiT-L takes a fraction of a
            second).
        image_size: input side; default: the architecture's (224 for every zoo model).

    Returns:
        ``Count(n_params, macs, flops, image_size, convention)``.

    Example:
        >>> c = count("resnet18")
        >>> (c.n_params, c.macs)
        (11689512, 1826516992)
    """
    if image_size is not None:
        _check_image_size(image_size)
    if isinstance(model, (str, Recipe)):
        r = model if isinstance(model, Recipe) else resolve(model)
        return count_module(build(r, device="meta"), image_size or r.input_size)
    return count_module(model, image_size or DEFAULT_INPUT_SIZE)


def _check_image_size(image_size: object) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 1:
        raise CountError(
            f"image size must be a positive number of pixels, got {image_size!r}; "
            "omit it for the architecture's own (224 for most)"
        )


def list_archs() -> list[str]:
    """Names of the zoo's architectures: the study's trained grid, base names first.

    vvshub's continuous variants (``resnet18_w0.5`` ...) are unbounded and built on demand,
    so they are not listed.

    Example:
        >>> "resnetflexfilters-f-1-16-20-11" in list_archs()
        True
    """
    return [*BASES, *study.study_arch_names()]


@dataclass(frozen=True)
class ArchInfo:
    """What ``vvshub zoo info`` reports for one architecture.

    Attributes:
        arch: canonical name.
        family: the study's ``arch_family`` (``ResNetFlex`` for scaled ResNets).
        n_params: parameters of the 1000-class model.
        macs: multiply-accumulates of one image at ``input_size``.
        flops: ``2 * macs``.
        input_size: default input side.
        convention: counting convention.
        timm_name: timm architecture.
        model_args: timm constructor arguments.
        base: base architecture.
        width: width multiplier, if scaled.
        depth: blocks per stage, if scaled.
    """

    arch: str
    family: str
    n_params: int
    macs: int
    flops: int
    input_size: int
    convention: str
    timm_name: str
    model_args: dict[str, Any] = field(default_factory=dict)
    base: str | None = None
    width: float | None = None
    depth: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON)."""
        return {
            "arch": self.arch,
            "family": self.family,
            "n_params": self.n_params,
            "macs": self.macs,
            "flops": self.flops,
            "input_size": self.input_size,
            "convention": self.convention,
            "timm_name": self.timm_name,
            "model_args": self.model_args,
            "base": self.base,
            "width": self.width,
            "depth": list(self.depth) if self.depth is not None else None,
        }


def arch_info(arch: str | Recipe, *, image_size: int | None = None) -> ArchInfo:
    """Family, counts and timm recipe of one architecture.

    Args:
        arch: architecture name, model id or resolved :class:`Recipe`.
        image_size: input side for the counts (default: the architecture's).

    Raises:
        UnknownArchitectureError: not a zoo architecture nor a timm one.
        VariantError: an impossible variant.
        CountError: an image size that is not a positive integer, or one the model cannot take.

    Example:
        >>> arch_info("cornet_s").n_params
        53416616
    """
    r = resolve(arch)
    c = count(r, image_size)
    return ArchInfo(
        arch=r.arch,
        family=r.family,
        n_params=c.n_params,
        macs=c.macs,
        flops=c.flops,
        input_size=c.image_size,
        convention=CONVENTION,
        timm_name=r.timm_name,
        model_args=r.to_dict()["model_args"],
        base=r.base,
        width=r.width,
        depth=r.depth,
    )
