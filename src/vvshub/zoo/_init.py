"""Fast random initialisation for the zoo's transformer and ConvNeXt models.

timm builds a model by first running PyTorch's default initialisation in every layer's
constructor, then overwriting the weights with its own truncated normals (five passes
over memory each: uniform, erfinv, scale, shift, clamp). For DeiT-L (304M parameters)
that takes 5-7 s on a 2-core CPU. vvshub builds ViTs and ConvNeXts on the ``meta``
device (shapes only), allocates the storage once and fills it in one pass per tensor
with the *same distributions* timm uses:

* linear and convolution weights: normal with std 0.02 truncated at +-2 (timm's
  bounds are absolute, i.e. 100 standard deviations, so a plain normal draw is the same
  distribution), biases zero; the ConvNeXt classifier scaled by ``head_init_scale``;
* norms: their own ``reset_parameters`` (ones and zeros);
* layer scales: the ``init_values`` / ``ls_init_value`` constant;
* ViT position embedding: normal std 0.02; class token: normal std 1e-6;
* ViT patch embedding: PyTorch's default convolution init, as in timm.

The random stream differs from timm's, so a seed gives other (equally distributed)
weights than ``timm.create_model`` under the same seed. Any parameter or buffer this
module does not know makes :func:`fast_init` decline, and the caller falls back to
timm's own initialisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["fast_init"]

_STD = 0.02
#: Independent random streams the fills are spread over (fixed, so results do not depend on cores).
_GROUPS = 4


def fast_init(
    model: nn.Module, kind: str, model_args: dict[str, Any], device: torch.device
) -> nn.Module | None:
    """Allocate ``model`` (built on ``meta``) on ``device`` and initialise it like timm.

    Args:
        model: a timm ``VisionTransformer`` (``kind="vit"``) or ``ConvNeXt`` (``"convnext"``)
            whose tensors live on the meta device.
        kind: ``vit`` or ``convnext``.
        model_args: the arguments it was built with (for layer-scale and head scales).
        device: where to allocate.

    Returns:
        The initialised model, or ``None`` when a tensor is not covered (then build it with timm).
    """

    if any(True for _ in model.buffers()):
        return None
    if kind == "vit":
        plan = _vit_plan(model, model_args)
    elif kind == "convnext":
        plan = _convnext_plan(model, model_args)
    else:
        return None
    if plan is None:
        return None
    model = model.to_empty(device=device)
    _run(plan, device)
    return model


def _run(plan: list[tuple[int, Callable[..., Any]]], device: torch.device) -> None:
    """Run the fills: global-RNG ones in order here, the others spread over ``_GROUPS`` seeded
    generators (deterministic under ``torch.manual_seed`` whatever the thread count)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import torch

    seeds = torch.randint(0, 2**62, (_GROUPS,)).tolist()
    groups: list[list[Callable[..., Any]]] = [[] for _ in range(_GROUPS)]
    loads = [0] * _GROUPS
    with torch.no_grad():
        for size, action in plan:
            if size == 0:  # uses the global generator or none: keep the order
                action()
                continue
            i = loads.index(min(loads))
            groups[i].append(action)
            loads[i] += size

    def fill(index: int) -> None:
        gen = torch.Generator(device=device).manual_seed(seeds[index])
        with torch.no_grad():
            for action in groups[index]:
                action(gen)

    workers = max(1, min(_GROUPS, os.cpu_count() or 1)) if device.type == "cpu" else 1
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fill, range(_GROUPS)))


def _vit_plan(
    model: nn.Module, model_args: dict[str, Any]
) -> list[tuple[int, Callable[..., Any]]] | None:
    from timm.layers import LayerScale
    from torch import nn

    init_values = model_args.get("init_values")
    plan: list[tuple[int, Callable[..., Any]]] = []
    covered: set[int] = set()

    def add(param: Any, action: Any, *, random: bool = True) -> None:
        covered.add(id(param))
        plan.append((param.numel() if random else 0, action))

    for name in ("pos_embed",):
        p = getattr(model, name, None)
        if p is not None:
            add(p, lambda g, n=name: getattr(model, n).normal_(0.0, _STD, generator=g))
    for name in ("cls_token", "reg_token"):
        p = getattr(model, name, None)
        if p is not None:
            add(p, lambda g, n=name: getattr(model, n).normal_(0.0, 1e-6, generator=g))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            add(m.weight, lambda g, m=m: m.weight.normal_(0.0, _STD, generator=g))
            if m.bias is not None:
                add(m.bias, lambda m=m: m.bias.zero_(), random=False)
        elif isinstance(m, LayerScale):
            if init_values is None:
                return None
            add(m.gamma, lambda m=m: m.gamma.fill_(float(init_values)), random=False)
        elif isinstance(m, (nn.LayerNorm, nn.Conv2d)):
            for p in m.parameters(recurse=False):
                covered.add(id(p))
            plan.append((0, m.reset_parameters))
    if any(id(p) not in covered for p in model.parameters()):
        return None
    return plan


def _convnext_plan(
    model: nn.Module, model_args: dict[str, Any]
) -> list[tuple[int, Callable[..., Any]]] | None:
    from timm.models.convnext import ConvNeXtBlock
    from torch import nn

    ls_init_value = model_args.get("ls_init_value", 1e-6)
    head_scale = float(model_args.get("head_init_scale", 1.0))
    plan: list[tuple[int, Callable[..., Any]]] = []
    covered: set[int] = set()

    def add(param: Any, action: Any, *, random: bool = True) -> None:
        covered.add(id(param))
        plan.append((param.numel() if random else 0, action))

    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            scale = head_scale if name.startswith("head.") else 1.0
            add(m.weight, lambda g, m=m, s=scale: m.weight.normal_(0.0, _STD * s, generator=g))
            if m.bias is not None:
                add(m.bias, lambda m=m: m.bias.zero_(), random=False)
        elif isinstance(m, nn.LayerNorm):
            for p in m.parameters(recurse=False):
                covered.add(id(p))
            plan.append((0, m.reset_parameters))
        elif isinstance(m, ConvNeXtBlock) and m.gamma is not None:
            if ls_init_value is None:
                return None
            add(m.gamma, lambda m=m: m.gamma.fill_(float(ls_init_value)), random=False)
    if any(id(p) not in covered for p in model.parameters()):
        return None
    return plan
