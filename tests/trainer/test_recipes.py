"""The three recipes: frozen, overridable, chosen by family, and each one trains."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vvshub.errors import TrainingError
from vvshub.trainer import RECIPES, make_config, recipe_for, train


def test_the_study_cnn_recipe():
    r = RECIPES["cnn"]
    assert (r.epochs, r.optimizer, r.lr, r.momentum, r.nesterov) == (100, "sgd", 0.1, 0.9, True)
    assert (r.weight_decay, r.warmup_epochs, r.min_lr, r.batch_size) == (1e-4, 5, 1e-5, 512)
    assert r.scale == (0.08, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.lr = 1.0  # type: ignore[misc]


def test_recipe_by_family():
    assert recipe_for("resnetflexfilters-f-1-16-20-11").name == "cnn"
    assert recipe_for("cornet_s").name == "cnn"
    assert recipe_for("convnext_small").name == "convnext"
    assert recipe_for("deitflex-l-1").name == "deit"


def test_overrides_are_checked_and_keep_the_warmup_share():
    r = RECIPES["cnn"].override(epochs=20, lr=0.05)
    assert (r.epochs, r.lr, r.warmup_epochs) == (20, 0.05, 1.0)
    assert RECIPES["cnn"].lr == 0.1
    with pytest.raises(TrainingError, match="lr must be positive"):
        RECIPES["cnn"].override(lr=-1.0)
    with pytest.raises(TrainingError, match="unknown recipe field"):
        RECIPES["cnn"].override(learning_rate=0.1)
    assert type(r).from_dict(r.to_dict()) == r


def test_mixup_and_cutmix_make_soft_targets_that_sum_to_one():
    import torch

    from vvshub.trainer._augment import mix_batch

    images = torch.arange(4 * 3 * 8 * 8, dtype=torch.float32).reshape(4, 3, 8, 8)
    targets = torch.tensor([0, 1, 2, 1])
    for mixup, cutmix in ((0.8, 0.0), (0.0, 1.0), (0.8, 1.0)):
        for seed in range(5):
            mixed, soft = mix_batch(
                images, targets, num_classes=3, mixup_alpha=mixup, cutmix_alpha=cutmix,
                label_smoothing=0.1, rng=np.random.default_rng(seed),
            )  # fmt: skip
            assert mixed.shape == images.shape
            assert torch.allclose(soft.sum(1), torch.ones(4))
            assert (soft >= 0).all()
    same = mix_batch(
        images, targets, num_classes=3, mixup_alpha=0.0, cutmix_alpha=0.0,
        label_smoothing=0.0, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert same[0] is images and same[1].argmax(1).equal(targets)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "recipe"),
    [("convnext_tiny_w0.05_dp1-1-1-1", "convnext"), ("deit_tiny_w0.25_dp1", "deit")],
)
def test_convnext_and_deit_recipes_train(tiny_zip, tmp_path, arch, recipe):
    """Mixup/CutMix, label smoothing, drop path, AdamW/LAMB, EMA and grad clipping all run."""
    from safetensors.torch import load_file

    from vvshub.trainer._checkpoint import load_resume

    cfg = make_config(
        arch, dataset=str(tiny_zip), samples_per_class=4, image_size=32,
        overrides={"epochs": 2, "batch_size": 6}, recipe=recipe,
    )  # fmt: skip
    assert cfg.recipe.name == recipe
    result = train(cfg, push=False, record=False, run_dir=tmp_path / recipe)
    assert len(result.epochs) == 2 and 0 <= result.acc <= 1
    published = load_file(tmp_path / recipe / "model.safetensors")
    state = load_resume(tmp_path / recipe / "resume.safetensors")
    if recipe == "convnext":  # the EMA is what is evaluated and published
        assert state.ema is not None
        assert all(published[k].equal(state.ema[k]) for k in published)
        assert not all(published[k].equal(state.model[k]) for k in published)
    else:
        assert state.ema is None
        assert all(published[k].equal(state.model[k]) for k in published)
