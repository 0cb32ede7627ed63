"""The zoo's table of base architectures, and how a name becomes a timm recipe.

Pure Python (no torch): the CLI's ``zoo ls`` and the model-id parser's callers read
it without paying for a torch import.

A :class:`Recipe` is everything needed to build a model in plain timm:
``timm.create_model(recipe.timm_name, num_classes=..., **recipe.model_args)``. The
same two fields go into a checkpoint's ``config.json`` (``architecture`` and
``model_args``), which is why every zoo checkpoint loads in timm.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from vvshub import study
from vvshub.errors import ModelIdError, UnknownArchitectureError, VariantError
from vvshub.study import study_widths

if TYPE_CHECKING:
    from vvshub.ids import ArchSpec, ModelId

Kind = Literal["resnet", "efficientnet", "convnext", "vit", "fixed"]
LayerStyle = Literal[
    "torchvision_resnet", "torchvision_convnext", "torchvision_efficientnet", "timm"
]

#: Input side (pixels) at which the study counted most architectures.
DEFAULT_INPUT_SIZE = 224


@dataclass(frozen=True)
class BaseArch:
    """One base architecture of the zoo.

    Attributes:
        name: the name the reference study uses in its ``arch`` column.
        family: the study's ``arch_family`` for the base (variants add ``Flex``).
        timm_name: the architecture in timm's registry that builds it.
        model_args: constructor arguments on top of ``timm_name``'s defaults.
        kind: which width/depth rule applies (``fixed``: no variants).
        stem_width: stem channels (ResNets) before any width multiplier.
        widths: stage channels (ResNet planes, ConvNeXt dims, ViT embedding dim).
        depths: blocks per stage (one entry for a ViT).
        num_heads: attention heads (ViTs).
        layer_style: how the study spelled its layer names (see ``_layers``).
        description: one line for ``zoo ls``.
        input_size: the input side the study's counts refer to (torchvision's default
            resolution for the architecture: 240 for EfficientNet-B1, 288 for B2, else 224).
    """

    name: str
    family: str
    timm_name: str
    kind: Kind
    model_args: Mapping[str, Any] = field(default_factory=dict)
    stem_width: int | None = None
    widths: tuple[int, ...] = ()
    depths: tuple[int, ...] = ()
    num_heads: int | None = None
    layer_style: LayerStyle = "timm"
    description: str = ""
    input_size: int = DEFAULT_INPUT_SIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_args", MappingProxyType(dict(self.model_args)))


def _resnet(name: str, depths: tuple[int, ...], block: str) -> BaseArch:
    return BaseArch(
        name=name,
        family=study.ARCH_FAMILIES[name],
        timm_name=name,
        kind="resnet",
        stem_width=64,
        widths=(64, 128, 256, 512),
        depths=depths,
        layer_style="torchvision_resnet",
        description=f"ResNet-{name[6:]} ({block} blocks {'-'.join(map(str, depths))})",
    )


def _convnext(name: str, depths: tuple[int, ...], widths: tuple[int, ...]) -> BaseArch:
    return BaseArch(
        name=name,
        family=study.ARCH_FAMILIES[name],
        timm_name=name,
        kind="convnext",
        widths=widths,
        depths=depths,
        layer_style="torchvision_convnext",
        description=f"ConvNeXt-{name[9:].capitalize()} (depths {'-'.join(map(str, depths))})",
    )


def _deit(name: str, timm_name: str, dim: int, heads: int, depth: int, **extra: Any) -> BaseArch:
    # The study trained DeiT-III with layer scale initialised at 1e-4 (timm's default is 1e-6).
    return BaseArch(
        name=name,
        family=study.ARCH_FAMILIES[name],
        timm_name=timm_name,
        kind="vit",
        model_args={"init_values": 1e-4, **extra},
        widths=(dim,),
        depths=(depth,),
        num_heads=heads,
        description=f"DeiT-III {name[5:].capitalize()} (ViT/16, dim {dim}, {heads} heads, depth {depth})",
    )


def _efficientnet(name: str, input_size: int) -> BaseArch:
    return BaseArch(
        name=name,
        family=study.ARCH_FAMILIES[name],
        timm_name=name,
        kind="efficientnet",
        layer_style="torchvision_efficientnet",
        description=f"EfficientNet-{name[-2:].upper()}",
        input_size=input_size,
    )


#: The study's trained grid, by its ``arch`` names.
BASES: Mapping[str, BaseArch] = MappingProxyType(
    {
        a.name: a
        for a in (
            _resnet("resnet18", (2, 2, 2, 2), "basic"),
            _resnet("resnet34", (3, 4, 6, 3), "basic"),
            _resnet("resnet50", (3, 4, 6, 3), "bottleneck"),
            _resnet("resnet101", (3, 4, 23, 3), "bottleneck"),
            _resnet("resnet152", (3, 8, 36, 3), "bottleneck"),
            _efficientnet("efficientnet_b0", 224),
            _efficientnet("efficientnet_b1", 240),
            _efficientnet("efficientnet_b2", 288),
            _convnext("convnext_tiny", (3, 3, 9, 3), (96, 192, 384, 768)),
            _convnext("convnext_small", (3, 3, 27, 3), (96, 192, 384, 768)),
            _convnext("convnext_base", (3, 3, 27, 3), (128, 256, 512, 1024)),
            _convnext("convnext_large", (3, 3, 27, 3), (192, 384, 768, 1536)),
            _deit("deit_tiny", "deit3_small_patch16_224", 192, 3, 12, embed_dim=192, num_heads=3),
            _deit("deit_small", "deit3_small_patch16_224", 384, 6, 12),
            _deit("deit_base", "deit3_base_patch16_224", 768, 12, 12),
            _deit("deit_large", "deit3_large_patch16_224", 1024, 16, 24),
            BaseArch(
                name="alexnet",
                family=study.ARCH_FAMILIES["alexnet"],
                timm_name="alexnet",
                kind="fixed",
                description="AlexNet (torchvision layout; registered in timm by vvshub)",
            ),
            BaseArch(
                name="cornet_s",
                family=study.ARCH_FAMILIES["cornet_s"],
                timm_name="cornet_s",
                kind="fixed",
                description="CORnet-S (recurrent V1/V2/V4/IT; registered in timm by vvshub)",
            ),
        )
    }
)

#: Other spellings the reference uses for the same architectures.
ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "deit3_tiny_patch16_224": "deit_tiny",
        "deit3_small_patch16_224": "deit_small",
        "deit3_base_patch16_224": "deit_base",
        "deit3_large_patch16_224": "deit_large",
        "resnetflexfilters": "resnet18",
    }
)

#: Torchvision ViT names in the reference (pretrained rows), and the timm architecture with the
#: same layers and parameter count. ``vit_small``/``vit_base`` are the study's SSL backbones.
TIMM_EQUIVALENTS: Mapping[str, str] = MappingProxyType(
    {
        "vit_b_16": "vit_base_patch16_224",
        "vit_b_32": "vit_base_patch32_224",
        "vit_l_16": "vit_large_patch16_224",
        "vit_small": "vit_small_patch16_224",
        "vit_base": "vit_base_patch16_224",
    }
)


@dataclass(frozen=True)
class Recipe:
    """How to build one architecture in timm, and what to call it.

    Attributes:
        arch: canonical name (the study's where it has one).
        base: the base architecture.
        family: ``arch_family`` as the study writes it (``ResNetFlex`` for a scaled ResNet).
        timm_name: architecture name in timm's registry.
        model_args: keyword arguments for ``timm.create_model`` (JSON-serialisable).
        input_size: side of the square input the counts refer to.
        width: the width multiplier (``None`` for the base's widths).
        depth: blocks per stage (``None`` for the base's depth).
    """

    arch: str
    base: str
    family: str
    timm_name: str
    model_args: Mapping[str, Any]
    input_size: int = DEFAULT_INPUT_SIZE
    width: float | None = None
    depth: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (what ``zoo info --json`` prints next to the counts)."""
        return {
            "arch": self.arch,
            "base": self.base,
            "family": self.family,
            "timm_name": self.timm_name,
            "model_args": _jsonable(dict(self.model_args)),
            "input_size": self.input_size,
            "width": self.width,
            "depth": list(self.depth) if self.depth is not None else None,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def scaled_resnet_widths(base: BaseArch, width: float) -> tuple[int, ...]:
    """vvshub's rule for a continuous ResNet width: every stem/stage width ``max(1, round(c * w))``."""
    stem = base.stem_width if base.stem_width is not None else base.widths[0]
    return tuple(max(1, round(c * width)) for c in (stem, *base.widths))


def scaled_convnext_widths(base: BaseArch, width: float) -> tuple[int, ...]:
    """vvshub's rule for a continuous ConvNeXt width: ``max(8, round(c * w / 8) * 8)``, as the study."""
    return tuple(max(8, round(c * width / 8) * 8) for c in base.widths)


def scaled_vit_dim(base: BaseArch, width: float) -> int:
    """vvshub's rule for a continuous ViT width: a multiple of the head count, at least one per head."""
    heads = base.num_heads or 1
    return max(heads, round(base.widths[0] * width / heads) * heads)


def base_names() -> list[str]:
    """Names of the zoo's base architectures, in table order."""
    return list(BASES)


def _lookup_base(name: str) -> BaseArch | None:
    name = ALIASES.get(name, name)
    if name in BASES:
        return BASES[name]
    # The study's training-recipe ablations (resnet18-adamw-01, resnet152-heavy-aug ...) are
    # the plain architecture trained differently.
    head = name.split("-", 1)[0]
    if head != name and head in BASES and BASES[head].kind == "resnet":
        return BASES[head]
    return None


def suggestions(name: str, *, n: int = 5) -> list[str]:
    """The zoo's names closest to ``name`` (for error messages)."""
    pool = [*BASES, *ALIASES, *(scheme.name(0) for scheme in study.SCHEMES.values())]
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    return close or list(BASES)[:n]


def resolve(text: str | ArchSpec | ModelId) -> Recipe:
    """Turn an architecture name or a model id into a timm recipe.

    Accepts the study's names (``resnet18``, ``deit_small``, ``resnetflexfilters-f-1-16-20-11``,
    ``convnextflex-l-2`` ...), vvshub's variants (``resnet18_w0.5``, ``resnet18_dp1-2-2-1``,
    ``convnext_tiny_w0.7``, ``deit_small_w0.5_dp6``), full model ids
    (``resnet18_imagenet_10_seed-1``, ``resnet18_w0.5_d30``), names in timm's registry, and an
    already parsed :class:`~vvshub.ids.ArchSpec` or :class:`~vvshub.ids.ModelId` (parse a name
    once, at the boundary, and pass the parsed object on).

    Raises:
        UnknownArchitectureError: the base architecture is not in the zoo nor in timm.
        VariantError: the width or depth cannot exist for that base.

    Example:
        >>> resolve("resnetflexfilters-f-1-16-20-19").model_args["channels"]
        [8, 16, 32, 64]
    """
    from vvshub.ids import ArchSpec, ModelId, parse, parse_arch

    if isinstance(text, ModelId):
        return _resolve_spec(text.arch_spec, text.arch)
    if isinstance(text, ArchSpec):
        return _resolve_spec(text, text.name)
    if not isinstance(text, str) or not text.strip():
        raise UnknownArchitectureError(
            f"expected an architecture name, got {text!r}",
            arch=str(text),
            suggestions=list(BASES)[:5],
        )
    text = text.strip()
    try:
        spec = parse_arch(text)
    except ModelIdError:
        spec = None
        _explain_bad_variant(text)
    if spec is not None and _known(spec.base):
        return _resolve_spec(spec, text)
    # Maybe a full model id (resnet18_imagenet_10_seed-1, resnet18_w0.5_d30, arch.tag) ...
    try:
        mid = parse(text)
    except ModelIdError:
        mid = None
    # ... unless the whole name is one of timm's (vit_base_patch16_clip_224 reads as a study
    # id of 'vit_base_patch16' on data set 'clip' at 224 images per class)
    if (
        mid is not None
        and mid.arch != text
        and (spec is None or _known(mid.arch_spec.base) or not _timm_has(text))
    ):
        return _resolve_spec(mid.arch_spec, mid.arch)
    if spec is None:
        raise UnknownArchitectureError(
            f"{text!r} is not an architecture name the zoo knows; closest: "
            f"{', '.join(suggestions(text))}",
            arch=text,
            suggestions=suggestions(text),
        )
    return _resolve_spec(spec, text)


def _known(base: str) -> bool:
    """Whether ``base`` is a zoo base (or alias, or ablation) or a known torchvision ViT name."""
    return _lookup_base(base) is not None or base in TIMM_EQUIVALENTS


def _resolve_spec(spec: ArchSpec, text: str) -> Recipe:
    base = _lookup_base(spec.base)
    if base is None:
        _explain_bad_variant(text)
        return _timm_fallback(text, spec)
    return _recipe(spec, base)


_VARIANT_RE = re.compile(r"^(?P<base>.+?)(?:_w(?P<w>[^_]*?))?(?:_dp(?P<dp>.*))?$")


def _explain_bad_variant(text: str) -> None:
    """Raise a clear VariantError for a zoo base with an unreadable width or depth suffix."""
    m = _VARIANT_RE.match(text)
    if not m or _lookup_base(m["base"]) is None or (m["w"] is None and m["dp"] is None):
        return
    if m["w"] is not None:
        try:
            width = float(m["w"])
        except ValueError:
            width = None
        if width is None or not (math.isfinite(width) and width > 0):
            raise VariantError(
                f"{text!r}: width multiplier must be a positive number, got {m['w']!r}"
            )
    if m["dp"] is not None:
        raise VariantError(
            f"{text!r}: depth must be non-negative block counts joined by '-' "
            f"(e.g. _dp1-2-2-1), got {m['dp']!r}"
        )


def _timm_fallback(text: str, spec: ArchSpec) -> Recipe:
    """A name in timm's registry that is not a zoo base (the reference's pretrained models)."""
    timm_name = TIMM_EQUIVALENTS.get(spec.base, spec.base)
    if spec.width is not None or spec.depth is not None:
        raise VariantError(
            f"{text!r}: width/depth variants exist for the zoo's bases only "
            f"({', '.join(n for n, b in BASES.items() if b.kind != 'fixed')})"
        )
    if not _timm_has(timm_name):
        close = suggestions(text)
        raise UnknownArchitectureError(
            f"unknown architecture {text!r}: not in the zoo and not in timm's registry; "
            f"closest zoo names: {', '.join(close)}",
            arch=text,
            suggestions=close,
        )
    return Recipe(arch=spec.base, base=spec.base, family="timm", timm_name=timm_name, model_args={})


def _timm_has(name: str) -> bool:
    import timm

    from vvshub.zoo._hook import register_timm_models

    register_timm_models()
    return bool(timm.is_model(name))


def _check_width(text: str, width: float) -> None:
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise VariantError(f"{text}: width multiplier must be a positive number, got {width!r}")


def _recipe(spec: ArchSpec, base: BaseArch) -> Recipe:
    from vvshub.ids import flex_scheme

    name = spec.name
    width, depth = spec.width, spec.depth
    if (width is not None or depth is not None) and base.kind == "fixed":
        raise VariantError(f"{name!r}: {base.name} has no width/depth variants in the zoo")
    if width is not None:
        _check_width(name, width)
    if depth is not None:
        _check_depth(name, base, depth)
    scaled = width is not None or depth is not None
    family = study.flex_family(base.family) if scaled else base.family
    args: dict[str, Any] = dict(base.model_args)
    scheme = flex_scheme(spec)

    if base.kind == "resnet" and (width is not None or depth is not None):
        if scheme is not None and scheme[0] in ("f", "wr"):
            widths = study_widths(*scheme)
        elif width is not None:
            widths = scaled_resnet_widths(base, width)
        else:
            widths = (base.stem_width, *base.widths)  # type: ignore[assignment]
        stem, *channels = widths
        layers = list(depth) if depth is not None else list(base.depths)
        bottleneck = base.name in ("resnet50", "resnet101", "resnet152")
        if stem == 64 and sum(layers) > 1 and layers[-1] > 0:
            # timm's own entry point builds it exactly: plain timm can load the checkpoint.
            timm_name = base.timm_name
            args.update(layers=layers, channels=list(channels))
        else:
            # A stem other than 64, an empty last stage or a single block: see ResNetFlex.
            timm_name = "resnet_flex"
            args.update(
                layers=layers,
                channels=list(channels),
                stem_width=stem,
                block="bottleneck" if bottleneck else "basic",
            )
        return Recipe(name, base.name, family, timm_name, args, base.input_size, width, depth)

    if base.kind == "convnext" and (width is not None or depth is not None):
        if scheme is not None and scheme[0] == "convnext":
            dims = study_widths(*scheme)
        elif width is not None:
            dims = scaled_convnext_widths(base, width)
        else:
            dims = base.widths
        args.update(dims=list(dims), depths=list(depth) if depth is not None else list(base.depths))
        return Recipe(name, base.name, family, base.timm_name, args, base.input_size, width, depth)

    if base.kind == "vit" and (width is not None or depth is not None):
        if scheme is not None and scheme[0] == "deit":
            (dim,) = study_widths(*scheme)
        elif width is not None:
            dim = scaled_vit_dim(base, width)
        else:
            dim = base.widths[0]
        args.update(embed_dim=dim, num_heads=base.num_heads)
        if depth is not None:
            args["depth"] = depth[0]
        return Recipe(name, base.name, family, base.timm_name, args, base.input_size, width, depth)

    if base.kind == "efficientnet" and width is not None:
        raise VariantError(
            f"{name!r}: EfficientNet width variants are not in the zoo (timm's efficientnet_b* "
            "entry points fix their compound-scaling multipliers); pick efficientnet_b0/b1/b2"
        )

    # An alias becomes the study's name; an ablation keeps its own (resnet18-adamw-01).
    arch = base.name if spec.base in ALIASES else spec.name
    return Recipe(arch, base.name, family, base.timm_name, args, base.input_size)


def _check_depth(name: str, base: BaseArch, depth: tuple[int, ...]) -> None:
    if any((not isinstance(d, int)) or d < 0 for d in depth):
        raise VariantError(f"{name!r}: block counts must be non-negative integers, got {depth!r}")
    if sum(depth) == 0:
        raise VariantError(f"{name!r}: a network needs at least one block, got depth {depth!r}")
    if base.kind == "efficientnet":
        raise VariantError(f"{name!r}: EfficientNet depth variants are not supported (width only)")
    expected = len(base.depths)
    if len(depth) != expected:
        raise VariantError(
            f"{name!r}: {base.name} has {expected} stage{'s' if expected > 1 else ''}, "
            f"so the depth needs {expected} number{'s' if expected > 1 else ''}, got {len(depth)}"
        )
    if base.kind == "convnext" and depth[0] == 0:
        raise VariantError(f"{name!r}: ConvNeXt's first stage cannot be empty")
    if base.kind == "convnext" and 0 in depth:
        raise VariantError(
            f"{name!r}: ConvNeXt stages cannot be empty (the downsampling lives in them)"
        )
