"""Layer names: the study's (torchvision-style) paths and the zoo's timm modules.

The study trained ResNets, EfficientNets and ConvNeXts from torchvision's definitions,
so its layer commitments (``commitments.json``) name torchvision modules such as
``layer3.0.relu`` or ``features.5.4.block.0``. The zoo builds the same networks in timm,
whose modules are named differently. :func:`to_timm_layer` maps a study name onto the
timm module whose output holds the same values; :func:`from_timm_layer` goes back.
DeiT-III, AlexNet and CORnet-S keep their names (timm's, or vvshub's torchvision-layout
modules).

Notes on the correspondences:

* torchvision's ResNet blocks reuse one ``relu`` module; a forward hook on it keeps its
  last call, the block's output after the residual addition. That is timm's ``act2``
  (basic blocks) or ``act3`` (bottlenecks); the top-level ``relu`` is timm's ``act1``.
* torchvision's ``Conv2dNormActivation`` is (conv, norm, activation); timm fuses the
  last two into ``BatchNormAct2d``, whose ``drop`` child (an identity) sees the
  normalised, not yet activated values and whose output is the activated ones.
* In a torchvision ConvNeXt block, ``block.1`` and ``block.6`` are permutations of the
  neighbouring modules' outputs (same values, channels-last order); they map to
  ``conv_dw`` and ``mlp.fc2``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vvshub.errors import LayerError

__all__ = ["from_study_state_dict", "from_timm_layer", "to_timm_layer"]


class _NoEquivalent(ValueError):
    pass


def _resnet_to_timm(layer: str, *, bottleneck: bool) -> str:
    if layer == "relu":
        return "act1"
    if layer == "avgpool":
        return "global_pool"
    m = re.fullmatch(r"(layer\d+\.\d+)\.relu", layer)
    if m:
        return f"{m[1]}.{'act3' if bottleneck else 'act2'}"
    return layer


def _resnet_from_timm(layer: str, *, bottleneck: bool) -> str:
    if layer == "act1":
        return "relu"
    if layer in ("global_pool", "global_pool.pool"):
        return "avgpool"
    m = re.fullmatch(r"(layer\d+\.\d+)\.act(\d)", layer)
    if m:
        if m[2] == ("3" if bottleneck else "2"):
            return f"{m[1]}.relu"
        raise _NoEquivalent(
            f"{layer!r} is an inner activation; torchvision reuses one 'relu' per block, whose "
            "hooked output is the block's output"
        )
    return layer


_CONVNEXT_BLOCK = {
    "0": "conv_dw",
    "1": "conv_dw",
    "2": "norm",
    "3": "mlp.fc1",
    "4": "mlp.act",
    "5": "mlp.fc2",
    "6": "mlp.fc2",
}
_CONVNEXT_HEAD = {"avgpool": "head.global_pool", "classifier": "head", "classifier.0": "head.norm",
                  "classifier.1": "head.flatten", "classifier.2": "head.fc"}  # fmt: skip


def _convnext_to_timm(layer: str) -> str:
    if layer in _CONVNEXT_HEAD:
        return _CONVNEXT_HEAD[layer]
    m = re.fullmatch(r"features\.(\d+)(?:\.(.*))?", layer)
    if not m:
        raise _NoEquivalent(f"{layer!r} is not a torchvision ConvNeXt module")
    index, rest = int(m[1]), m[2]
    if index > 7:
        raise _NoEquivalent(f"{layer!r}: torchvision ConvNeXt has features.0 to features.7")
    if index == 0:
        return "stem" + (f".{rest}" if rest else "")
    stage = (index - 1) // 2
    if index % 2 == 0:  # features.2/4/6: downsampling (norm, conv) before stage 1/2/3
        return f"stages.{index // 2}.downsample" + (f".{rest}" if rest else "")
    prefix = f"stages.{stage}.blocks"
    if not rest:
        return prefix
    b = re.fullmatch(r"(\d+)(?:\.(block|stochastic_depth)(?:\.(\d+))?)?", rest)
    if not b:
        raise _NoEquivalent(f"{layer!r} has no timm equivalent")
    block = f"{prefix}.{b[1]}"
    if b[2] is None:
        return block
    if b[2] == "stochastic_depth":
        return f"{block}.drop_path"
    return f"{block}.{_CONVNEXT_BLOCK[b[3]] if b[3] is not None else 'mlp.fc2'}"


def _convnext_from_timm(layer: str) -> str:
    inverse_head = {v: k for k, v in _CONVNEXT_HEAD.items()}
    if layer in inverse_head:
        return inverse_head[layer]
    if layer == "head.global_pool.pool":
        return "avgpool"
    m = re.fullmatch(r"stem(?:\.(.*))?", layer)
    if m:
        return "features.0" + (f".{m[1]}" if m[1] else "")
    m = re.fullmatch(r"stages\.(\d+)\.downsample(?:\.(.*))?", layer)
    if m:
        if m[1] == "0":
            raise _NoEquivalent("stage 0 has no downsampling layer (the stem does it)")
        return f"features.{2 * int(m[1])}" + (f".{m[2]}" if m[2] else "")
    m = re.fullmatch(r"stages\.(\d+)(?:\.blocks(?:\.(\d+)(?:\.(.*))?)?)?", layer)
    if not m:
        raise _NoEquivalent(f"{layer!r} is not a timm ConvNeXt module")
    feature = f"features.{2 * int(m[1]) + 1}"
    if m[2] is None:
        return feature
    block = f"{feature}.{m[2]}"
    if m[3] is None:
        return block
    if m[3] == "drop_path":
        return f"{block}.stochastic_depth"
    inverse = {"conv_dw": "0", "norm": "2", "mlp.fc1": "3", "mlp.act": "4", "mlp.fc2": "5"}
    if m[3] not in inverse:
        raise _NoEquivalent(f"{layer!r} has no torchvision equivalent")
    return f"{block}.block.{inverse[m[3]]}"


# torchvision EfficientNet: block parts per kind of block, and the timm modules they become.
_DS_PARTS = {"0": "bn1", "0.0": "conv_dw", "0.1": "bn1.drop", "0.2": "bn1.act", "1": "se", "2": "bn2",
             "2.0": "conv_pw", "2.1": "bn2"}  # fmt: skip
_IR_PARTS = {"0": "bn1", "0.0": "conv_pw", "0.1": "bn1.drop", "0.2": "bn1.act", "1": "bn2", "1.0": "conv_dw",
             "1.1": "bn2.drop", "1.2": "bn2.act", "2": "se", "3": "bn3", "3.0": "conv_pwl", "3.1": "bn3"}  # fmt: skip
_SE_PARTS = {
    "fc1": "conv_reduce",
    "activation": "act1",
    "fc2": "conv_expand",
    "scale_activation": "gate",
}
_EFF_TOP = {"features.0": "bn1", "features.0.0": "conv_stem", "features.0.1": "bn1.drop", "features.0.2": "bn1.act",
            "features.8": "bn2", "features.8.0": "conv_head", "features.8.1": "bn2.drop", "features.8.2": "bn2.act",
            "avgpool": "global_pool", "classifier": "classifier", "classifier.1": "classifier"}  # fmt: skip


def _efficientnet_to_timm(layer: str) -> str:
    if layer in _EFF_TOP:
        return _EFF_TOP[layer]
    m = re.fullmatch(
        r"features\.([1-7])(?:\.(\d+)(?:\.(block|stochastic_depth)(?:\.(.*))?)?)?", layer
    )
    if not m:
        raise _NoEquivalent(f"{layer!r} has no timm equivalent")
    stage = int(m[1]) - 1
    out = f"blocks.{stage}"
    if m[2] is None:
        return out
    out += f".{m[2]}"
    if m[3] is None:
        return out
    if m[3] == "stochastic_depth":
        return f"{out}.drop_path"
    parts = _DS_PARTS if stage == 0 else _IR_PARTS
    if m[4] is None:  # the block's Sequential: its output is the projection's batch norm
        return f"{out}.{parts['2' if stage == 0 else '3']}"
    se_index = "1" if stage == 0 else "2"
    s = re.fullmatch(rf"{se_index}\.(\w+)", m[4])
    if s:
        if s[1] not in _SE_PARTS:
            raise _NoEquivalent(f"{layer!r}: timm's squeeze-excitation pools without a module")
        return f"{out}.se.{_SE_PARTS[s[1]]}"
    if m[4] not in parts:
        raise _NoEquivalent(f"{layer!r} has no timm equivalent")
    return f"{out}.{parts[m[4]]}"


def _efficientnet_from_timm(layer: str) -> str:
    top = {v: k for k, v in reversed(list(_EFF_TOP.items()))}
    top["global_pool.pool"] = "avgpool"
    if layer in top:
        return top[layer]
    m = re.fullmatch(r"blocks\.(\d+)(?:\.(\d+)(?:\.(.*))?)?", layer)
    if not m:
        raise _NoEquivalent(f"{layer!r} has no torchvision equivalent")
    stage = int(m[1])
    out = f"features.{stage + 1}"
    if m[2] is None:
        return out
    out += f".{m[2]}"
    if m[3] is None:
        return out
    if m[3] == "drop_path":
        return f"{out}.stochastic_depth"
    parts = _DS_PARTS if stage == 0 else _IR_PARTS
    se_index = "1" if stage == 0 else "2"
    s = re.fullmatch(r"se\.(\w+)", m[3])
    if s:
        inverse_se = {v: k for k, v in _SE_PARTS.items()}
        if s[1] not in inverse_se:
            raise _NoEquivalent(f"{layer!r} has no torchvision equivalent")
        return f"{out}.block.{se_index}.{inverse_se[s[1]]}"
    inverse = {}
    for k, v in parts.items():
        inverse.setdefault(v, k)
    last_bn = "bn2" if stage == 0 else "bn3"
    if m[3] == last_bn:
        return f"{out}.block.{'2' if stage == 0 else '3'}"
    if m[3] not in inverse:
        raise _NoEquivalent(f"{layer!r} has no torchvision equivalent")
    return f"{out}.block.{inverse[m[3]]}"


def _identity(layer: str) -> str:
    return layer


def _mappers(arch: str) -> tuple[Callable[[str], str], Callable[[str], str]]:
    from vvshub.zoo._registry import BASES, resolve

    r = resolve(arch)
    base = BASES.get(r.base)
    style = base.layer_style if base is not None else "timm"
    if style == "torchvision_resnet":
        bottleneck = r.base in ("resnet50", "resnet101", "resnet152")
        return (
            lambda s: _resnet_to_timm(s, bottleneck=bottleneck),
            lambda s: _resnet_from_timm(s, bottleneck=bottleneck),
        )
    if style == "torchvision_convnext":
        return _convnext_to_timm, _convnext_from_timm
    if style == "torchvision_efficientnet":
        return _efficientnet_to_timm, _efficientnet_from_timm
    return _identity, _identity


def to_timm_layer(arch: str, layer: str) -> str:
    """The zoo model's module that corresponds to a layer name of the study.

    Args:
        arch: the architecture (``resnet18``, ``convnextflex-l-2``, ``efficientnet_b0`` ...).
        layer: a layer path as the study's commitments spell it (``layer3.0.relu``).

    Returns:
        The module path in the timm model :func:`vvshub.zoo.build` returns.

    Raises:
        ValueError: the layer has no counterpart in the timm model.

    Example:
        >>> to_timm_layer("resnet18", "layer3.0.relu")
        'layer3.0.act2'
        >>> to_timm_layer("convnext_tiny", "features.5.4.block.0")
        'stages.2.blocks.4.conv_dw'
    """
    forward, _ = _mappers(arch)
    try:
        return forward(layer)
    except (_NoEquivalent, KeyError) as exc:
        raise LayerError(
            f"{arch}: no timm module corresponds to the study's layer {layer!r} ({exc})"
        ) from None


def from_timm_layer(arch: str, layer: str) -> str:
    """The study's (torchvision-style) name of a zoo model's module; inverse of :func:`to_timm_layer`.

    Example:
        >>> from_timm_layer("resnet50", "layer2.3.act3")
        'layer2.3.relu'
    """
    _, backward = _mappers(arch)
    try:
        return backward(layer)
    except (_NoEquivalent, KeyError) as exc:
        raise LayerError(
            f"{arch}: the study has no name for timm module {layer!r} ({exc})"
        ) from None


def from_study_state_dict(arch: str, state_dict: dict[str, Any]) -> dict[str, Any]:
    """Rename (and reshape) a state dict of the study's layout into the zoo's timm layout.

    The study's ResNets, EfficientNets and ConvNeXts are torchvision modules; the zoo's
    are timm's. ResNet, AlexNet, CORnet-S and DeiT-III keys are already the same. The
    result loads with ``load_state_dict(strict=True)`` into ``vvshub.zoo.build(arch)``.
    Strip any wrapper prefix (``model.``, ``module.``) first.

    Args:
        arch: the architecture the weights belong to.
        state_dict: tensors keyed by the study's parameter and buffer names.

    Returns:
        A new dict keyed by the zoo model's names (tensors are shared, not copied, except
        ConvNeXt layer scales, which timm stores as vectors rather than (C, 1, 1)).

    Raises:
        ValueError: a key has no counterpart in the timm model.

    Example:
        >>> import torchvision
        >>> sd = torchvision.models.convnext_tiny().state_dict()
        >>> "stages.2.blocks.4.gamma" in from_study_state_dict("convnext_tiny", sd)
        True
    """
    forward, _ = _mappers(arch)
    if forward is _identity:
        return dict(state_dict)
    converted: dict[str, Any] = {}
    for key, tensor in state_dict.items():
        module, _, param = key.rpartition(".")
        if param == "layer_scale":  # torchvision ConvNeXt: a (C, 1, 1) parameter of the block
            converted[f"{forward(module)}.gamma"] = tensor.reshape(-1)
            continue
        try:
            target = forward(module)
        except (_NoEquivalent, KeyError) as exc:
            raise LayerError(
                f"{arch}: no timm counterpart for the study's parameter {key!r} ({exc})"
            ) from None
        # Activation names point inside timm's BatchNormAct2d; its parameters live on the module.
        target = re.sub(r"\.(drop|act)$", "", target)
        converted[f"{target}.{param}"] = tensor
    return converted
