"""Per-epoch checkpoints: safetensors weights, and a separate resume file that stays local.

A run folder holds:

* ``config.json``: the :class:`~vvshub.trainer.TrainConfig` (and its hash);
* ``manifest.json``: the exact training images, by class in draw order, and skipped ones;
* ``manifest.txt``: the sorted image ids, one per line (its sha256 is the run's
  ``manifest_sha256``; the hub publishes it beside the weights);
* ``model.safetensors``: the latest epoch's weights (what the hub gets);
* ``epochs/ep{N}.safetensors``: every epoch's weights, when ``keep_epochs``;
* ``resume.safetensors``: model, optimiser, scheduler and RNG state of the last complete
  epoch. Never pushed. Tensors in safetensors and everything else as JSON in its metadata,
  so resuming unpickles nothing;
* ``result.json``: written last, once the run is recorded; its presence means "finished".

Every file is written to a temporary name in the same folder and renamed over the old
one, so a kill at any moment leaves the previous complete epoch in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import ResumeError

if TYPE_CHECKING:
    import torch

__all__ = ["ResumeState", "atomic_write_text", "load_resume", "save_resume", "save_weights"]

RESUME_FILE = "resume.safetensors"
WEIGHTS_FILE = "model.safetensors"
RESULT_FILE = "result.json"
CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _save_tensors(
    tensors: Mapping[str, torch.Tensor], path: Path, metadata: dict[str, str]
) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    try:
        save_file(dict(tensors), str(tmp), metadata=metadata)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # safetensors creates files private to the owner; these are shared
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _plain(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses views that share storage; a contiguous CPU copy is always writable.
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def save_weights(
    state_dict: Mapping[str, torch.Tensor], path: Path, *, metadata: dict[str, str]
) -> Path:
    """Save a model's state dict as safetensors, atomically."""
    _save_tensors(_plain(state_dict), path, metadata)
    return path


class ResumeState:
    """What a run needs to continue bitwise where it stopped.

    Attributes:
        epoch: epochs completed.
        model: the model's state dict.
        ema: the EMA model's state dict, if the recipe keeps one.
        optimizer: the optimiser's state dict.
        scheduler: the LR scheduler's state dict.
        rng: ``{"torch": ByteTensor, "cuda": [ByteTensor ...]}``.
        history: per-epoch metrics so far (plain dicts).
        extra: anything else JSON-able (config hash, manifest sha256, wall time).
    """

    def __init__(
        self,
        *,
        epoch: int,
        model: Mapping[str, torch.Tensor],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any],
        rng: dict[str, Any],
        history: list[dict[str, Any]],
        ema: Mapping[str, torch.Tensor] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.epoch = epoch
        self.model = model
        self.ema = ema
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.rng = rng
        self.history = history
        self.extra = extra or {}


def save_resume(state: ResumeState, path: Path) -> Path:
    """Write a resume file, atomically (tensors in safetensors, the rest as JSON metadata)."""
    import torch

    tensors: dict[str, torch.Tensor] = {}
    for k, v in _plain(state.model).items():
        tensors[f"model/{k}"] = v
    if state.ema is not None:
        for k, v in _plain(state.ema).items():
            tensors[f"ema/{k}"] = v
    opt_state: dict[str, dict[str, Any]] = {}
    for pid, entries in state.optimizer["state"].items():
        opt_state[str(pid)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                key = f"optim/{pid}/{name}"
                tensors[key] = value.detach().to("cpu").contiguous().clone()
                opt_state[str(pid)][name] = {"tensor": key}
            else:
                opt_state[str(pid)][name] = {"value": value}
    groups = []  # some optimisers (timm's LAMB) keep tensors in their param groups too
    for g, group in enumerate(state.optimizer["param_groups"]):
        plain = {}
        for name, value in group.items():
            if isinstance(value, torch.Tensor):
                key = f"optim_group/{g}/{name}"
                tensors[key] = value.detach().to("cpu").contiguous().clone()
                plain[name] = {"tensor": key}
            else:
                plain[name] = {"value": value}
        groups.append(plain)
    tensors["rng/torch"] = state.rng["torch"].clone()
    for i, s in enumerate(state.rng.get("cuda", [])):
        tensors[f"rng/cuda/{i}"] = s.clone()
    meta = {
        "epoch": state.epoch,
        "optimizer_state": opt_state,
        "param_groups": groups,
        "scheduler": state.scheduler,
        "history": state.history,
        "n_cuda_rng": len(state.rng.get("cuda", [])),
        "has_ema": state.ema is not None,
        "extra": state.extra,
    }
    _save_tensors(tensors, path, {"vvshub_resume": json.dumps(meta)})
    return path


def load_resume(path: Path) -> ResumeState:
    """Read a resume file written by :func:`save_resume`.

    Raises:
        ResumeError: the file is missing or unreadable.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.exists():
        raise ResumeError(
            f"no resume state at {str(path)!r}: this run has not finished an epoch yet; "
            "start it without --resume"
        )
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads((fh.metadata() or {})["vvshub_resume"])
    except (SafetensorError, KeyError, ValueError, OSError) as exc:
        raise ResumeError(
            f"resume file {str(path)!r} is unreadable ({exc}); delete it to start over"
        ) from None
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}
    ema = (
        {k[4:]: v for k, v in tensors.items() if k.startswith("ema/")} if meta["has_ema"] else None
    )
    opt_state: dict[int, dict[str, Any]] = {}
    for pid, entries in meta["optimizer_state"].items():
        opt_state[int(pid)] = {
            name: tensors[e["tensor"]] if "tensor" in e else e["value"]
            for name, e in entries.items()
        }
    groups = [
        {name: tensors[e["tensor"]] if "tensor" in e else e["value"] for name, e in g.items()}
        for g in meta["param_groups"]
    ]
    rng = {
        "torch": tensors["rng/torch"],
        "cuda": [tensors[f"rng/cuda/{i}"] for i in range(meta["n_cuda_rng"])],
    }
    return ResumeState(
        epoch=int(meta["epoch"]),
        model=model,
        ema=ema,
        optimizer={"state": opt_state, "param_groups": groups},
        scheduler=meta["scheduler"],
        rng=rng,
        history=meta["history"],
        extra=meta["extra"],
    )
