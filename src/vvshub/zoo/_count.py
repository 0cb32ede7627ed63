"""Parameter and compute counts under the reference study's conventions.

The study counted with fvcore on models in training mode. vvshub reproduces that
count with forward hooks on modules, so it needs neither fvcore nor a tracer and it
works on the ``meta`` device (shapes only, no arithmetic): counting ConvNeXt-L or
DeiT-L takes well under a second.

Convention ``CONVENTION`` (stored with every count in the catalog), per image:

* convolution: output elements x (input channels / groups) x kernel area;
* linear: output elements x input features (tokens included);
* batch, layer, group and instance norm: 5 operations per input element
  (4 without an affine transform), as fvcore counts them in training mode;
* adaptive average pooling, including the squeeze of squeeze-and-excitation
  blocks and timm's fast global pooling: one per input element;
* nothing else: no biases, activations, max pooling, residual additions, layer
  scales, and no attention products (q·kᵀ, attention·v). The study's fvcore run saw
  timm's fused attention as one unsupported op and left it out; vvshub does the same
  so that N, D and FLOPs mean one thing across the catalog.

``macs`` is that sum; ``flops = 2 * macs``; training compute is
``3 * flops * n_samples_seen`` (forward plus backward), with the views doubled for
SimCLR and adversarial training.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from vvshub.constants import COUNT_CONVENTION
from vvshub.errors import CountError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["CONVENTION", "Count", "count_module", "train_flops"]

#: Name of the counting convention, stored with every count (one name, in vvshub.constants).
CONVENTION = COUNT_CONVENTION

TrainingMethod = Literal["supervised", "simclr", "adversarial", "dino"]
_VIEWS = {"supervised": 1, "dino": 1, "simclr": 2, "adversarial": 2}


@dataclass(frozen=True)
class Count:
    """Parameters and compute of one model for one image.

    Attributes:
        n_params: number of parameters (shared tensors counted once).
        macs: multiply-accumulates for one image (see the module docstring).
        flops: ``2 * macs``.
        image_size: side of the square input the count refers to.
        convention: the counting convention (``CONVENTION``).
    """

    n_params: int
    macs: int
    flops: int
    image_size: int
    convention: str = CONVENTION

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Count:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def _counted_types() -> tuple[tuple[type, ...], ...]:
    from torch import nn

    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    linears = (nn.Linear,)
    norms = (
        nn.modules.batchnorm._BatchNorm,
        nn.GroupNorm,
        nn.LayerNorm,
        nn.modules.instancenorm._InstanceNorm,
    )
    pools: tuple[type, ...] = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
    try:  # timm pools with tensor.mean inside these modules, where no nn pooling module exists
        from timm.layers.adaptive_avgmax_pool import FastAdaptiveAvgPool
        from timm.models._efficientnet_blocks import SqueezeExcite

        pools = (*pools, FastAdaptiveAvgPool, SqueezeExcite)
    except ImportError:  # pragma: no cover - timm is a dependency
        pass
    return convs, linears, norms, pools


def _norm_factor(module: Any) -> int:
    affine = getattr(module, "affine", None)
    if affine is None:
        affine = getattr(module, "elementwise_affine", True)
    return 5 if affine else 4


def count_module(model: nn.Module, image_size: int, *, in_chans: int = 3) -> Count:
    """Count ``model``'s parameters and the MACs of one ``image_size`` x ``image_size`` image.

    A model on the ``meta`` device is counted from shapes alone. A real model runs one
    forward pass in eval mode without gradients (so its batch-norm statistics stay as they
    are) and is returned to its previous mode.

    Args:
        model: any torch module taking (N, C, H, W) images.
        image_size: input side in pixels.
        in_chans: input channels.

    Returns:
        The count.
    """
    import torch

    if not isinstance(image_size, int) or image_size <= 0:
        raise CountError(f"image_size must be a positive integer, got {image_size!r}")
    convs, linears, norms, pools = _counted_types()
    total = 0

    def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> None:
        nonlocal total
        if isinstance(module, convs):
            kernel = math.prod(module.kernel_size)
            total += output.numel() * (module.in_channels // module.groups) * kernel
        elif isinstance(module, linears):
            total += output.numel() * module.in_features
        elif isinstance(module, norms):
            total += inputs[0].numel() * _norm_factor(module)
        elif isinstance(module, pools):
            total += inputs[0].numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (*convs, *linears, *norms, *pools))
    ]
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            try:
                model(torch.zeros(1, in_chans, image_size, image_size, device=device, dtype=dtype))
            except (AssertionError, RuntimeError) as exc:  # a ViT's fixed size, a too-small input
                name = getattr(model, "vvshub_arch", type(model).__name__)
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise CountError(
                    f"{name} cannot run on {image_size}x{image_size} images ({first_line}); "
                    "omit --image-size for the architecture's own input size"
                ) from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    n_params = sum(p.numel() for p in model.parameters())
    return Count(
        n_params=int(n_params), macs=int(total), flops=2 * int(total), image_size=image_size
    )


def train_flops(
    flops: float, n_samples_seen: float, *, method: TrainingMethod = "supervised"
) -> float:
    """Training compute: ``3 * flops * n_samples_seen``, doubled for two-view methods.

    Args:
        flops: forward FLOPs of one image (``Count.flops``).
        n_samples_seen: images seen in training (``n_samples * n_epochs``).
        method: ``supervised`` and ``dino`` count one view; ``simclr`` and ``adversarial``
            two (the study doubled their MACs).

    Returns:
        Total training FLOPs (forward plus backward, the backward pass counted as two forwards).

    Example:
        >>> train_flops(3_653_033_984, 1_281_167 * 100)
        1.4040439770537984e+18
    """
    if method not in _VIEWS:
        raise CountError(f"method must be one of {', '.join(_VIEWS)}, got {method!r}")
    if flops < 0 or n_samples_seen < 0:
        raise CountError(
            f"flops and n_samples_seen must be >= 0, got {flops!r} and {n_samples_seen!r}"
        )
    return 3.0 * float(flops) * _VIEWS[method] * float(n_samples_seen)
