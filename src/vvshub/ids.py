"""Model ids and architecture names: one parser for both grammars.

vvshub reads two spellings of a model id and maps one onto the other:

* the reference study's ids, ``{arch}_{dataset}_{spc|full}[_seed-{k}]`` and
  their relatives (``simclr_``/``dino_`` prefixes, ``adv_…`` adversarial runs,
  ``{arch}_imagenet_pretrained``, ``{arch}_imagenet_random_seed-k``, timm
  ``arch.tag`` ids, ``arch:tag_nc-5000`` readouts and OpenCLIP
  ``Model-B-16_Data-…`` ids);
* vvshub's short ids, ``{arch}[_w{width}][_dp{a-b-c-d}]_d{N|full}[_{dataset}][_s{seed}]``
  with ImageNet and seed 0 as defaults: ``resnet18_w0.5_d30``,
  ``resnet50_dfull_ecoset_s2``, ``resnet18_d10_cifar10``.

Architecture names follow the same idea: the study's scaled families
(``resnetflexfilters-f-1-16-20-k`` …) are a base architecture at a width
multiplier or depth tuple, and vvshub writes them ``resnet18_w1.73`` or
``resnet18_dp1-1-1-1``. A multiplier written to three significant digits that
equals one of the study's snaps to that study architecture, so the short id
builds exactly the study's stage widths.

This module is pure Python: no torch, no catalog.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from vvshub import study
from vvshub.errors import ModelIdError, VariantError

__all__ = [
    "ArchSpec",
    "ModelId",
    "flex_scheme",
    "format_id",
    "parse",
    "parse_arch",
    "short_arch_name",
    "variant",
]

Regime = Literal["trained", "pretrained", "random"]
Style = Literal["study", "short", "timm", "timm_readout", "openclip"]

#: Where the study spells seed-0 full-data ids without ``_seed-0``: torchvision-style archs
#: (ResNet, EfficientNet, wide ResNets, ViT-B/16) on these data sets. Every other id carries it.
_UNSUFFIXED_DATASETS = frozenset({"imagenet", "ecoset", "webvision", "webvisionP"})
_UNSUFFIXED_ARCH = re.compile(
    r"^(resnet(18|34|50|101|152)(-[a-z0-9\-]+)?|efficientnet_b\d|resnetflexfilters_wr-[\d\-]+|vit_b_16)$"
)

# ---------------------------------------------------------------------------------------------
# Architecture names
# ---------------------------------------------------------------------------------------------

#: The study's scaled architectures: its width schemes by key, and the depth scheme ``d``.
_FLEX_PATTERNS: dict[str, re.Pattern[str]] = {
    **{key: scheme.pattern for key, scheme in study.SCHEMES.items()},
    "d": study.DEPTH_PATTERN,
}
_FLEX_BASE = {**{key: scheme.base for key, scheme in study.SCHEMES.items()}, "d": study.DEPTH_BASE}

_BASE = r"[a-z][a-z0-9_\-]*?"
_WIDTH = r"\d+(?:\.\d+)?(?:e-?\d+)?"
_DEPTH = r"\d+(?:-\d+)*"
_BAD_WIDTH_RE = re.compile(r"_w(?P<w>-[\d.e+-]*|[+-]?(?:nan|inf(?:inity)?))$", re.IGNORECASE)
_ARCH_RE = re.compile(rf"^(?P<base>{_BASE})(?:_w(?P<w>{_WIDTH}))?(?:_dp(?P<dp>{_DEPTH}))?$")


def _short_width(w: float) -> str:
    """How a study width multiplier is written in a short id: three significant digits."""
    return f"{w:.3g}"


def _fmt_width(w: float) -> str:
    return f"{w:.6g}"


@dataclass(frozen=True)
class ArchSpec:
    """An architecture: a base, optionally scaled in width and depth.

    Attributes:
        base: the base architecture (``resnet18``, ``convnext_tiny``, ``deit_small``,
            ``cornet_s``, an ablation name such as ``resnet18-adamw-01`` …).
        width: channel-width multiplier of the base, ``None`` for the base's own widths.
        depth: blocks per stage, ``None`` for the base's own depth.
        study_name: the reference study's name when this is one of its scaled
            architectures (its exact width formula then applies).

    Example:
        >>> parse_arch("resnet18_w1.73").study_name
        'resnetflexfilters-f-1-16-20-1'
    """

    base: str
    width: float | None = None
    depth: tuple[int, ...] | None = None
    study_name: str | None = None

    def __post_init__(self) -> None:
        if self.width is not None and not (self.width > 0 and math.isfinite(self.width)):
            raise VariantError(
                f"width multiplier must be a positive number, got {self.width!r} for {self.base!r}"
            )
        if self.depth is not None:
            if any(d < 0 for d in self.depth):
                raise VariantError(f"depth {self.depth!r} of {self.base!r} has a negative stage")
            if not self.depth or sum(self.depth) == 0:
                raise VariantError(
                    f"depth {self.depth!r} of {self.base!r} has no blocks at all; give at least one"
                )

    @property
    def name(self) -> str:
        """Canonical name: the study's name where one exists, else vvshub's."""
        return self.study_name or short_arch_name(self)


def short_arch_name(spec: ArchSpec) -> str:
    """vvshub's spelling of an architecture: ``base[_w{width}][_dp{a-b-c-d}]``.

    Example:
        >>> short_arch_name(parse_arch("resnetflexfilters-d-1-0-0-0"))
        'resnet18_dp1-0-0-0'
    """
    scheme = flex_scheme(spec)
    name = spec.base
    if spec.width is not None:
        study_width = scheme is not None and scheme[0] != "d"
        name += "_w" + (_short_width(spec.width) if study_width else _fmt_width(spec.width))
    if spec.depth is not None:
        name += "_dp" + "-".join(str(d) for d in spec.depth)
    return name


def variant(
    base: str, *, width: float | None = None, depth: tuple[int, ...] | None = None
) -> ArchSpec:
    """The architecture ``base`` at a width multiplier and/or depth, snapped to the study's name.

    The width is kept to the six significant digits a short id writes, so the result equals
    ``parse_arch(short_arch_name(...))`` without writing and re-reading a name.

    Raises:
        VariantError: a width that is not positive, a negative stage, or no blocks.

    Example:
        >>> variant("resnet18", width=1.73).study_name
        'resnetflexfilters-f-1-16-20-1'
    """
    if width is not None:
        ArchSpec(base, width=width)  # validates before rounding can hide a bad value
        width = float(_fmt_width(width))
    return ArchSpec(base, width=width, depth=depth, study_name=_snap(base, width, depth))


def flex_scheme(spec: ArchSpec) -> tuple[str, int] | None:
    """Which of the study's scaling schemes ``spec`` is, and its index.

    Returns:
        ``('f', k)``, ``('wr', k)``, ``('convnext', k)``, ``('deit', k)``, ``('d', 0)``,
        or ``None`` when ``spec`` is not one of the study's scaled architectures.

    Example:
        >>> flex_scheme(parse_arch("resnet18_w1.73")), flex_scheme(parse_arch("resnet18"))
        (('f', 1), None)
    """
    if spec.study_name is None:
        return None
    for scheme, pattern in _FLEX_PATTERNS.items():
        m = pattern.match(spec.study_name)
        if m:
            return scheme, (0 if scheme == "d" else int(m.group(1)))
    return None


def _snap(base: str, width: float | None, depth: tuple[int, ...] | None) -> str | None:
    """The study name that (base, width, depth) spells, if any."""
    if width is None and depth is not None and base == study.DEPTH_BASE and len(depth) == 4:
        return study.depth_name(depth)
    if width is None or depth is not None:
        return None
    for scheme in study.SCHEMES.values():
        if scheme.base != base:
            continue
        for k in scheme.trained:
            if float(_short_width(study.scheme_width(scheme.key, k))) == width:
                return scheme.name(k)
    return None


def parse_arch(text: str) -> ArchSpec:
    """Parse an architecture name in the study's or vvshub's spelling.

    Args:
        text: e.g. ``resnet18``, ``resnetflexfilters-f-1-16-20-11``, ``convnextflex-l-2``,
            ``resnet18_w0.5``, ``resnet18_dp1-2-2-1``, ``deit_small_w0.354``.

    Returns:
        The architecture; ``study_name`` is set when it is one of the study's scaled ones.

    Raises:
        ModelIdError: ``text`` is not an architecture name.
        VariantError: the variant cannot exist (width 0, no blocks).

    Example:
        >>> parse_arch("convnextflex-l-2").width
        0.21022410381342863
    """
    if not isinstance(text, str) or not text:
        raise ModelIdError(f"expected an architecture name, got {text!r}", model_id=str(text))
    for scheme, pattern in _FLEX_PATTERNS.items():
        m = pattern.match(text)
        if not m:
            continue
        base = _FLEX_BASE[scheme]
        if scheme == "d":
            return ArchSpec(base, depth=tuple(int(g) for g in m.groups()), study_name=text)
        k = int(m.group(1))
        if k not in study.SCHEMES[scheme].indices:
            last = study.SCHEMES[scheme].indices[-1]
            raise VariantError(
                f"{text!r}: the {scheme!r} width scheme has indices 0-{last}, got {k}"
            )
        return ArchSpec(base, width=study.scheme_width(scheme, k), study_name=text)
    m = _ARCH_RE.match(text)
    if not m:
        raise ModelIdError(
            f"{text!r} is not an architecture name; expected a base name such as 'resnet18', "
            "optionally with _w{width} and _dp{a-b-c-d}, or a study name such as "
            "'resnetflexfilters-f-1-16-20-11'",
            model_id=text,
        )
    base = m["base"]
    bad = _BAD_WIDTH_RE.search(base) if m["w"] is None else None
    if bad:  # w-1, wnan, winf: a width the grammar cannot spell, refused like w0
        raise VariantError(f"{text!r}: width multiplier must be positive, got {bad['w']}")
    width = float(m["w"]) if m["w"] is not None else None
    depth = tuple(int(d) for d in m["dp"].split("-")) if m["dp"] is not None else None
    if width is not None and not width > 0:
        raise VariantError(f"{text!r}: width multiplier must be positive, got {m['w']}")
    return ArchSpec(base, width=width, depth=depth, study_name=_snap(base, width, depth))


# ---------------------------------------------------------------------------------------------
# Model ids
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelId:
    """A parsed model id. Two ids naming the same model compare equal, whatever the spelling.

    Attributes:
        arch: canonical architecture name (the study's where it has one).
        dataset: training set (``imagenet``, ``ecoset``, ``cifar10`` …); for timm
            and OpenCLIP ids, the pretraining tag the study recorded.
        samples_per_class: images per class, 0 for the full data set.
        seed: training seed.
        regime: ``trained`` from scratch, ``pretrained`` weights, or ``random`` init.
        ssl_method: ``simclr`` or ``dino`` for self-supervised runs.
        adv_method: the adversarial-training recipe for ``adv_`` runs.
        tag: timm pretrained tag or OpenCLIP run descriptor.
        extra: a trailing qualifier that names a different model (``nc-5000``, ``50ep``).
        style: the spelling it was parsed from (not part of equality).
        seed_suffix: whether a study id spells ``_seed-k`` (not part of equality).

    Example:
        >>> parse("resnet18_d10") == parse("resnet18_imagenet_10_seed-0")
        True
    """

    arch: str
    dataset: str | None = study.DEFAULT_DATASET
    samples_per_class: int = 0
    seed: int = 0
    regime: Regime = "trained"
    ssl_method: str | None = None
    adv_method: str | None = None
    tag: str | None = None
    extra: str | None = None
    style: Style = field(default="short", compare=False)
    seed_suffix: bool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.samples_per_class < 0:
            raise ModelIdError(f"samples per class must be >= 0, got {self.samples_per_class}")
        if self.seed < 0:
            raise ModelIdError(f"seed must be >= 0, got {self.seed}")

    @cached_property
    def arch_spec(self) -> ArchSpec:
        """The architecture as an :class:`ArchSpec` (parsed once per id)."""
        return parse_arch(self.arch)

    @property
    def is_full(self) -> bool:
        """Whether the model saw the whole training set."""
        return self.samples_per_class == 0

    def study_id(self) -> str:
        """This model's id in the reference study's grammar."""
        style = self.style if self.style != "short" else "study"
        return format_id(self, style=style)

    def short_id(self) -> str | None:
        """This model's vvshub short id, or ``None`` when the short grammar cannot say it."""
        if not _short_expressible(self):
            return None
        return format_id(self, style="short")

    def aliases(self) -> list[str]:
        """Every spelling of this id that vvshub reads, study form first."""
        names = [self.study_id()]
        short = self.short_id()
        if short and short not in names:
            names.append(short)
        return names

    def to_dict(self) -> dict[str, object]:
        """Plain-dict form (for JSON and the catalog)."""
        return {
            "arch": self.arch,
            "dataset": self.dataset,
            "samples_per_class": self.samples_per_class,
            "seed": self.seed,
            "regime": self.regime,
            "ssl_method": self.ssl_method,
            "adv_method": self.adv_method,
            "tag": self.tag,
            "extra": self.extra,
            "style": self.style,
            "seed_suffix": self.seed_suffix,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ModelId:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)  # type: ignore[arg-type]


def _short_expressible(mid: ModelId) -> bool:
    return (
        mid.regime == "trained"
        and mid.ssl_method is None
        and mid.adv_method is None
        and mid.tag is None
        and mid.extra is None
        and mid.dataset is not None
    )


# Study grammar, tried in order. Arch names are lazy and data-set names start with a letter,
# so 'vit_b_16_imagenet_10' splits as vit_b_16 / imagenet / 10.
_DATASET = r"[A-Za-z][A-Za-z0-9\-]*"
_OPENCLIP_RE = re.compile(r"^Model-(?P<size>[A-Z])-(?P<patch>\d+)_(?P<tag>Data-[A-Za-z0-9_\-\.]+)$")
_TIMM_RE = re.compile(r"^(?P<arch>[a-z][a-z0-9_]*)\.(?P<tag>[a-z][a-z0-9_]*)$")
_READOUT_RE = re.compile(r"^(?P<arch>[a-z][a-z0-9_]*):(?P<tag>[a-z0-9_]+?)_(?P<extra>nc-\d+)$")
_ADV_RE = re.compile(
    rf"^adv_(?P<arch>[a-z].*?)_(?P<dataset>{_DATASET}?)(?:_(?P<size>\d+|full))?"
    r"_(?P<method>(?:scratch-)?ffgsm[A-Za-z0-9_\-\.]*?)(?:_seed-(?P<seed>\d+))?$"
)
_STUDY_RE = re.compile(
    # a dot only between digits: vvshub's continuous widths (resnet18_w0.25_cifar10_10_seed-0)
    rf"^(?:(?P<ssl>simclr|dino)_)?(?P<arch>[a-z](?:[A-Za-z0-9_\-]|(?<=\d)\.(?=\d))*?)"
    rf"_(?P<dataset>{_DATASET})"
    r"_(?P<size>\d+|full|pretrained|random)(?:_seed-(?P<seed>\d+)(?:-(?P<extra>[A-Za-z0-9]+))?)?$"
)
_SHORT_RE = re.compile(
    rf"^(?P<arch>{_BASE}(?:_w{_WIDTH})?(?:_dp{_DEPTH})?)_d(?P<size>\d+|full)"
    rf"(?:_(?!s\d+$)(?P<dataset>{_DATASET}))?(?:_s(?P<seed>\d+))?$"
)

_EXPECTED = (
    "expected a study id such as 'resnet18_imagenet_10_seed-1' or 'convnext_tiny_ecoset_full_seed-0', "
    "a timm id 'arch.tag', or a vvshub short id "
    "'{arch}[_w{width}][_dp{a-b-c-d}]_d{N|full}[_{dataset}][_s{seed}]' such as 'resnet18_w0.5_d30'"
)


def _canonical_seed_suffix(
    arch: str, dataset: str | None, spc: int, seed: int, *, ssl: bool
) -> bool:
    """The study's rule: seed-0 full-data ResNet/EfficientNet ids on ImageNet/EcoSet omit ``_seed-0``."""
    unsuffixed = (
        not ssl
        and spc == 0
        and seed == 0
        and dataset in _UNSUFFIXED_DATASETS
        and _UNSUFFIXED_ARCH.match(arch) is not None
    )
    return not unsuffixed


def parse(text: str) -> ModelId:
    """Parse a model id in any grammar vvshub reads.

    Args:
        text: a study id, timm id, OpenCLIP id or vvshub short id.

    Returns:
        The parsed id; ``format_id(parse(text)) == text`` for every id vvshub writes.

    Raises:
        ModelIdError: ``text`` fits no grammar; the message says what was expected.

    Example:
        >>> m = parse("resnet50_dfull_ecoset_s2")
        >>> (m.arch, m.dataset, m.samples_per_class, m.seed)
        ('resnet50', 'ecoset', 0, 2)
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelIdError(f"empty model id; {_EXPECTED}", model_id=str(text))
    text = text.strip()
    try:
        return _parse(text)
    except VariantError:
        raise
    except ModelIdError as exc:
        raise ModelIdError(f"cannot parse model id {text!r}: {exc}", model_id=text) from None


def _parse(text: str) -> ModelId:
    m = _OPENCLIP_RE.match(text)
    if m:
        arch = f"vit_{m['size'].lower()}_{m['patch']}"
        return ModelId(arch, "laion", regime="pretrained", tag=m["tag"], style="openclip")
    m = _TIMM_RE.match(text)
    if m:
        return ModelId(m["arch"], m["tag"], regime="pretrained", tag=m["tag"], style="timm")
    m = _READOUT_RE.match(text)
    if m:
        return ModelId(
            m["arch"],
            m["tag"],
            regime="pretrained",
            tag=m["tag"],
            extra=m["extra"],
            style="timm_readout",
        )
    m = _ADV_RE.match(text)
    if m:
        parse_arch(m["arch"])
        spc = 0 if m["size"] in (None, "full") else int(m["size"])
        return ModelId(
            m["arch"],
            m["dataset"],
            spc,
            int(m["seed"] or 0),
            adv_method=m["method"],
            style="study",
            seed_suffix=m["seed"] is not None,
        )
    m = _SHORT_RE.match(text)
    if m:
        spec = parse_arch(m["arch"])
        spc = 0 if m["size"] == "full" else int(m["size"])
        if m["size"] != "full" and spc == 0:
            raise ModelIdError("_d0 is not a data size; write _dfull for the full data set")
        return ModelId(
            spec.name,
            m["dataset"] or study.DEFAULT_DATASET,
            spc,
            int(m["seed"] or 0),
            style="short",
        )
    m = _STUDY_RE.match(text)
    if m:
        parse_arch(m["arch"])
        size = m["size"]
        regime: Regime = "trained"
        if size == "pretrained":
            regime = "pretrained"
        elif size == "random":
            regime = "random"
        spc = int(size) if size.isdigit() else 0
        if size.isdigit() and spc == 0:
            raise ModelIdError("a data size of 0 images per class; the study writes 'full'")
        if regime == "pretrained" and m["seed"] is not None:
            raise ModelIdError("pretrained ids carry no seed")
        return ModelId(
            m["arch"],
            m["dataset"],
            spc,
            int(m["seed"] or 0),
            regime=regime,
            ssl_method=m["ssl"],
            extra=m["extra"],
            style="study",
            seed_suffix=m["seed"] is not None,
        )
    raise ModelIdError(_EXPECTED, model_id=text)


def format_id(mid: ModelId, *, style: Style | None = None) -> str:
    """Write ``mid`` in a grammar (by default the one it was parsed from).

    Args:
        mid: the id.
        style: ``study`` or ``short``; ``timm``, ``timm_readout`` and ``openclip`` ids keep their own.

    Raises:
        ModelIdError: the short grammar cannot express this model (pretrained, SSL, …).

    Example:
        >>> format_id(parse("resnetflexfilters-f-1-16-20-1_imagenet_30_seed-0"), style="short")
        'resnet18_w1.73_d30'
    """
    style = style or mid.style
    if mid.style == "openclip" or (mid.tag and mid.tag.startswith("Data-")):
        size, patch = mid.arch.split("_")[1:3]
        return f"Model-{size.upper()}-{patch}_{mid.tag}"
    if mid.style == "timm" or (
        mid.tag and mid.extra is None and mid.regime == "pretrained" and style != "short"
    ):
        return f"{mid.arch}.{mid.tag}"
    if mid.style == "timm_readout":
        return f"{mid.arch}:{mid.tag}_{mid.extra}"
    if style == "short":
        if not _short_expressible(mid):
            raise ModelIdError(
                f"the short grammar cannot express {format_id(mid, style='study')!r} "
                "(only models trained from scratch, without SSL or adversarial training)"
            )
        text = f"{short_arch_name(mid.arch_spec)}_d{mid.samples_per_class or 'full'}"
        if mid.dataset != study.DEFAULT_DATASET:
            text += f"_{mid.dataset}"
        if mid.seed:
            text += f"_s{mid.seed}"
        return text
    # study grammar
    if mid.regime == "pretrained":
        return f"{mid.arch}_{mid.dataset}_pretrained"
    size = (
        "random"
        if mid.regime == "random"
        else (str(mid.samples_per_class) if mid.samples_per_class else "full")
    )
    suffix = mid.seed_suffix
    if suffix is None:
        suffix = (
            mid.regime == "random"
            or mid.adv_method is not None
            or _canonical_seed_suffix(
                mid.arch,
                mid.dataset,
                mid.samples_per_class,
                mid.seed,
                ssl=mid.ssl_method is not None,
            )
        )
    seed = f"_seed-{mid.seed}" if suffix else ""
    if mid.extra:
        seed += f"-{mid.extra}"
    if mid.adv_method is not None:
        # the study's adversarial ids spell the data size exactly when they spell the seed
        size_part = f"_{size}" if (suffix or mid.samples_per_class) else ""
        return f"adv_{mid.arch}_{mid.dataset}{size_part}_{mid.adv_method}{seed}"
    prefix = f"{mid.ssl_method}_" if mid.ssl_method else ""
    return f"{prefix}{mid.arch}_{mid.dataset}_{size}{seed}"


def study_candidates(mid: ModelId) -> list[str]:
    """Study ids that may name ``mid`` in a catalog: the canonical one, then the other seed spelling."""
    first = mid.study_id()
    if mid.style in ("timm", "timm_readout", "openclip") or mid.regime == "pretrained":
        return [first]
    other = format_id(replace(mid, style="study", seed_suffix="_seed-" not in first), style="study")
    return [first] if other == first else [first, other]
