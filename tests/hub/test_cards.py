"""Model cards: a golden rendering, the model-index round trip, scores from the catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import vvshub
from vvshub.model_cards import CardScore, render_card

GOLDEN = Path(__file__).parent / "golden" / "card_resnet18_d30.md"

CONFIG = {
    "architecture": "resnet18",
    "num_classes": 1000,
    "model_args": {},
    "vvshub": {
        "model_id": "resnet18_imagenet_30_seed-0",
        "short_id": "resnet18_d30",
        "arch": "resnet18",
        "arch_family": "ResNet",
        "width": None,
        "depth": None,
        "dataset": "imagenet",
        "samples_per_class": 30,
        "n_samples": 30000,
        "n_epochs": 100,
        "n_samples_seen": 3000000,
        "epoch": 100,
        "seed": 0,
        "n_params": 11689512,
        "macs": 1826516992,
        "flops": 3653033984,
        "total_flops": 3.2877305856e16,
        "count_convention": "gokce2025-fvcore-train",
        "acc": None,
        "manifest_sha256": None,
    },
}
SCORES = [
    CardScore(
        "IT",
        "dicarlo.MajajHong2015public.IT-pls",
        0.4312,
        raw_score=0.3544,
        ceiling=0.8219,
        layer="layer3.1",
        version="1",
        normalisation="ratio_squared",
        source="reference",
    ),
    CardScore(
        "V1",
        "movshon.FreemanZiemba2013public.V1-pls",
        0.2011,
        normalisation="ratio_squared",
        source="reference",
    ),
]


def _render() -> str:
    card = render_card(
        CONFIG,
        repo_id="vvshub/resnet18_d30",
        scores=SCORES,
        revision_note="These weights are from epoch 100 (the revision `main` and tag `ep100`).",
    )
    return str(card)


def test_card_matches_golden_file():
    text = _render()
    if os.environ.get("VVSHUB_UPDATE_GOLDEN") == "1":  # regenerate deliberately, then review
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_card_metadata_round_trips_through_huggingface_hub():
    from huggingface_hub import ModelCard

    card = ModelCard(_render())
    data = card.data
    assert data.library_name == "timm"
    assert {"brain-alignment", "primate-vvs", "resnet", "imagenet"} <= set(data.tags)
    results = data.eval_results
    assert [r.dataset_type for r in results] == [
        "movshon.FreemanZiemba2013public.V1-pls",
        "dicarlo.MajajHong2015public.IT-pls",
    ]
    it = results[1]
    assert it.metric_value == pytest.approx(0.4312)
    assert it.metric_config == "ratio_squared"
    assert it.dataset_revision == "1"
    assert it.metric_args == {
        "raw_score": 0.3544,
        "ceiling": 0.8219,
        "layer": "layer3.1",
        "source": "reference",
    }


def test_card_without_metadata_says_what_is_unknown():
    text = str(render_card({"architecture": "resnet18", "num_classes": 10}, repo_id="lab/x_d1"))
    assert "Unknown for this model:" in text
    assert "`n_epochs`" in text and "`acc`" in text
    assert "No scores recorded yet" in text


def test_pushed_card_carries_catalog_scores(tiny_model, reference_catalog):
    """A model pushed under a study id gets the reference scores of that id in its model-index."""
    from huggingface_hub import ModelCard

    from vvshub.catalog import open_catalog

    with open_catalog(reference_catalog) as cat:
        expected = cat.query(
            "SELECT region, score FROM scores WHERE model_id = 'resnet18_imagenet_30_seed-0'"
        )
    assert len(expected) >= 4
    model = tiny_model(0, arch="resnet18", num_classes=1000)
    vvshub.push(model, "resnet18_imagenet_30_seed-0", record=False)
    card = ModelCard(vvshub.pull("resnet18_d30").vvshub_card)
    got = {r.dataset_config: r.metric_value for r in card.data.eval_results}
    assert got == pytest.approx({r.region: round(r.score, 6) for r in expected.itertuples()})
