"""The model-id parser: every id the study published, vvshub's short ids, round trips."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vvshub import ids
from vvshub.errors import ModelIdError, VariantError

#: The study left the data set blank for its EfficientViT rows; the parser reads the timm tag.
BLANK_DATASET_IN_REFERENCE = "efficientvit_"


def _reference_ids(reference_dir: Path) -> tuple[dict[str, dict[str, str]], set[str]]:
    with (reference_dir / "benchmark_scores.csv").open() as f:
        scores = {r["model_id"]: r for r in csv.DictReader(f)}
    with (reference_dir / "model_checkpoints.csv").open() as f:
        ckpts = {r["model_id"] for r in csv.DictReader(f)}
    return scores, ckpts


def test_every_reference_id_parses_and_round_trips(reference_dir: Path) -> None:
    scores, ckpts = _reference_ids(reference_dir)
    all_ids = set(scores) | ckpts
    assert len(all_ids) == 1047
    mismatches = []
    for text in sorted(all_ids):
        mid = ids.parse(text)
        assert ids.format_id(mid) == text
        row = scores.get(text)
        if row is None:
            continue
        got = (mid.dataset, mid.samples_per_class, mid.seed)
        want = (row["dataset"], int(row["samples_per_class"]), int(row["seed"]))
        if got != want:
            mismatches.append(text)
    # the only disagreement is the study's blank data set for EfficientViT (documented quirk)
    assert mismatches and all(m.startswith(BLANK_DATASET_IN_REFERENCE) for m in mismatches)
    assert len(mismatches) == 8


def test_canonical_seed_suffix_rule_matches_the_study(reference_dir: Path) -> None:
    """Rewriting a study id from its fields alone (no remembered spelling) gives the study's text."""
    from dataclasses import replace

    scores, ckpts = _reference_ids(reference_dir)
    for text in sorted(set(scores) | ckpts):
        mid = ids.parse(text)
        # the two adversarial series spell size and seed differently; the parser keeps the spelling
        if mid.style == "study" and mid.adv_method is None:
            assert ids.format_id(replace(mid, seed_suffix=None)) == text


@pytest.mark.parametrize(
    ("short", "study"),
    [
        ("resnet18_dfull", "resnet18_imagenet_full"),
        ("resnet50_dfull_ecoset_s2", "resnet50_ecoset_full_seed-2"),
        ("resnet18_d10_s1", "resnet18_imagenet_10_seed-1"),
        ("convnext_tiny_d100_ecoset", "convnext_tiny_ecoset_100_seed-0"),
        ("resnet18_w1.73_dfull", "resnetflexfilters-f-1-16-20-1_imagenet_full_seed-0"),
        ("resnet18_w0.125_dfull_ecoset", "resnetflexfilters-f-1-16-20-19_ecoset_full_seed-0"),
        ("resnet18_w3.17_dfull", "resnetflexfilters_wr-4-1-2-4-1_imagenet_full"),
        ("resnet18_dp1-0-0-0_dfull", "resnetflexfilters-d-1-0-0-0_imagenet_full_seed-0"),
        ("convnext_tiny_w0.21_dfull", "convnextflex-l-2_imagenet_full_seed-0"),
        ("deit_small_w0.595_dfull", "deitflex-l-0_imagenet_full_seed-0"),
    ],
)
def test_short_ids_resolve_to_study_models(short: str, study: str) -> None:
    assert ids.parse(short) == ids.parse(study)
    assert ids.parse(short).study_id() == study
    assert ids.parse(study).short_id() == short


def test_short_width_maps_to_exact_study_stage_widths() -> None:
    """Every study width index k has a short spelling that snaps back to exactly k."""
    for k in range(20):
        study = f"resnetflexfilters-f-1-16-20-{k}"
        short = ids.short_arch_name(ids.parse_arch(study))
        assert ids.parse_arch(short).study_name == study
        assert ids.flex_scheme(ids.parse_arch(short)) == ("f", k)
    for scheme, name in [
        ("wr", "resnetflexfilters_wr-4-1-2-4-{k}"),
        ("convnext", "convnextflex-l-{k}"),
        ("deit", "deitflex-l-{k}"),
    ]:
        for k in range(3):
            short = ids.short_arch_name(ids.parse_arch(name.format(k=k)))
            assert ids.flex_scheme(ids.parse_arch(short)) == (scheme, k)


def test_examples_from_the_design() -> None:
    m = ids.parse("resnet18_w0.5_d30")
    assert (m.arch, m.samples_per_class, m.dataset, m.seed) == ("resnet18_w0.5", 30, "imagenet", 0)
    m = ids.parse("resnet18_d10_cifar10")
    assert (m.arch, m.dataset, m.samples_per_class) == ("resnet18", "cifar10", 10)
    assert ids.parse("resnet18_imagenet_10_seed-1").seed == 1
    assert ids.parse("convnext_tiny_ecoset_full_seed-0").arch == "convnext_tiny"


_GRAMMARS = "expected a study id such as 'resnet18_imagenet_10_seed-1'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty model id; " + _GRAMMARS),
        ("hello", _GRAMMARS),
        ("resnet18", _GRAMMARS),
        ("resnet18_imagenet", _GRAMMARS),
        ("resnet18_d", _GRAMMARS),
        ("resnet18_d0", "_d0 is not a data size; write _dfull for the full data set"),
        ("resnet18_imagenet_0", "a data size of 0 images per class; the study writes 'full'"),
        ("resnet18_imagenet_10_seed-x", _GRAMMARS),
        ("_d10", _GRAMMARS),
        ("resnet18_d10_cifar10_s", _GRAMMARS),
        ("resnet18_d-3", _GRAMMARS),
        ("RESNET18_D10", _GRAMMARS),
    ],
)
def test_garbage_names_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ModelIdError) as err:
        ids.parse(text)
    assert message in str(err.value)
    if text:  # the message quotes the bad id, and the error carries it
        assert f"{text!r}" in str(err.value) and err.value.model_id == text


@pytest.mark.parametrize(
    "text", ["resnet18_w0_d10", "resnet18_dp0-0-0-0_d10", "resnet18_w0.0_dfull"]
)
def test_impossible_variants_are_refused(text: str) -> None:
    with pytest.raises(VariantError):
        ids.parse(text)


@pytest.mark.parametrize("width", ["-1", "nan", "inf"])
def test_negative_and_non_finite_widths_get_the_message_w0_gets(width: str) -> None:
    with pytest.raises(VariantError) as zero:
        ids.parse("resnet18_w0_d10")
    with pytest.raises(VariantError) as bad:
        ids.parse(f"resnet18_w{width}_d10")
    assert str(bad.value) == str(zero.value).replace("w0", f"w{width}").replace(
        "got 0", f"got {width}"
    )


# --- property tests -------------------------------------------------------------------------

_bases = st.sampled_from(
    [
        "resnet18",
        "resnet50",
        "convnext_tiny",
        "deit_small",
        "alexnet",
        "cornet_s",
        "efficientnet_b0",
        "vit_b_16",
    ]
)
_datasets = st.sampled_from(["imagenet", "ecoset", "cifar10", "imagenet21kP", "places365"])
_widths = st.decimals(min_value="0.01", max_value="8", places=3).map(float).filter(lambda w: w > 0)
_depths = (
    st.lists(st.integers(0, 12), min_size=1, max_size=4).filter(lambda d: sum(d) > 0).map(tuple)
)


@st.composite
def short_ids(draw: st.DrawFn) -> str:
    base = draw(_bases)
    spec = ids.ArchSpec(base, width=draw(st.none() | _widths), depth=draw(st.none() | _depths))
    spec = ids.parse_arch(ids.short_arch_name(spec))
    spc = draw(st.sampled_from([0, 1, 3, 10, 30, 100, 300, 1000]))
    mid = ids.ModelId(spec.name, draw(_datasets), spc, draw(st.integers(0, 20)), style="short")
    return ids.format_id(mid)


@st.composite
def study_ids(draw: st.DrawFn) -> str:
    base = draw(
        _bases
        | st.sampled_from(
            [
                "resnetflexfilters-f-1-16-20-7",
                "convnextflex-l-1",
                "deitflex-l-3",
                "resnetflexfilters-d-1-2-0-1",
                "resnet18-adamw-01",
            ]
        )
    )
    regime = draw(st.sampled_from(["trained", "trained", "random", "pretrained"]))
    spc = draw(st.sampled_from([0, 1, 3, 10, 30, 100, 300])) if regime == "trained" else 0
    ssl = draw(st.none() | st.sampled_from(["simclr", "dino"])) if regime == "trained" else None
    mid = ids.ModelId(
        base,
        draw(_datasets),
        spc,
        0 if regime == "pretrained" else draw(st.integers(0, 5)),
        regime=regime,
        ssl_method=ssl,
        style="study",
    )
    return ids.format_id(mid)


@given(short_ids())
def test_short_ids_round_trip(text: str) -> None:
    assert ids.format_id(ids.parse(text)) == text


@given(study_ids())
def test_study_ids_round_trip(text: str) -> None:
    parsed = ids.parse(text)
    assert ids.format_id(parsed) == text
    # and the two grammars agree on the model where the short one can say it
    short = parsed.short_id()
    if short is not None:
        assert ids.parse(short) == parsed


@given(st.text(max_size=30))
def test_arbitrary_text_parses_or_raises_model_id_error(text: str) -> None:
    try:
        mid = ids.parse(text)
    except (ModelIdError, VariantError):
        return
    assert ids.parse(ids.format_id(mid)) == mid
