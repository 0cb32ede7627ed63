"""Building zoo models: every family, variants, bad input, timm round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from vvshub import zoo
from vvshub.errors import UnknownArchitectureError, VariantError


@pytest.mark.parametrize(
    ("arch", "size"),  # ViTs take their fixed size; CNNs any
    [("resnet18", 96), ("efficientnet_b0", 96), ("convnextflex-l-3", 96), ("deitflex-l-3", 224),
     ("alexnet", 96), ("cornet_s", 96), ("resnetflexfilters-d-1-0-0-0", 96),
     ("resnetflexfilters-d-1-1-1-0", 96), ("resnetflexfilters-f-1-16-20-19", 96)],
)  # fmt: skip
def test_build_runs_forward_and_backward(arch, size):
    model = zoo.build(arch, num_classes=7)
    assert model.training
    out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_build_accepts_model_ids():
    by_id = zoo.build("resnet18_imagenet_10_seed-1", device="meta")
    by_short = zoo.build("resnet18_w0.5_d30", device="meta")
    assert by_id.vvshub_arch == "resnet18"
    assert by_short.vvshub_arch == "resnet18_w0.5"
    assert zoo.count(by_short).n_params == zoo.count("resnet18_w0.5").n_params


def test_num_classes_changes_only_the_classifier():
    a = zoo.count(zoo.build("resnet18", device="meta", num_classes=1000))
    b = zoo.count(zoo.build("resnet18", device="meta", num_classes=565))
    assert a.n_params - b.n_params == (1000 - 565) * (512 + 1)


def test_study_widths_follow_the_published_formulas():
    assert zoo.study_widths("f", 0) == (128, 128, 256, 512, 1024)
    assert zoo.study_widths("f", 19) == (8, 8, 16, 32, 64)
    assert zoo.study_widths("wr", 0) == (256, 256, 512, 1024, 2048)
    assert zoo.study_widths("convnext", 2) == (24, 40, 80, 160)
    assert zoo.study_widths("deit", 0) == (228,)
    with pytest.raises(VariantError):
        zoo.study_widths("convnext", 4)


def test_depth_variant_skips_empty_stages():
    model = zoo.build("resnetflexfilters-d-1-0-1-0", device="meta")
    assert len(model.layer2) == 0 and len(model.layer4) == 0
    assert model.fc.in_features == 256  # reads the last non-empty stage


def test_plain_timm_architecture_where_timm_can_build_it():
    assert zoo.recipe("resnetflexfilters-d-1-2-2-2").timm_name == "resnet18"
    assert zoo.recipe("resnetflexfilters-f-1-16-20-3").timm_name == "resnet_flex"  # stem != 64
    assert zoo.recipe("convnextflex-l-0").timm_name == "convnext_tiny"
    assert zoo.recipe("deitflex-l-1").timm_name == "deit3_small_patch16_224"
    assert zoo.recipe("deit_tiny").model_args == {
        "init_values": 1e-4,
        "embed_dim": 192,
        "num_heads": 3,
    }


# vvshub's continuous rules (documented in docs/readme_zoo.md), each checked on its own.


def test_resnet18_at_half_width():
    r = zoo.recipe("resnet18_w0.5")
    assert r.timm_name == "resnet_flex"  # stem 32 != 64
    assert (r.model_args["stem_width"], r.model_args["channels"]) == (32, [32, 64, 128, 256])
    assert zoo.count(zoo.build("resnet18_w0.5", device="meta")).n_params == 3_055_880


def test_resnet50_with_one_block_per_stage():
    model = zoo.build("resnet50_dp1-1-1-1", device="meta")
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [1, 1, 1, 1]
    # by hand: stem, then one bottleneck (with its downsample) per stage, then the classifier
    total, cin = 3 * 64 * 49 + 2 * 64, 64
    for planes in (64, 128, 256, 512):
        out = 4 * planes
        total += cin * planes + planes * planes * 9 + planes * out  # conv1, conv2, conv3
        total += 2 * planes + 2 * planes + 2 * out  # their batch norms
        total += cin * out + 2 * out  # downsample conv and norm
        cin = out
    total += 2048 * 1000 + 1000
    assert zoo.count(model).n_params == total


def test_convnext_tiny_at_half_width():
    r = zoo.recipe("convnext_tiny_w0.5")
    assert r.model_args["dims"] == [48, 96, 192, 384]
    assert r.model_args["depths"] == [3, 3, 9, 3]
    model = zoo.build("convnext_tiny_w0.5", device="meta")
    assert model.head.fc.in_features == 384


def test_deit_small_at_half_width_and_depth():
    import timm

    r = zoo.recipe("deit_small_w0.5_dp6")
    assert (r.model_args["embed_dim"], r.model_args["depth"], r.model_args["num_heads"]) == (
        192,
        6,
        6,
    )
    model = zoo.build("deit_small_w0.5_dp6", device="meta")
    assert len(model.blocks) == 6
    with torch.device("meta"):
        plain = timm.create_model(
            "deit3_small_patch16_224", embed_dim=192, depth=6, num_heads=6, init_values=1e-4
        )
    assert zoo.count(model).n_params == sum(p.numel() for p in plain.parameters())


def test_resnet18_w05_parameters_by_hand():
    widths = [32, 32, 64, 128, 256]
    stem, c = widths[0], widths[1:]
    conv = 3 * stem * 49 + 2 * stem
    total = conv
    inplanes = stem
    for i, planes in enumerate(c):
        for b in range(2):
            cin = inplanes if b == 0 else planes
            total += cin * planes * 9 + planes * planes * 9 + 4 * planes
            if b == 0 and (i > 0 or inplanes != planes):
                total += cin * planes + 2 * planes
        inplanes = planes
    total += c[-1] * 1000 + 1000
    assert zoo.count("resnet18_w0.5").n_params == total


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("resnet18_w0", VariantError),
        ("resnet18_dp0-0-0-0", VariantError),
        ("resnet18_dp1-2", VariantError),
        ("convnext_tiny_dp3-0-9-3", VariantError),
        ("cornet_s_w0.5", VariantError),
        ("efficientnet_b0_w0.5", VariantError),
        ("resnet181", UnknownArchitectureError),
        ("", UnknownArchitectureError),
    ],
)
def test_bad_input_fails_before_allocating(text, error, monkeypatch):
    import timm

    def no_build(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("a model was built")

    monkeypatch.setattr(timm, "create_model", no_build)
    with pytest.raises(error):
        zoo.build(text)


def test_negative_depth_is_a_variant_error():
    from vvshub.zoo._registry import BASES, _check_depth

    with pytest.raises(VariantError, match="non-negative"):
        _check_depth("x", BASES["resnet18"], (1, -1, 1, 1))


def test_unknown_architecture_lists_the_closest_names():
    with pytest.raises(UnknownArchitectureError) as info:
        zoo.build("resnet181")
    assert "resnet18" in info.value.suggestions
    assert "resnet18" in str(info.value)
    with pytest.raises(LookupError):  # also the builtin
        zoo.count("convnxt_tiny")


def test_timm_names_of_the_reference_build_too():
    assert zoo.recipe("vit_b_16").timm_name == "vit_base_patch16_224"
    assert zoo.count("resnet18-adamw-01") == zoo.count("resnet18")


def test_seeded_builds_are_reproducible():
    for arch in ("deitflex-l-3", "convnextflex-l-3", "resnet18"):
        torch.manual_seed(3)
        a = zoo.build(arch)
        torch.manual_seed(3)
        b = zoo.build(arch)
        assert all(
            x.equal(y)
            for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
        )


def test_fast_init_matches_timms_distributions():
    import timm

    torch.manual_seed(0)
    ours = zoo.build("deit_small")
    ref = timm.create_model("deit3_small_patch16_224", init_values=1e-4)
    for (name, a), (name_ref, b) in zip(
        ours.named_parameters(), ref.named_parameters(), strict=True
    ):
        assert name == name_ref and a.shape == b.shape
        a, b = a.detach(), b.detach()
        assert float(a.std()) == pytest.approx(float(b.std()), abs=2e-3), name
        assert float(a.mean()) == pytest.approx(float(b.mean()), abs=2e-3), name
    assert torch.all(ours.blocks[0].ls1.gamma == 1e-4)


_SNIPPET = """
import json, sys, tempfile
import {module}
import timm, torch
out = {}
for name in ("cornet_s", "alexnet", "resnet_flex"):
    out[name] = sum(p.numel() for p in timm.create_model(name).parameters())
# a zoo checkpoint written the way the hub writes it loads by name in timm
from vvshub import zoo
r = zoo.recipe("resnetflexfilters-f-1-16-20-15")
model = zoo.build(r.arch)
d = tempfile.mkdtemp()
timm.models.save_for_hf(model, d, model_config={"architecture": r.timm_name, "num_classes": 1000},
                        model_args=dict(r.model_args), safe_serialization=True)
again = timm.create_model("local-dir:" + d, pretrained=True)
x = torch.randn(1, 3, 64, 64)
model.eval(); again.eval()
out["same_output"] = bool(torch.allclose(model(x), again(x)))
out["params"] = sum(p.numel() for p in again.parameters())
print(json.dumps(out))
"""


@pytest.mark.parametrize("module", ["vvshub", "vvshub.zoo"])
def test_zoo_models_load_in_timm_after_import_vvshub(module):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = _SNIPPET.replace("{module}", module)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["cornet_s"] == 53_416_616
    assert out["alexnet"] == 61_100_840
    assert out["same_output"] is True
    assert out["params"] == 670_887


def test_import_vvshub_zoo_does_not_import_torch():
    code = "import sys, vvshub.zoo; print('torch' in sys.modules, 'timm' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "False"]


def test_pretrained_without_weights_is_refused():
    import timm

    zoo.register_timm_models()
    with pytest.raises(ValueError, match="no pretrained weights"):
        timm.create_model("cornet_s", pretrained=True)


def test_width_and_depth_keywords():
    assert zoo.variant_name("resnet18", width=0.5) == "resnet18_w0.5"
    assert zoo.variant_name("resnet18", depth=[1, 1, 1, 1]) == "resnetflexfilters-d-1-1-1-1"
    assert zoo.variant_name("resnet18", width=1.73) == "resnetflexfilters-f-1-16-20-1"  # snaps
    model = zoo.build("convnext_tiny", width=0.5, depth=(2, 2, 2, 2), device="meta")
    assert model.vvshub_arch == "convnext_tiny_w0.5_dp2-2-2-2"
    for width, depth in [(0.0, None), (-1.0, None), (None, (1, -1, 1, 1)), (None, (0, 0, 0, 0)),
                         (None, ()), (None, (1.5, 1, 1, 1))]:  # fmt: skip
        with pytest.raises(VariantError):
            zoo.build("resnet18", width=width, depth=depth)
