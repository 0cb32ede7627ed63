"""The repo format: ``model.safetensors`` + a timm-readable ``config.json`` with a ``vvshub`` block.

``config.json`` is what ``timm.create_model("hf-hub:ORG/NAME", pretrained=True)``
reads: ``architecture`` (a name in timm's registry), ``num_classes``,
``model_args`` (the zoo's recipe, which is how width/depth variants rebuild) and
``pretrained_cfg`` (input size and normalisation). The ``vvshub`` block carries
the scaling metadata; a field nobody knows is ``null`` (the card says "unknown").
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub import ids
from vvshub.errors import CheckpointError, UnknownArchitectureError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "build_config",
    "load_weights",
    "save_weights",
]

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
#: Version of the ``vvshub`` block; bump when its meaning changes.
FORMAT_VERSION = 1

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Classes and training images of the data sets vvshub knows (DESIGN.md section 4; CIFAR-10's
#: training split). Used only to derive n_samples when a push does not say.
DATASETS: dict[str, tuple[int, int]] = {
    "imagenet": (1000, 1_281_167),
    "ecoset": (565, 1_444_911),
    "cifar10": (10, 50_000),
}
#: ``vvshub`` block fields, in the order the card shows them.
META_FIELDS = (
    "model_id",
    "short_id",
    "arch",
    "arch_family",
    "width",
    "depth",
    "dataset",
    "samples_per_class",
    "n_samples",
    "n_epochs",
    "n_samples_seen",
    "epoch",
    "seed",
    "n_params",
    "macs",
    "flops",
    "total_flops",
    "count_convention",
    "acc",
    "manifest_sha256",
)
#: Fields a caller may pass in ``metadata`` (the rest are derived).
_SETTABLE = frozenset(META_FIELDS) | {"training_config", "arch_family"}


def _canonical_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()


def _state_signature(sd: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in sd.items()}


def _timm_description(model: nn.Module, arch: str | None) -> tuple[str, str, dict[str, Any]]:
    """(canonical arch, timm architecture, model_args) that rebuild ``model``'s exact shapes."""
    from vvshub import zoo

    num_classes = _num_classes(model)
    want = _state_signature(model.state_dict())
    tried: list[str] = []
    candidates: list[tuple[str, str, dict[str, Any]]] = []
    for name in (arch, getattr(model, "vvshub_arch", None)):
        if not name:
            continue
        try:
            r = zoo.recipe(name)
        except (UnknownArchitectureError, ValueError):
            continue
        candidates.append((r.arch, r.timm_name, r.to_dict()["model_args"]))
    timm_arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    if timm_arch:
        candidates.append((arch or timm_arch, timm_arch, {}))
    for canonical, timm_name, args in candidates:
        tried.append(timm_name)
        try:
            signature = _meta_signature(timm_name, num_classes, json.dumps(args, sort_keys=True))
        except Exception as exc:  # timm's errors vary; one bad candidate must not hide the next
            logger.debug("candidate %s failed: %s", timm_name, exc)
            continue
        if signature == want:
            return canonical, timm_name, args
    raise CheckpointError(
        f"cannot describe this {type(model).__name__} so that timm rebuilds it (tried "
        f"{', '.join(tried) or 'no architecture'}); push a zoo or timm model, or pass arch= "
        "with the zoo architecture it was built from"
    )


@functools.lru_cache(maxsize=64)
def _meta_signature(timm_name: str, num_classes: int, args_json: str) -> dict[str, tuple[int, ...]]:
    """Parameter/buffer shapes of a timm model built on the meta device (cached: ~0.3 s each)."""
    import timm
    import torch

    from vvshub.zoo import register_timm_models

    register_timm_models()
    with torch.device("meta"):
        shell = timm.create_model(
            timm_name, pretrained=False, num_classes=num_classes, **json.loads(args_json)
        )
    return _state_signature(shell.state_dict())


@functools.lru_cache(maxsize=64)
def _arch_count(arch: str) -> Any:
    """The study's counts of ``arch`` (1000 classes; cached, they are pure functions of it)."""
    from vvshub import zoo

    return zoo.count(arch)


def _num_classes(model: nn.Module) -> int:
    n = getattr(model, "num_classes", None)
    if isinstance(n, int):
        return n
    raise CheckpointError(
        f"cannot tell the number of classes of this {type(model).__name__}: it has no "
        "num_classes attribute; build it with timm or vvshub.zoo.build"
    )


def build_config(
    model: nn.Module,
    mid: ids.ModelId,
    *,
    epoch: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    version: str,
) -> dict[str, Any]:
    """The ``config.json`` of ``model`` published as ``mid``.

    Args:
        model: a timm or zoo model.
        mid: its parsed id (arch, data set, samples per class and seed come from it unless
            ``metadata`` says otherwise).
        epoch: the training epoch these weights are from, if known.
        metadata: known scaling metadata (``n_epochs``, ``acc``, ``manifest_sha256``,
            ``training_config`` …); unknown keys are refused.
        version: the vvshub version writing it.

    Raises:
        CheckpointError: the model cannot be described for timm, or ``metadata`` has unknown keys.
    """
    from vvshub import zoo

    meta = dict(metadata or {})
    unknown = sorted(set(meta) - _SETTABLE)
    if unknown:
        raise CheckpointError(
            f"unknown metadata field(s) {unknown}; valid: {', '.join(sorted(_SETTABLE))}"
        )
    arch, timm_name, model_args = _timm_description(model, meta.get("arch") or mid.arch)
    num_classes = _num_classes(model)
    try:
        recipe = zoo.recipe(arch)
        family, width, depth, size = recipe.family, recipe.width, recipe.depth, recipe.input_size
        counted = _arch_count(arch)
    except (UnknownArchitectureError, ValueError):
        family, width, depth, size = None, None, None, 224
        counted = zoo.count(model, size)
    spc = mid.samples_per_class
    classes, full = DATASETS.get(mid.dataset or "", (None, None))
    n_samples = meta.get("n_samples")
    if n_samples is None and mid.regime == "trained":
        n_samples = spc * classes if (spc and classes) else (full if not spc else None)
    n_epochs = meta.get("n_epochs")
    seen = meta.get("n_samples_seen")
    if seen is None and n_samples is not None and n_epochs is not None:
        seen = int(n_samples) * int(n_epochs)
    total = meta.get("total_flops")
    if total is None and seen is not None:
        method = (
            "simclr"
            if mid.ssl_method == "simclr"
            else ("adversarial" if mid.adv_method else "supervised")
        )
        total = zoo.train_flops(counted.flops, seen, method=method)
    block: dict[str, Any] = {
        "model_id": mid.study_id(),
        "short_id": mid.short_id(),
        "arch": arch,
        "arch_family": meta.get("arch_family") or family,
        "width": width,
        "depth": list(depth) if depth is not None else None,
        "dataset": mid.dataset,
        "samples_per_class": spc,
        "n_samples": n_samples,
        "n_epochs": n_epochs,
        "n_samples_seen": seen,
        "epoch": epoch,
        "seed": mid.seed,
        "n_params": counted.n_params,
        "macs": counted.macs,
        "flops": counted.flops,
        "total_flops": total,
        "count_convention": counted.convention,
        "acc": meta.get("acc"),
        "manifest_sha256": meta.get("manifest_sha256"),
        "training_config": meta.get("training_config"),
        "vvshub_version": version,
        "format_version": FORMAT_VERSION,
    }
    src = dict(getattr(model, "pretrained_cfg", None) or {})
    pretrained_cfg: dict[str, Any] = {
        k: src[k] for k in ("first_conv", "classifier", "pool_size", "fixed_input_size") if k in src
    }
    pretrained_cfg.update(
        tag="vvshub",
        custom_load=False,
        input_size=[3, size, size],
        interpolation="bilinear",
        crop_pct=0.875,
        crop_mode="center",
        mean=list(IMAGENET_MEAN),
        std=list(IMAGENET_STD),
        num_classes=num_classes,
        license="other",
    )
    for key in ("pool_size",):
        if key in pretrained_cfg and isinstance(pretrained_cfg[key], tuple):
            pretrained_cfg[key] = list(pretrained_cfg[key])
    return {
        "architecture": timm_name,
        "num_classes": num_classes,
        "num_features": getattr(model, "num_features", None),
        "model_args": model_args,
        "pretrained_cfg": pretrained_cfg,
        "vvshub": block,
    }


def config_bytes(config: Mapping[str, Any]) -> bytes:
    """``config.json`` as written to a repo (stable key order, UTF-8, trailing newline)."""
    return _canonical_json(config)


def save_weights(model: nn.Module, path: Path) -> None:
    """Write ``model``'s state dict as safetensors at ``path``."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    seen: dict[int, str] = {}
    for key, tensor in list(tensors.items()):  # tied weights: safetensors refuses shared storage
        ptr = tensor.untyped_storage().data_ptr()
        if ptr and ptr in seen:
            tensors[key] = tensor.clone()
        seen[ptr] = key
    save_file(tensors, str(path), metadata={"format": "pt"})


def load_weights(path: Path, expected_sha256: str) -> dict[str, Any]:
    """Read a safetensors file whose bytes hash to ``expected_sha256``; refuse any other.

    The bytes are hashed and parsed from one read, so the file cannot change in between.
    """
    from safetensors.torch import load

    data = Path(path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        from vvshub.errors import IntegrityError

        raise IntegrityError(
            f"{path} fails its sha256 check (expected {expected_sha256}, got {actual}): "
            "the file is tampered or truncated; it was not loaded",
            path=str(path),
            expected=expected_sha256,
            actual=actual,
        )
    return load(data)
