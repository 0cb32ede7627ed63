"""Looking a model up parses its id once: a parsed ModelId is passed on, not re-spelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from vvshub import ids
from vvshub.catalog import model_detail, open_catalog, resolve_model
from vvshub.errors import ModelNotFoundError


def test_a_parsed_id_resolves_like_its_text(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        for text, expected in [
            ("resnet18_dfull", "resnet18_imagenet_full"),
            ("resnet18_imagenet_full_seed-0", "resnet18_imagenet_full"),  # the other seed spelling
            ("resnet18_w0.402_dfull", "resnetflexfilters-f-1-16-20-11_imagenet_full_seed-0"),
            ("convnext_tiny_d10_ecoset_s1", "convnext_tiny_ecoset_10_seed-1"),
        ]:
            assert resolve_model(cat, text) == expected
            assert resolve_model(cat, ids.parse(text)) == expected
        by_text = model_detail(cat, "resnet18_dfull")
        by_id = model_detail(cat, ids.parse("resnet18_dfull"))
        assert by_text["model_id"] == by_id["model_id"] == "resnet18_imagenet_full"
        assert (
            by_text["aliases"] == by_id["aliases"] == ["resnet18_imagenet_full", "resnet18_dfull"]
        )
        with pytest.raises(ModelNotFoundError, match="resnet18_imagenet_7_seed-0"):
            resolve_model(cat, ids.parse("resnet18_d7"))
