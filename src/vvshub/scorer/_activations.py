"""Activations of any ``nn.Module`` at named layers, batched, hooked, projected, cached.

Candidate layers are the blocks of a network: every child of a container whose
children are numbered blocks of one kind (``layer3.1`` in a ResNet, ``stages.2.blocks.4``
in a ConvNeXt, ``blocks.7`` in a ViT, ``blocks.3.1`` in an EfficientNet). When a
network has more blocks than ``max_layers``, the last block of each container (the
stage outputs) is used instead. ``pre_logits`` is the penultimate representation
(timm's ``forward_head(pre_logits=True)``, else the input of the last linear layer);
the behavioural readout uses it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.errors import LayerNotFoundError, StimulusDecodeError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from vvshub.scorer._data import StimulusSet

__all__ = [
    "EXTRACTOR_VERSION",
    "PRE_LOGITS",
    "Preprocessing",
    "candidate_layers",
    "extract",
    "preprocessing_for",
    "resolve_device",
]

logger = logging.getLogger(__name__)

#: Bumped whenever extraction changes what a layer's features are (part of cache keys).
EXTRACTOR_VERSION = "1"
#: Name of the penultimate (pre-classifier) representation.
PRE_LOGITS = "pre_logits"
#: Layers whose features on a stimulus set would take more than this many bytes are kept as
#: a sparse random projection instead (see :func:`extract`).
FULL_FEATURE_BUDGET = 1_500_000_000


@dataclass(frozen=True)
class Preprocessing:
    """How images become tensors: resize, centre crop, normalise.

    Attributes:
        resize: shorter side after resizing.
        crop: side of the centre crop (the input size).
        mean, std: per-channel normalisation.
        interpolation: ``bilinear`` or ``bicubic``.
        source: ``vvshub`` (the study's: 256 -> 224, ImageNet statistics) or ``timm``
            (a pretrained model's own data config).
    """

    resize: int = 256
    crop: int = 224
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"
    source: str = "vvshub"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (recorded with every score)."""
        return asdict(self)

    def key(self) -> str:
        """A stable text form (part of the activation cache key)."""
        return (
            f"{self.source}:{self.resize}:{self.crop}:{self.interpolation}:"
            f"{','.join(map(str, self.mean))}:{','.join(map(str, self.std))}"
        )


def preprocessing_for(model: nn.Module, *, pretrained: bool) -> Preprocessing:
    """The study's preprocessing, or a pretrained timm model's own data config."""
    cfg = getattr(model, "pretrained_cfg", None)
    if not pretrained or not cfg:
        return Preprocessing()
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    crop_pct = float(cfg.get("crop_pct", 0.875) or 0.875)
    return Preprocessing(
        resize=round(size / crop_pct),
        crop=size,
        mean=tuple(float(v) for v in cfg.get("mean", Preprocessing.mean)),  # type: ignore[arg-type]
        std=tuple(float(v) for v in cfg.get("std", Preprocessing.std)),  # type: ignore[arg-type]
        interpolation=str(cfg.get("interpolation", "bicubic")),
        source="timm",
    )


def resolve_device(device: str | None) -> torch.device:
    """``device`` or CUDA when present, else CPU."""
    import torch

    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _block_containers(model: nn.Module) -> list[tuple[str, list[str]]]:
    """(container name, [child names]) for containers of numbered blocks of one kind."""
    from torch import nn

    found = []
    for name, module in model.named_modules():
        children = list(module.named_children())
        if len(children) < 1 or not isinstance(module, (nn.Sequential, nn.ModuleList)):
            continue
        if not all(c.isdigit() for c, _ in children):
            continue
        kinds = {type(m) for _, m in children}
        if len(kinds) != 1:
            continue
        child = children[0][1]
        if not any(True for _ in child.parameters()) or isinstance(
            child, (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.LayerNorm, nn.ReLU)
        ):
            continue
        found.append((name, [f"{name}.{c}" if name else c for c, _ in children]))
    # Keep the outermost containers only (an EfficientNet's `blocks` holds numbered stages).
    names = [n for n, _ in found]
    outer = []
    for n, kids in found:
        if any(kid in names for kid in kids):
            continue
        outer.append((n, kids))
    return outer


def candidate_layers(model: nn.Module, *, max_layers: int = 24) -> list[str]:
    """Layers scored for region commitment, in forward order.

    Args:
        model: any torch module.
        max_layers: above this many blocks, use the stage outputs (each container's last block).

    Returns:
        Module names; ``pre_logits`` is not included (it is the behavioural readout).

    Example:
        >>> import timm
        >>> candidate_layers(timm.create_model("resnet18"))[:3]
        ['layer1.0', 'layer1.1', 'layer2.0']
    """
    containers = _block_containers(model)
    blocks = [kid for _, kids in containers for kid in kids]
    if len(blocks) > max_layers:
        blocks = [kids[-1] for _, kids in containers]
    if not blocks:  # no repeated blocks: the top-level children with parameters
        blocks = [
            n
            for n, m in model.named_children()
            if any(True for _ in m.parameters()) and n not in ("fc", "head", "classifier")
        ]
    return blocks


def _check_layers(model: nn.Module, layers: Sequence[str]) -> None:
    names = dict(model.named_modules())
    for layer in layers:
        if layer != PRE_LOGITS and layer not in names:
            valid = candidate_layers(model)
            raise LayerNotFoundError(
                f"layer {layer!r} is not in the model; candidate layers: {', '.join(valid)} "
                "(any module name works; list them with `vvshub score MODEL --list-layers`)",
                layer=layer,
                valid=valid,
            )


def _transform(pre: Preprocessing):
    from torchvision import transforms

    interp = {
        "bilinear": transforms.InterpolationMode.BILINEAR,
        "bicubic": transforms.InterpolationMode.BICUBIC,
    }.get(pre.interpolation, transforms.InterpolationMode.BILINEAR)
    return transforms.Compose(
        [
            transforms.Resize(pre.resize, interpolation=interp),
            transforms.CenterCrop(pre.crop),
            transforms.ToTensor(),
            transforms.Normalize(pre.mean, pre.std),
        ]
    )


def decode_image(data: bytes, stimulus_id: str):
    """Decode image bytes to an RGB PIL image, or raise :class:`StimulusDecodeError`."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise StimulusDecodeError(
            f"stimulus {stimulus_id!r} cannot be decoded as an image ({exc}); replace or "
            "remove the file",
            stimulus_id=stimulus_id,
        ) from None
    return img.convert("RGB")


def _pre_logits_fn(model: nn.Module):
    """A function computing the penultimate features, and the module to hook if not timm."""
    if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
        return lambda x: model.forward_head(model.forward_features(x), pre_logits=True)
    return None


def _last_linear(model: nn.Module) -> str:
    from torch import nn

    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = name
    if last is None:
        raise LayerNotFoundError(
            "the model has no linear classifier, so it has no pre_logits layer; pass a layer",
            layer=PRE_LOGITS,
        )
    return last


def extract(
    model: nn.Module,
    stimuli: StimulusSet,
    layers: Sequence[str],
    *,
    preprocessing: Preprocessing | None = None,
    batch_size: int = 32,
    device: str | None = None,
    precision: str = "auto",
    project: dict[str, Any] | None = None,
    progress: str | None = None,
) -> dict[str, np.ndarray]:
    """Features of ``stimuli`` at ``layers``, flattened to (n_stimuli, n_features).

    Args:
        model: any torch module (put in eval mode here).
        stimuli: the images.
        layers: module names, or ``pre_logits``.
        preprocessing: default: the study's (256 -> 224, ImageNet statistics).
        batch_size: images per forward pass.
        device: ``cuda``/``cpu``; default CUDA when present.
        precision: ``auto`` (bf16 autocast on CUDA, fp32 on CPU), ``fp32``, ``fp16``, ``bf16``.
        project: layer -> a projection with ``.apply(batch) -> (batch, k)`` applied as each
            batch arrives (huge layers never sit in memory in full).
        progress: progress-bar description; None for no bar.

    Returns:
        Layer -> float32 array of shape (n_stimuli, n_features).

    Raises:
        LayerNotFoundError: a layer that is not in the model (lists the candidates).
        StimulusDecodeError: an image that cannot be decoded.
    """
    import torch

    from vvshub._progress import track

    _check_layers(model, layers)
    pre = preprocessing or Preprocessing()
    dev = resolve_device(device)
    model = model.eval().to(dev)
    transform = _transform(pre)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    if precision == "auto" and dev.type == "cuda":
        dtype = torch.bfloat16
    captured: dict[str, torch.Tensor] = {}
    handles = []
    modules = dict(model.named_modules())
    pre_fn = _pre_logits_fn(model) if PRE_LOGITS in layers else None
    hooked = {layer: layer for layer in layers if layer != PRE_LOGITS}
    if PRE_LOGITS in layers and pre_fn is None:
        hooked[PRE_LOGITS] = _last_linear(model)

    def hook_for(name: str, pre_input: bool):
        def hook(_m, inputs, output):
            value = inputs[0] if pre_input else output
            if isinstance(value, (tuple, list)):
                value = value[0]
            captured[name] = value.detach()

        return hook

    for name, module_name in hooked.items():
        pre_input = name == PRE_LOGITS
        handles.append(modules[module_name].register_forward_hook(hook_for(name, pre_input)))
    out: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    batches = range(0, len(stimuli), batch_size)
    try:
        iterator = track(batches, description=progress) if progress else batches
        for start in iterator:
            idx = range(start, min(start + batch_size, len(stimuli)))
            images = torch.stack(
                [transform(decode_image(stimuli.load(i), stimuli.stimulus_ids[i])) for i in idx]
            ).to(dev)
            captured.clear()
            with torch.no_grad(), torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                if pre_fn is not None:
                    captured[PRE_LOGITS] = pre_fn(images).detach()
                    # hooks inside forward_features fired already; run the rest only if needed
                    missing = [layer for layer in hooked if layer not in captured]
                    if missing:
                        model(images)
                else:
                    model(images)
            for layer in layers:
                value = captured[layer].float().flatten(1)
                if project and layer in project:
                    value = project[layer].apply(value)
                out[layer].append(value.cpu().numpy().astype(np.float32, copy=False))
    finally:
        for h in handles:
            h.remove()
    return {layer: np.concatenate(chunks) for layer, chunks in out.items()}


def layer_sizes(
    model: nn.Module, layers: Sequence[str], *, preprocessing: Preprocessing | None = None
) -> dict[str, int]:
    """Number of features of each layer for one image (one forward pass of a blank image)."""
    import torch

    _check_layers(model, layers)
    pre = preprocessing or Preprocessing()
    sizes: dict[str, int] = {}
    modules = dict(model.named_modules())
    handles = []
    for layer in layers:
        if layer == PRE_LOGITS:
            continue

        def hook(_m, _i, output, _layer=layer):
            value = output[0] if isinstance(output, (tuple, list)) else output
            sizes[_layer] = int(value[0].numel())

        handles.append(modules[layer].register_forward_hook(hook))
    try:
        dev = next((p.device for p in model.parameters()), torch.device("cpu"))
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, pre.crop, pre.crop, device=dev))
    finally:
        for h in handles:
            h.remove()
    return sizes
