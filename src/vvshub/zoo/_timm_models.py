"""Zoo architectures that timm lacks, registered in timm's model registry.

Importing this module registers ``alexnet``, ``cornet_s`` and ``resnet_flex`` with
``timm.models.register_model``; afterwards ``timm.create_model("cornet_s")`` works,
and so does a checkpoint whose ``config.json`` names one of them. ``vvshub`` imports
it as soon as timm is imported (see ``_hook``), so users never import it themselves.

* ``alexnet``: torchvision's layout and parameter names (``features.0`` ...
  ``classifier.6``), so the study's layer names and checkpoints apply unchanged.
* ``cornet_s``: CORnet-S (Kubilius et al. 2019) with the layout the study trained
  (``V1``, ``V2``, ``V4``, ``IT``, ``decoder``; batch norm per recurrent step).
* ``resnet_flex``: timm's own ``ResNet`` blocks and methods, for the scaled ResNets its
  ``resnet18`` entry point cannot build: a stem other than 64 channels (every width
  variant), an empty last stage, or a single residual block.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from timm.layers import create_classifier
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from timm.models.resnet import BasicBlock, Bottleneck, ResNet, make_blocks
from torch import nn

from vvshub.errors import CheckpointError, VariantError

__all__ = ["AlexNet", "CORblockS", "CORnetS", "ResNetFlex", "alexnet", "cornet_s", "resnet_flex"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _cfg(**kwargs: Any) -> dict[str, Any]:
    # The study's evaluation transform: resize 256, centre crop 224, ImageNet normalisation.
    return {
        "url": "",
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "pool_size": (7, 7),
        "crop_pct": 0.875,
        "interpolation": "bilinear",
        "mean": _IMAGENET_MEAN,
        "std": _IMAGENET_STD,
        "license": "mit",
        **kwargs,
    }


class AlexNet(nn.Module):
    """AlexNet with torchvision's layout (and so its parameter names and count, 61.1M).

    Args:
        num_classes: classifier outputs; 0 for a feature extractor.
        in_chans: input channels.
        drop_rate: dropout before each hidden fully connected layer.
        global_pool: ``avg`` (the only pooling AlexNet has; accepted for timm's factory).

    Example:
        >>> model = AlexNet(num_classes=10)
        >>> model(torch.zeros(1, 3, 224, 224)).shape
        torch.Size([1, 10])
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.5,
        global_pool: str = "avg",
    ) -> None:
        super().__init__()
        if global_pool not in ("avg", ""):
            raise VariantError(
                f"AlexNet pools with adaptive average pooling only, got {global_pool!r}"
            )
        self.num_classes = num_classes
        self.num_features = self.head_hidden_size = 4096
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=drop_rate),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=drop_rate),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes) if num_classes > 0 else nn.Identity(),
        )

    def get_classifier(self) -> nn.Module:
        """The final linear layer (timm's interface)."""
        return self.classifier[6]

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the final layer with a fresh one of ``num_classes`` outputs (0: none)."""
        self.num_classes = num_classes
        self.classifier[6] = nn.Linear(4096, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolutional feature map, (N, 256, H', W')."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool, flatten and classify a feature map; ``pre_logits`` stops before the last layer."""
        x = torch.flatten(self.avgpool(x), 1)
        x = self.classifier[:6](x)
        return x if pre_logits else self.classifier[6](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, (N, num_classes)."""
        return self.forward_head(self.forward_features(x))


class _StridedConv2d(nn.Conv2d):
    """A convolution whose stride the caller picks per call (CORnet-S reuses one kernel at stride 2
    on its first recurrent step and stride 1 afterwards)."""

    def forward(self, x: torch.Tensor, stride: int = 1) -> torch.Tensor:  # type: ignore[override]
        return F.conv2d(x, self.weight, self.bias, stride, self.padding, self.dilation, self.groups)


class CORblockS(nn.Module):
    """One recurrent CORnet-S area: a bottleneck block unrolled ``times`` steps.

    The first step downsamples by 2 (its skip path through ``skip``/``norm_skip``); every
    step has its own batch norms (``norm1_t``, ``norm2_t``, ``norm3_t``), shared convolutions.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        times: recurrent steps.
        scale: bottleneck expansion.
    """

    def __init__(self, in_channels: int, out_channels: int, times: int = 1, scale: int = 4) -> None:
        super().__init__()
        self.times = times
        hidden = out_channels * scale
        self.conv_input = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.skip = nn.Conv2d(out_channels, out_channels, kernel_size=1, stride=2, bias=False)
        self.norm_skip = nn.BatchNorm2d(out_channels)
        self.conv1 = nn.Conv2d(out_channels, hidden, kernel_size=1, bias=False)
        self.nonlin1 = nn.ReLU(inplace=True)
        self.conv2 = _StridedConv2d(hidden, hidden, kernel_size=3, padding=1, bias=False)
        self.nonlin2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False)
        self.nonlin3 = nn.ReLU(inplace=True)
        self.output = nn.Identity()
        for t in range(times):
            setattr(self, f"norm1_{t}", nn.BatchNorm2d(hidden))
            setattr(self, f"norm2_{t}", nn.BatchNorm2d(hidden))
            setattr(self, f"norm3_{t}", nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, H/2, W/2)."""
        x = self.conv_input(x)
        for t in range(self.times):
            skip = self.norm_skip(self.skip(x)) if t == 0 else x
            x = self.nonlin1(getattr(self, f"norm1_{t}")(self.conv1(x)))
            x = self.nonlin2(getattr(self, f"norm2_{t}")(self.conv2(x, stride=2 if t == 0 else 1)))
            x = getattr(self, f"norm3_{t}")(self.conv3(x))
            x = self.output(self.nonlin3(x + skip))
        return x


class CORnetS(nn.Module):
    """CORnet-S, with the module names the study (and Brain-Score) commit layers to.

    Args:
        num_classes: decoder outputs; 0 for a feature extractor.
        in_chans: input channels.
        global_pool: ``avg`` only (accepted for timm's factory).

    Example:
        >>> model = CORnetS(num_classes=10)
        >>> [name for name, _ in model.named_children()]
        ['V1', 'V2', 'V4', 'IT', 'decoder']
    """

    def __init__(
        self, num_classes: int = 1000, in_chans: int = 3, global_pool: str = "avg"
    ) -> None:
        super().__init__()
        if global_pool not in ("avg", ""):
            raise VariantError(
                f"CORnet-S pools with adaptive average pooling only, got {global_pool!r}"
            )
        self.num_classes = num_classes
        self.num_features = self.head_hidden_size = 512
        self.V1 = nn.Sequential(
            OrderedDict(
                [
                    (
                        "conv1",
                        nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False),
                    ),
                    ("norm1", nn.BatchNorm2d(64)),
                    ("nonlin1", nn.ReLU(inplace=True)),
                    ("pool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                    ("conv2", nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=1, bias=False)),
                    ("norm2", nn.BatchNorm2d(64)),
                    ("nonlin2", nn.ReLU(inplace=True)),
                    ("output", nn.Identity()),
                ]
            )
        )
        self.V2 = CORblockS(64, 128, times=2)
        self.V4 = CORblockS(128, 256, times=4)
        self.IT = CORblockS(256, 512, times=2)
        self.decoder = nn.Sequential(
            OrderedDict(
                [
                    ("avgpool", nn.AdaptiveAvgPool2d(1)),
                    ("flatten", nn.Flatten()),
                    ("linear", nn.Linear(512, num_classes) if num_classes > 0 else nn.Identity()),
                    ("output", nn.Identity()),
                ]
            )
        )
        self._init_weights()

    def _init_weights(self) -> None:
        # CORnet's own scheme: He-normal over fan-out for convolutions, unit batch norms.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def get_classifier(self) -> nn.Module:
        """The decoder's linear layer (timm's interface)."""
        return self.decoder.linear

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the decoder's linear layer with one of ``num_classes`` outputs (0: none)."""
        self.num_classes = num_classes
        self.decoder.linear = nn.Linear(512, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """IT's feature map, (N, 512, H/32, W/32)."""
        return self.IT(self.V4(self.V2(self.V1(x))))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool and classify; ``pre_logits`` returns the pooled features."""
        x = self.decoder.flatten(self.decoder.avgpool(x))
        return x if pre_logits else self.decoder.output(self.decoder.linear(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, (N, num_classes)."""
        return self.forward_head(self.forward_features(x))


class ResNetFlex(ResNet):
    """timm's ``ResNet`` with a free stem width, empty stages and single-block networks.

    timm's own ``ResNet`` fixes the plain stem at 64 channels, sizes the classifier from the
    last stage even when it is empty, and cannot spread drop-path rates over a single block.
    The study's scaled ResNets need all three: stem and stage widths scale together, an
    empty stage is skipped (its stride too) and the classifier reads the last non-empty
    stage. Module names, blocks and every method are timm's.

    Args:
        layers: blocks per stage; 0 leaves a stage empty.
        channels: planes per stage (block width before expansion).
        stem_width: channels of the 7x7 stem convolution.
        block: ``"basic"`` or ``"bottleneck"``.
        num_classes: classifier outputs; 0 for none.
        in_chans: input channels.
        global_pool: timm pooling type.
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate (linear over the blocks, as timm).
        zero_init_last: zero the last norm of each residual branch at initialisation.

    Example:
        >>> model = ResNetFlex(layers=(1, 0, 0, 0), channels=(64, 128, 256, 512))
        >>> model.fc.in_features
        64
    """

    def __init__(
        self,
        layers: tuple[int, ...] | list[int] = (2, 2, 2, 2),
        channels: tuple[int, ...] | list[int] = (64, 128, 256, 512),
        stem_width: int = 64,
        block: str = "basic",
        num_classes: int = 1000,
        in_chans: int = 3,
        global_pool: str = "avg",
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        zero_init_last: bool = True,
    ) -> None:
        nn.Module.__init__(self)
        blocks = {"basic": BasicBlock, "bottleneck": Bottleneck}
        if block not in blocks:
            raise VariantError(f"block must be 'basic' or 'bottleneck', got {block!r}")
        layers = [int(n) for n in layers]
        channels = [int(c) for c in channels]
        if len(layers) != len(channels) or not layers or min(layers) < 0 or sum(layers) == 0:
            raise VariantError(
                f"need one non-negative block count per stage and at least one block, got {layers}"
            )
        block_fn = blocks[block]
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        self.grad_checkpointing = False
        self.conv1 = nn.Conv2d(in_chans, stem_width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.feature_info = [{"num_chs": stem_width, "reduction": 2, "module": "act1"}]
        # timm spreads drop-path rates over (blocks - 1): a one-block net is built with two
        # blocks in its stage, and the second is dropped.
        single = sum(layers) == 1
        stages, stage_info = make_blocks(
            (block_fn,) * len(layers),
            tuple(channels),
            tuple(2 if single and n else n for n in layers),
            stem_width,
            drop_path_rate=drop_path_rate,
            act_layer=nn.ReLU,
            norm_layer=nn.BatchNorm2d,
        )
        for (name, stage), n in zip(stages, layers, strict=True):
            self.add_module(name, stage[:n] if single else stage)
        self.feature_info.extend(info for info, n in zip(stage_info, layers, strict=True) if n)
        last = max(i for i, n in enumerate(layers) if n > 0)
        self.num_features = channels[last] * block_fn.expansion
        self.global_pool, self.fc = create_classifier(
            self.num_features, num_classes, pool_type=global_pool
        )
        self.head_hidden_size = self.num_features * self.global_pool.feat_mult()
        self.init_weights(zero_init_last=zero_init_last)


def _no_weights(name: str, pretrained: bool, kwargs: dict[str, Any]) -> None:
    """Refuse ``pretrained=True`` when no weights are given (timm would warn and use random ones)."""
    if not pretrained:
        return
    from timm.models._builder import resolve_pretrained_cfg

    cfg = resolve_pretrained_cfg(
        name, kwargs.get("pretrained_cfg"), kwargs.get("pretrained_cfg_overlay")
    )
    if not (cfg.file or cfg.url or cfg.hf_hub_id or cfg.state_dict):
        raise CheckpointError(
            f"timm has no pretrained weights for {name!r}; load a trained zoo checkpoint with "
            "timm.create_model('hf-hub:ORG/MODEL_ID', pretrained=True) or 'local-dir:PATH', "
            "and find trained models and their checkpoints with `vvshub models ls` and "
            "`vvshub models show MODEL_ID`"
        )


default_cfgs = generate_default_cfgs(
    {
        "alexnet": _cfg(first_conv="features.0", classifier="classifier.6", pool_size=(6, 6)),
        "cornet_s": _cfg(first_conv="V1.conv1", classifier="decoder.linear"),
        "resnet_flex": _cfg(first_conv="conv1", classifier="fc"),
    }
)


@register_model
def alexnet(pretrained: bool = False, **kwargs: Any) -> AlexNet:
    """AlexNet, torchvision layout (registered by vvshub)."""
    _no_weights("alexnet", pretrained, kwargs)
    return build_model_with_cfg(AlexNet, "alexnet", pretrained, **kwargs)


@register_model
def cornet_s(pretrained: bool = False, **kwargs: Any) -> CORnetS:
    """CORnet-S, the study's layout (registered by vvshub)."""
    _no_weights("cornet_s", pretrained, kwargs)
    return build_model_with_cfg(CORnetS, "cornet_s", pretrained, **kwargs)


@register_model
def resnet_flex(pretrained: bool = False, **kwargs: Any) -> ResNetFlex:
    """timm's ResNet at any stem width, stage widths and depths (registered by vvshub).

    Takes :class:`ResNetFlex` arguments; ``block`` is ``"basic"`` or ``"bottleneck"`` (a string,
    so that ``config.json`` can hold it).
    """
    _no_weights("resnet_flex", pretrained, kwargs)
    return build_model_with_cfg(ResNetFlex, "resnet_flex", pretrained, **kwargs)
