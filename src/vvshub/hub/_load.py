"""Turn a verified repo folder into a torch module: timm builds it from ``config.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import CheckpointError
from vvshub.hub._format import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, load_weights

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["PullInfo", "build_model", "read_config"]


@dataclass(frozen=True)
class PullInfo:
    """Where a pulled model came from (attached to it as ``model.hub_info``).

    Attributes:
        repo_id: ``ORG/NAME``.
        revision: the revision asked for (``main``, ``ep10`` …).
        commit: the commit it resolved to.
        sha256: sha256 of ``model.safetensors`` (checked before loading).
        source: ``local`` or ``hf://ORG`` at an endpoint.
        path: the verified cache folder.
    """

    repo_id: str
    revision: str
    commit: str
    sha256: str
    source: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is missing or not JSON ({exc}); pull it again") from None
    if not isinstance(config, dict) or "architecture" not in config:
        raise CheckpointError(f"{path} has no 'architecture'; it is not a timm config")
    return config


def build_model(
    folder: Path, sha256: str, *, device: str | torch.device | None = None
) -> nn.Module:
    """Build the model of ``folder`` and load its weights, after checking their sha256.

    The module is created on the meta device and the verified tensors are assigned to it
    (no random initialisation is wasted); non-persistent buffers fall back to a normal build.

    Raises:
        IntegrityError: the weights do not hash to ``sha256`` (nothing is loaded).
        CheckpointError: the weights do not fit the architecture of ``config.json``.
    """
    import timm
    import torch

    from vvshub.zoo import register_timm_models

    config = read_config(folder)
    state = load_weights(Path(folder) / WEIGHTS_FILE, sha256)
    register_timm_models()
    kwargs = dict(config.get("model_args") or {})
    num_classes = config.get("num_classes")
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    try:
        with torch.device("meta"):
            model = timm.create_model(config["architecture"], pretrained=False, **kwargs)
        model.load_state_dict(state, strict=True, assign=True)
        if any(t.is_meta for t in list(model.parameters()) + list(model.buffers())):
            model = timm.create_model(config["architecture"], pretrained=False, **kwargs)
            model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"the weights in {folder} do not fit {config['architecture']!r} "
            f"with model_args {config.get('model_args')}: {first}"
        ) from None
    if device is not None:
        model = model.to(device)
    model.eval()
    pretrained_cfg = dict(getattr(model, "pretrained_cfg", None) or {})
    pretrained_cfg.update(config.get("pretrained_cfg") or {})
    model.pretrained_cfg = pretrained_cfg
    model.vvshub_config = config  # type: ignore[assignment]
    card = Path(folder) / CARD_FILE
    model.vvshub_card = card.read_text() if card.is_file() else None  # type: ignore[assignment]
    return model
