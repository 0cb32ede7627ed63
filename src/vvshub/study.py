"""The reference study's facts, each written once (Gokce & Schrimpf, ICML 2025).

Everything vvshub knows about the study's design lives here and is imported from here:
the brain regions and the benchmark that scores each, the architecture families and their
width-scaled ``Flex`` variants, the exact width formulas of the scaled architectures, the
training sets with their sizes, and the training grid. DESIGN.md section 4 states the same
facts in prose; every number below was checked against the study's published files.

Pure Python, no third-party import, so that ``ids``, ``zoo``, ``catalog`` and ``laws``
can all read it (it sits just above ``errors`` and ``constants`` in the layering).

Example:
    >>> REGIONS
    ('V1', 'V2', 'V4', 'IT', 'Behavioral')
    >>> DATASETS["ecoset"].n_images
    1444911
    >>> study_widths("f", 19)
    (8, 8, 16, 32, 64)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vvshub.errors import VariantError

__all__ = [
    "ALL_ARCHS",
    "ARCH_FAMILIES",
    "BASE_FAMILIES",
    "BEHAVIORAL",
    "BENCHMARKS",
    "DATASETS",
    "DEFAULT_DATASET",
    "DEPTH_BASE",
    "DEPTH_PATTERN",
    "DEPTH_WIDTHS",
    "FLEX_FAMILIES",
    "GRID_ARCHS",
    "GRID_DATASETS",
    "NEURAL_REGIONS",
    "REGIONS",
    "REGION_OF_BENCHMARK",
    "SAMPLES_PER_CLASS",
    "SAMPLE_DATASETS",
    "SCHEMES",
    "SEEDED_SAMPLES_PER_CLASS",
    "SEEDS",
    "STUDY_DEPTHS",
    "Dataset",
    "WidthScheme",
    "base_family",
    "depth_name",
    "flex_family",
    "scheme_width",
    "study_arch_names",
    "study_widths",
]

# ---------------------------------------------------------------------------------------------
# Regions and benchmarks
# ---------------------------------------------------------------------------------------------

#: The behavioural "region" (object recognition behaviour, Rajalingham2018 i2n).
BEHAVIORAL = "Behavioral"
#: Regions averaged for neural alignment, in the ventral stream's order.
NEURAL_REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT")
#: Every region a score can be for; the alignment score S averages all five.
REGIONS: tuple[str, ...] = (*NEURAL_REGIONS, BEHAVIORAL)

#: Region -> the Brain-Score benchmark id the study scored it with (its ``benchmark_name``).
BENCHMARKS: Mapping[str, str] = MappingProxyType(
    {
        "V1": "movshon.FreemanZiemba2013public.V1-pls",
        "V2": "movshon.FreemanZiemba2013public.V2-pls",
        "V4": "dicarlo.MajajHong2015public.V4-pls",
        "IT": "dicarlo.MajajHong2015public.IT-pls",
        BEHAVIORAL: "dicarlo.Rajalingham2018public-i2n",
    }
)
#: Benchmark id -> region (the inverse of :data:`BENCHMARKS`).
REGION_OF_BENCHMARK: Mapping[str, str] = MappingProxyType({b: r for r, b in BENCHMARKS.items()})

# ---------------------------------------------------------------------------------------------
# Training sets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A training set of the study.

    Attributes:
        name: the name in the study's ``dataset`` column (and in model ids).
        n_classes: number of classes (``None`` where the study's files do not say).
        n_images: training images of the full set (the study's ``n_samples`` at ``full``).
    """

    name: str
    n_classes: int | None
    n_images: int


#: Training sets with their sizes, as the study's files record them (``n_samples`` of the
#: full-data rows; classes from ``n_samples`` at one image per class). CIFAR-10 is vvshub's
#: small test bed, not the study's.
DATASETS: Mapping[str, Dataset] = MappingProxyType(
    {
        d.name: d
        for d in (
            Dataset("imagenet", 1000, 1_281_167),
            Dataset("ecoset", 565, 1_444_911),
            Dataset("imagenet21kP", 10_450, 11_060_223),
            Dataset("imagenet21kP-class-1000", 1000, 1_060_048),
            Dataset("places365", 365, 1_803_460),
            Dataset("inaturalist", 10_000, 2_686_843),
            Dataset("webvisionP", 4186, 13_576_420),
            Dataset("webvision", None, 16_076_665),
            Dataset("infimnist", 10, 1_200_000),
            Dataset("cifar10", 10, 50_000),
        )
    }
)
#: The training set a model id means when it names none (vvshub's short ids).
DEFAULT_DATASET = "imagenet"
#: The two training sets of the main grid; the paper's law selections keep only these.
GRID_DATASETS: tuple[str, ...] = ("imagenet", "ecoset")
#: Training sets of the samples-seen laws (Figure 3a), in the paper's order.
SAMPLE_DATASETS: tuple[str, ...] = (
    "imagenet",
    "ecoset",
    "imagenet21kP",
    "places365",
    "inaturalist",
    "webvisionP",
)

# ---------------------------------------------------------------------------------------------
# Training grid
# ---------------------------------------------------------------------------------------------

#: Images per class of the grid; 0 is the full data set (the study writes ``full``).
SAMPLES_PER_CLASS: tuple[int, ...] = (1, 3, 10, 30, 100, 300, 0)
#: Data sizes trained with every seed of :data:`SEEDS`; the others with seed 0 only.
SEEDED_SAMPLES_PER_CLASS: tuple[int, ...] = (1, 10, 100, 0)
#: Training seeds.
SEEDS: tuple[int, ...] = (0, 1, 2)
#: Base architectures of the grid, by the study's ``arch`` names, with their ``arch_family``
#: (DeiT-III is ``ViT``).
ARCH_FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"), "ResNet"),
        **dict.fromkeys(("efficientnet_b0", "efficientnet_b1", "efficientnet_b2"), "EfficientNet"),
        **dict.fromkeys(
            ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large"), "ConvNeXt"
        ),
        **dict.fromkeys(("deit_tiny", "deit_small", "deit_base", "deit_large"), "ViT"),
        "alexnet": "AlexNet",
        "cornet_s": "CORnet-S",
    }
)
#: Base architectures of the grid, in the study's order.
GRID_ARCHS: tuple[str, ...] = tuple(ARCH_FAMILIES)

# ---------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------

#: The study's base families, in grid order.
BASE_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(ARCH_FAMILIES.values()))
_FLEX = "Flex"
#: Width/depth-scaled family -> its base family (the paper's selections merge them).
FLEX_FAMILIES: Mapping[str, str] = MappingProxyType(
    {f + _FLEX: f for f in ("ResNet", "ConvNeXt", "ViT")}
)


def flex_family(family: str) -> str:
    """The ``arch_family`` of a width- or depth-scaled member of ``family``.

    Example:
        >>> flex_family("ResNet")
        'ResNetFlex'
    """
    return family + _FLEX


def base_family(family: str) -> str:
    """``family`` with a scaled family merged into its base (``ResNetFlex`` -> ``ResNet``).

    Example:
        >>> base_family("ConvNeXtFlex"), base_family("AlexNet")
        ('ConvNeXt', 'AlexNet')
    """
    return FLEX_FAMILIES.get(family, family)


# ---------------------------------------------------------------------------------------------
# Width- and depth-scaled architectures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WidthScheme:
    """One of the study's width-scaling schemes.

    The scheme's widths divide a base by ``geomspace(1, stop, num)[k + offset]``, written with
    numpy's rounding (``round`` half to even, truncation by ``int``) so they reproduce every
    published parameter count.

    Attributes:
        key: ``f``, ``wr``, ``convnext`` or ``deit``.
        base: the base architecture it scales.
        template: the study's architecture name, with ``{k}`` for the index.
        pattern: regular expression matching the study's names; group 1 is ``k``.
        trained: indices the study trained (vvshub's short ids snap only to these).
        stop: last divisor of the geometric sequence.
        num: length of the geometric sequence.
        offset: ``1`` where the scheme skips the divisor 1 (ConvNeXt, DeiT).
        factor: the scheme's widths at divisor 1 relative to the base's widths.
    """

    key: str
    base: str
    template: str
    pattern: re.Pattern[str]
    trained: range
    stop: float
    num: int
    offset: int
    factor: float

    @property
    def indices(self) -> range:
        """Every index the formula defines."""
        return range(self.num - self.offset)

    def name(self, k: int) -> str:
        """The study's name of index ``k``."""
        return self.template.format(k=k)


#: The study's width schemes (DESIGN.md section 4).
SCHEMES: Mapping[str, WidthScheme] = MappingProxyType(
    {
        s.key: s
        for s in (
            # ResNet-18 BasicBlocks; stem and stage widths int([128,128,256,512,1024] / 16**(k/19))
            WidthScheme(
                "f",
                "resnet18",
                "resnetflexfilters-f-1-16-20-{k}",
                re.compile(r"^resnetflexfilters-f-1-16-20-(\d+)$"),
                range(20),
                16.0,
                20,
                0,
                2.0,
            ),
            # round(([64,64,128,256,512] * 4 / geomspace(1, 2, 4)[k]) / 8) * 8
            WidthScheme(
                "wr",
                "resnet18",
                "resnetflexfilters_wr-4-1-2-4-{k}",
                re.compile(r"^resnetflexfilters_wr-4-1-2-4-(\d+)$"),
                range(3),
                2.0,
                4,
                0,
                4.0,
            ),
            # depths [3,3,9,3], dims round([96,192,384,768] / 8**((k+1)/4) / 8) * 8
            WidthScheme(
                "convnext",
                "convnext_tiny",
                "convnextflex-l-{k}",
                re.compile(r"^convnextflex-l-(\d+)$"),
                range(4),
                8.0,
                5,
                1,
                1.0,
            ),
            # ViT-S/16, depth 12, 6 heads, embed_dim round(384 / 8**((k+1)/4) / 6) * 6
            WidthScheme(
                "deit",
                "deit_small",
                "deitflex-l-{k}",
                re.compile(r"^deitflex-l-(\d+)$"),
                range(4),
                8.0,
                5,
                1,
                1.0,
            ),
        )
    }
)

#: The depth-scaled ResNet-18 (``resnetflexfilters-d-a-b-c-d``): base and name pattern.
DEPTH_BASE = "resnet18"
DEPTH_PATTERN = re.compile(r"^resnetflexfilters-d-(\d+)-(\d+)-(\d+)-(\d+)$")
#: Stage widths of the depth scheme (those of ResNet-18: stem, then the four stages).
DEPTH_WIDTHS: tuple[int, ...] = (64, 64, 128, 256, 512)
#: Depth tuples the study trained.
STUDY_DEPTHS: tuple[tuple[int, int, int, int], ...] = (
    (1, 0, 0, 0),
    (1, 0, 0, 1),
    (1, 0, 0, 2),
    (1, 0, 1, 0),
    (1, 1, 0, 0),
    (1, 1, 1, 0),
    (1, 1, 1, 1),
    (1, 1, 1, 2),
    (1, 1, 2, 2),
    (1, 2, 2, 2),
    (2, 2, 2, 2),
)


def depth_name(depth: tuple[int, ...]) -> str:
    """The study's name of the depth-scaled ResNet-18 with ``depth`` blocks per stage.

    Example:
        >>> depth_name((1, 0, 0, 0))
        'resnetflexfilters-d-1-0-0-0'
    """
    return "resnetflexfilters-d-" + "-".join(str(d) for d in depth)


def _scheme(key: str) -> WidthScheme:
    try:
        return SCHEMES[key]
    except KeyError:
        raise VariantError(
            f"unknown width scheme {key!r}; expected one of {', '.join(SCHEMES)}"
        ) from None


def _check_index(scheme: WidthScheme, k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k not in scheme.indices:
        last = scheme.indices[-1]
        raise VariantError(
            f"index {k!r} is outside the study's {scheme.key!r} scheme (0-{last}); "
            f"e.g. {scheme.name(0)!r}"
        )


def _divisor(scheme: WidthScheme, k: int) -> float:
    """``numpy.geomspace(1, stop, num)[k + offset]``, computed as numpy does (endpoints exact)."""
    i = k + scheme.offset
    if i == 0:
        return 1.0
    if i == scheme.num - 1:
        return scheme.stop
    step = (math.log10(scheme.stop) - math.log10(1.0)) / (scheme.num - 1)
    return 10.0 ** (i * step)


def _round_half_even(x: float) -> int:
    return round(x)  # Python's round() is half-to-even, as numpy's


def scheme_width(key: str, k: int) -> float:
    """Width multiplier of scheme ``key`` at index ``k``, relative to its base's widths.

    Example:
        >>> round(scheme_width("wr", 0), 6), round(scheme_width("convnext", 3), 6)
        (4.0, 0.125)
    """
    scheme = _scheme(key)
    _check_index(scheme, k)
    return scheme.factor * scheme.stop ** (-(k + scheme.offset) / (scheme.num - 1))


def study_widths(key: str, k: int) -> tuple[int, ...]:
    """Stage widths of the study's scaled architectures, by its own formulas.

    Args:
        key: ``f`` (``resnetflexfilters-f-1-16-20-k``), ``wr`` (``resnetflexfilters_wr-4-1-2-4-k``),
            ``convnext`` (``convnextflex-l-k``) or ``deit`` (``deitflex-l-k``).
        k: the index in the scheme.

    Returns:
        ResNets: ``(stem, stage1, stage2, stage3, stage4)``; ConvNeXt: the four stage dims;
        DeiT: ``(embed_dim,)``.

    Raises:
        VariantError: an unknown scheme or an index outside it.

    Example:
        >>> study_widths("f", 19), study_widths("convnext", 2), study_widths("deit", 0)
        ((8, 8, 16, 32, 64), (24, 40, 80, 160), (228,))
    """
    scheme = _scheme(key)
    _check_index(scheme, k)
    d = _divisor(scheme, k)
    if key == "f":
        return tuple(int(c * 2 / d) for c in DEPTH_WIDTHS)
    if key == "wr":
        return tuple(_round_half_even(c * 4 / d / 8) * 8 for c in DEPTH_WIDTHS)
    if key == "convnext":
        return tuple(_round_half_even(c / d / 8) * 8 for c in (96, 192, 384, 768))
    return (_round_half_even(384 / d / 6) * 6,)


def study_arch_names() -> list[str]:
    """Every scaled architecture the study trained, by its names (width schemes, then depths).

    Example:
        >>> len(study_arch_names())
        42
    """
    resnet = [SCHEMES[key].name(k) for key in ("f", "wr") for k in SCHEMES[key].trained]
    depths = [depth_name(d) for d in STUDY_DEPTHS]
    others = [SCHEMES[key].name(k) for key in ("convnext", "deit") for k in SCHEMES[key].trained]
    return resnet + depths + others


#: Every architecture name of the study's controlled grid: bases, then scaled ones.
ALL_ARCHS: tuple[str, ...] = (*GRID_ARCHS, *study_arch_names())
