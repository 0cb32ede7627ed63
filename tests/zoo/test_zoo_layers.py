"""Layer names: the study's commitments map onto modules of the zoo's timm models, with the same values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from vvshub import zoo

#: commitments.json keys of the trained grid -> zoo architecture.
_KEY_TO_ARCH = {
    **{f"ResNet{n}": f"resnet{n}" for n in (18, 34, 50, 101, 152)},
    **{f"EfficientNet_B{n}": f"efficientnet_b{n}" for n in (0, 1, 2)},
    **{f"ConvNeXt_{s}": f"convnext_{s.lower()}" for s in ("Tiny", "Small", "Base", "Large")},
    **{f"DeiT_{s}": f"deit_{s.lower()}" for s in ("Tiny", "Small", "Base", "Large")},
    "AlexNet": "alexnet",
}
_FLEX = re.compile(r"^(resnetflexfilters[-_].*|convnextflex-l-\d|deitflex-l-\d)$")


def _committed_layers(reference_dir: Path) -> dict[str, set[str]]:
    data = json.loads((reference_dir / "commitments.json").read_text())
    layers: dict[str, set[str]] = {}
    for key, per_dataset in data.items():
        arch = _KEY_TO_ARCH.get(key) or (key if _FLEX.match(key) else None)
        if arch is None:
            continue
        for seeds in per_dataset.values():
            for entry in seeds.values():
                names = {
                    *entry["layers"],
                    entry["behavioral_readout_layer"],
                    *entry["region2layer"].values(),
                }
                layers.setdefault(arch, set()).update(names)
    return layers


def test_every_committed_layer_exists_in_the_zoo_model(reference_dir: Path):
    committed = _committed_layers(reference_dir)
    assert len(committed) >= 50
    for arch, names in committed.items():
        modules = dict(zoo.build(arch, device="meta").named_modules())
        for name in names:
            target = zoo.to_timm_layer(arch, name)
            assert target in modules, f"{arch}: {name} -> {target} is not a module"
            # several torchvision names can share a timm module (a block and its last norm)
            assert zoo.to_timm_layer(arch, zoo.from_timm_layer(arch, target)) == target


def test_examples():
    assert zoo.to_timm_layer("resnet18", "layer3.0.relu") == "layer3.0.act2"
    assert zoo.to_timm_layer("resnet152", "layer3.0.relu") == "layer3.0.act3"
    assert zoo.to_timm_layer("resnetflexfilters-d-1-0-0-0", "relu") == "act1"
    assert (
        zoo.to_timm_layer("convnextflex-l-2", "features.7.0.block.0") == "stages.3.blocks.0.conv_dw"
    )
    assert zoo.to_timm_layer("convnext_tiny", "features.4.0") == "stages.2.downsample.0"
    assert zoo.to_timm_layer("convnext_tiny", "classifier.1") == "head.flatten"
    assert zoo.to_timm_layer("efficientnet_b2", "features.4.0.block.3.0") == "blocks.3.0.conv_pwl"
    assert (
        zoo.to_timm_layer("efficientnet_b0", "features.1.0.block.1.fc1")
        == "blocks.0.0.se.conv_reduce"
    )
    assert zoo.to_timm_layer("deit_small", "blocks.4.norm1") == "blocks.4.norm1"
    with pytest.raises(ValueError, match="no timm module"):
        zoo.to_timm_layer("convnext_tiny", "features.9")
    with pytest.raises(ValueError, match="inner activation"):
        zoo.from_timm_layer("resnet18", "layer1.0.act1")


def _torchvision(arch: str) -> torch.nn.Module:
    import torchvision

    model = getattr(torchvision.models, arch)()
    with torch.no_grad():  # make every branch matter (ConvNeXt's layer scale starts at 1e-6)
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.5, 1.5)
    return model.eval()


def _capture(model: torch.nn.Module, names: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    modules = dict(model.named_modules())
    out: dict[str, torch.Tensor] = {}
    handles = [
        modules[n].register_forward_hook(
            lambda m, i, o, n=n: out.__setitem__(n, o.detach().clone())
        )
        for n in names
    ]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return out


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape and a.dim() == 4 and b.dim() == 4:
        b = b.permute(0, 3, 1, 2) if b.shape[1:3] == a.shape[2:4] else b
    return torch.allclose(
        a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1), atol=1e-5, rtol=1e-4
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "arch", ["resnet18", "resnet50", "convnext_tiny", "efficientnet_b0", "alexnet"]
)
def test_torchvision_weights_give_the_same_activations(arch, reference_dir: Path):
    tv = _torchvision(arch)
    ours = zoo.build(arch).eval()
    ours.load_state_dict(zoo.from_study_state_dict(arch, tv.state_dict()), strict=True)
    names = sorted(_committed_layers(reference_dir)[arch])
    x = torch.randn(2, 3, 64, 64)
    theirs = _capture(tv, names, x)
    mine = _capture(ours, [zoo.to_timm_layer(arch, n) for n in names], x)
    for name in names:
        assert _same(theirs[name], mine[zoo.to_timm_layer(arch, name)]), f"{arch}: {name}"
    with torch.no_grad():
        assert torch.allclose(tv(x), ours(x), atol=1e-5)


def test_study_state_dict_keys_load_strictly():
    import torchvision

    for arch in ("efficientnet_b2", "convnext_small"):
        sd = zoo.from_study_state_dict(arch, getattr(torchvision.models, arch)().state_dict())
        missing, unexpected = zoo.build(arch, device="meta").load_state_dict(
            sd, strict=False, assign=True
        )
        assert not missing and not unexpected
